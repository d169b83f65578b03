from gesture_audit.cli import main

main()
