"""Classification: finger states from landmarks, then the sign they make."""
