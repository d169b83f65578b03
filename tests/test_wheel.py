"""Install without the repository: build the wheel, install it into a fresh venv outside the repo,
check a committed sample photo from a folder outside the repo.

The fresh venv sees the base interpreter's site-packages (where CI's heavy dependencies may already
be; pip fetches what is missing), never this repository: the test skips if the base interpreter can
already import gesture_audit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "v_7_00000.jpg"  # a rendered V sign: ballot 02 under Pilpres 2024


def run(*args, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GESTURE_AUDIT_MODELS", "VIRTUAL_ENV")}
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.mark.timeout(900)
def test_wheel_installs_and_checks_a_photo_outside_the_repo(tmp_path):
    base = getattr(sys, "_base_executable", sys.executable)
    probe = subprocess.run([base, "-c", "import gesture_audit"], cwd=tmp_path, capture_output=True)
    if probe.returncode == 0:
        pytest.skip(f"{base} already imports gesture_audit: a venv on it would not show what the wheel holds")

    # Build from a copy of the sources, so nothing (build/, *.egg-info) is written into the repo.
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "artifacts", ".pytest_cache"
        ),
    )
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        tmp_path / "dist",
        source,
        cwd=tmp_path,
    )
    wheel = next((tmp_path / "dist").glob("gesture_audit-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    manifest = json.loads(zipfile.ZipFile(wheel).read("gesture_audit/models/manifest.json"))
    assert {f"gesture_audit/models/{name}" for name in manifest["files"]} <= names
    assert "gesture_audit/py.typed" in names  # typed for the callers' type checkers (PEP 561)
    assert not any(n.startswith(("tools/", "tests/", "gesture_audit/classify/poses")) for n in names)  # dev-only

    venv = tmp_path / "venv"
    run(base, "-m", "venv", "--system-site-packages", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel, cwd=tmp_path)

    elsewhere = tmp_path / "desk"
    elsewhere.mkdir()
    photo = shutil.copy(SAMPLE, elsewhere / "foto.jpg")
    where = run(python, "-c", "import gesture_audit.runtime as r; print(r.models_dir())", cwd=elsewhere)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    checked = run(venv / "bin" / "gesture-audit", "check", photo, "--json", cwd=elsewhere)
    finding = json.loads(checked.stdout)
    assert finding["status"] == "ok" and finding["verdict"] == "flag", finding
    assert [h["ballot"] for h in finding["hands"]] == [2]
