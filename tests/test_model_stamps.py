"""Model files are hashed once per install, and a file changed or replaced since is still refused."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gesture_audit import runtime
from gesture_audit.runtime import ModelError, model_path

NAME = "face_detection_short_range.onnx"  # the smallest model (0.6 MB)


@pytest.fixture
def models(tmp_path, monkeypatch):
    """A models folder of one real model and the real manifest, a fresh user cache, and a fresh
    process (nothing verified yet)."""
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(model_path(NAME), folder)
    shutil.copy(model_path(NAME).parent / "manifest.json", folder)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(runtime, "_verified", set())
    return folder


def new_process(monkeypatch):
    monkeypatch.setattr(runtime, "_verified", set())  # what a new process starts with


def test_a_verified_file_is_stamped_with_its_hash_and_identity(models, tmp_path):
    path = model_path(NAME, models)
    stamps = json.loads((tmp_path / "cache" / "gesture-audit" / runtime.STAMPS).read_text())
    st = os.stat(path)
    assert stamps[str(path)] == [
        hashlib.sha256(path.read_bytes()).hexdigest(),
        st.st_dev,
        st.st_ino,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
    ]


def test_a_file_changed_in_place_after_its_stamp_is_refused(models, monkeypatch):
    path = model_path(NAME, models)
    st = os.stat(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, same inode; mtime set back: only the ctime tells
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    new_process(monkeypatch)
    with pytest.raises(ModelError, match="sha256"):
        model_path(NAME, models)


def test_a_file_put_in_place_of_a_stamped_one_is_refused(models, monkeypatch, tmp_path):
    path = model_path(NAME, models)
    other = tmp_path / "other.onnx"
    other.write_bytes(path.read_bytes()[:-1] + b"\0")
    os.replace(other, path)
    new_process(monkeypatch)
    with pytest.raises(ModelError, match="sha256"):
        model_path(NAME, models)


def test_without_a_writable_cache_every_start_hashes(models, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # the cache folder cannot be made
    assert model_path(NAME, models).is_file()
    with open(models / NAME, "ab") as f:
        f.write(b"tampered")
    new_process(monkeypatch)
    with pytest.raises(ModelError, match="sha256"):
        model_path(NAME, models)


# Each process verifies its own copies, as the scans of several installs (or checkouts) sharing one
# user cache do; every stamp must survive the others' writes.
STAMPER = r"""
import sys
from gesture_audit.runtime import model_path
for folder in sys.argv[2:]:
    model_path(sys.argv[1], folder)
"""


@pytest.mark.timeout(120)
def test_processes_stamping_at_once_keep_each_others_stamps(models, tmp_path):
    folders = []
    for k in range(48):
        folder = tmp_path / f"install{k}"
        shutil.copytree(models, folder)
        folders.append(str(folder))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    procs = [
        subprocess.Popen([sys.executable, "-c", STAMPER, NAME, *folders[k::6]], env=env, stderr=subprocess.PIPE)
        for k in range(6)
    ]
    try:
        errors = [p.communicate(timeout=100)[1] for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert all(p.returncode == 0 for p in procs), errors
    stamps = json.loads((tmp_path / "cache" / "gesture-audit" / runtime.STAMPS).read_text())
    assert sorted(stamps) == sorted(str(Path(f, NAME).resolve()) for f in folders)
    # Nothing left behind but the stamps and their lock.
    assert {p.name for p in (tmp_path / "cache" / "gesture-audit").iterdir()} <= {
        runtime.STAMPS,
        runtime.STAMPS + ".lock",
    }
