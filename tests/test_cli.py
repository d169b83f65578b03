"""The command line's own wiring: every command module loads, and one that cannot is an error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gesture_audit.cli import COMMANDS


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_module_imports(name):
    import importlib

    importlib.import_module(f"gesture_audit.commands.{name}")


@pytest.mark.timeout(120)
def test_a_command_that_cannot_load_says_so():
    """A command module that fails to import (here: made to, in a fresh interpreter) stays a command
    that exits 3 with one line saying why, never a missing command or a traceback."""
    script = (
        "import sys; sys.modules['gesture_audit.commands.report'] = None\n"
        "from gesture_audit.cli import main\nsys.argv = ['gesture-audit', 'report', 'x']\nmain()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "the report command cannot load" in done.stderr and "Traceback" not in done.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "gesture_audit", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": ""},
    )
    assert all(name in listed.stdout for name in COMMANDS)
