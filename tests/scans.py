"""`gesture-audit scan` in its own process, stopped mid-way: what the resume tests start from."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path


def stop_scan(args: list, out: Path, rows: int, *, stop: int = signal.SIGKILL, seconds: float = 300, env=None) -> int:
    """Run `gesture-audit scan ARGS --out OUT`, send it `stop` once OUT/findings.jsonl has `rows` lines
    (or after `seconds`), and return its exit status. The scan must not end before that."""
    findings = out / "findings.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gesture_audit", "scan", *map(str, args), "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if findings.exists() and findings.read_bytes().count(b"\n") >= rows:
                break
            assert proc.poll() is None, "the scan ended before it could be stopped"
            time.sleep(0.02)
        proc.send_signal(stop)
    finally:
        proc.wait(timeout=60)
    return proc.returncode
