"""`gesture-audit scan` on archives and a social-media export, through the real CLI in a subprocess.

Inputs are made here from the committed rendered samples (samples/*.jpg): zips with a code page
437 member name, a nested zip, a bomb, a traversal name, an encrypted member, a damaged zip; a
tar.gz; a 7z holding a zip; a fake Instagram export (folders + JSON, and the same zipped) whose
captions name a pair.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from scans import stop_scan
from test_archives import encrypted, zip_bytes
from test_scan import rows, snapshot

from gesture_audit.report.schema import validation_errors
from gesture_audit.runtime import model_path, models_dir

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

# Runs the CLI with an audit hook that records every file opened for writing (Python's own
# "open" event: builtin open, os.open, and so every library written in Python).
WRAPPER = r"""
import json, os, sys
written = []
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
def hook(event, args):
    if event == "open" and not isinstance(args[0], int):
        path, mode, flags = args
        if (mode and set(mode) & set("wax+")) or (flags or 0) & WRITE:
            written.append(os.path.abspath(os.fsdecode(path)))
sys.addaudithook(hook)
import atexit
atexit.register(lambda: sys.stderr.write("\nWRITTEN " + json.dumps(written) + "\n"))
from gesture_audit.cli import main
sys.argv = ["gesture-audit", *sys.argv[1:]]
main()
"""


def cli(*args, env=None, timeout=300, check_rc=0) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "120", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env
    )
    assert proc.returncode == check_rc, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def sample(name: str) -> bytes:
    return (SAMPLES / f"{name}_7_00000.jpg").read_bytes()


def instagram(captions: dict[str, str]) -> dict[str, bytes]:
    """A minimal Instagram export (2024 layout): name -> bytes, photos under media/posts/."""
    posts = [
        {
            "media": [
                {
                    "uri": f"media/posts/202401/{photo}.jpg",
                    "creation_timestamp": 1704103200 + i * 3600,
                    "title": caption,
                }
            ]
        }
        for i, (photo, caption) in enumerate(captions.items())
    ]
    files = {f"media/posts/202401/{photo}.jpg": sample(photo) for photo in captions}
    files["your_instagram_activity/content/posts_1.json"] = json.dumps(posts).encode()
    files["personal_information/personal_information.json"] = b"{}"
    return files


@pytest.mark.timeout(600)
def test_archives_and_export_in_place(tmp_path):
    py7zr = pytest.importorskip("py7zr", reason="7z archives need gesture-audit[archives]")
    src = tmp_path / "in"
    src.mkdir()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("WhatsApp/Foto rapat X.jpg", sample("l"))  # renamed below to code page 437 bytes
        z.writestr("WhatsApp/nested.zip", zip_bytes({"dalam/three.jpg": sample("three")}))
        z.writestr("../../keluar.jpg", sample("v"))
        z.writestr("bomb.bmp", b"\0" * (8 * 1024 * 1024))
        z.writestr("locked.jpg", sample("one"))
        z.writestr("catatan.txt", b"daftar hadir\n")
    data = encrypted(buf.getvalue(), b"locked.jpg").replace(b"Foto rapat X.jpg", b"Foto rapat \x82.jpg")
    (src / "wa.zip").write_bytes(data)
    (src / "rusak.zip").write_bytes(zip_bytes({"a.jpg": sample("v")})[:3000])
    with tarfile.open(src / "arsip.tar.gz", "w:gz") as t:
        info = tarfile.TarInfo("acara/telepon.jpg")
        info.size = len(sample("telepon"))
        t.addfile(info, io.BytesIO(sample("telepon")))
    with py7zr.SevenZipFile(src / "arsip.7z", "w") as z:
        z.writestr(sample("metal"), "acara/metal.jpg")
        z.writestr(zip_bytes({"four.jpg": sample("four")}), "dalam.zip")
    export = instagram({"fist": "Coblos nomor 2 ya", "v": "Foto bersama #02"})
    for name, content in export.items():
        (src / "ig" / name).parent.mkdir(parents=True, exist_ok=True)
        (src / "ig" / name).write_bytes(content)
    (src / "ig.zip").write_bytes(zip_bytes(export))
    before = snapshot(src)
    temp = tmp_path / "tmp"
    temp.mkdir()
    out = tmp_path / "out"
    # A model file is hashed once per install and stamped in the user's cache (runtime.model_path), a
    # write outside the output folder: stamped here first, so that only the scan's own writes are seen.
    for name in json.loads((models_dir() / "manifest.json").read_text())["files"]:
        if (models_dir() / name).is_file():
            model_path(name)
    proc = cli("scan", src, "--out", out, "--fast", "--batch", 4, env={"TMPDIR": str(temp)})

    expected = {
        "wa.zip!/WhatsApp/Foto rapat é.jpg": None,
        "wa.zip!/WhatsApp/nested.zip!/dalam/three.jpg": None,
        "wa.zip!/../../keluar.jpg": "path traversal",
        "wa.zip!/bomb.bmp": "compression ratio",
        "wa.zip!/locked.jpg": "encrypted",
        "wa.zip!/catatan.txt": "not an image",
        "rusak.zip": "damaged zip",
        "ig/media/posts/202401/fist.jpg": None,
        "ig/media/posts/202401/v.jpg": None,
        "ig.zip!/media/posts/202401/fist.jpg": None,
        "ig.zip!/media/posts/202401/v.jpg": None,
        "arsip.tar.gz!/acara/telepon.jpg": None,
        "arsip.7z!/acara/metal.jpg": None,
        "arsip.7z!/dalam.zip!/four.jpg": None,
    }
    got = {r["path"]: r for r in rows(out)}
    assert sorted(got) == sorted(expected), proc.stderr
    for path, words in expected.items():
        row = got[path]
        assert validation_errors(row) == [], path
        assert (row["status"] == "ok") if words is None else (words in row["error"]), row
    # The export's JSON is read, not reported: counted as skipped (2 files in the folder, 2 zipped).
    assert "4 export metadata file" in " ".join(proc.stderr.split())
    for prefix in ("ig/", "ig.zip!/"):
        fist, v = got[prefix + "media/posts/202401/fist.jpg"], got[prefix + "media/posts/202401/v.jpg"]
        assert fist["post"] == {
            "source": "instagram",
            "time": "2024-01-01T10:00:00+00:00",
            "caption": "Coblos nomor 2 ya",
            "link": None,
        }
        # A caption alone: review (the fist shows no number), with the caption as its reason.
        assert fist["verdict"] == "review" and fist["hands"] and not any(h["ballot"] for h in fist["hands"])
        assert fist["reasons"] == [
            ('the post\'s caption names ballot 02 Prabowo Subianto–Gibran Rakabuming Raka ("nomor 2"): review')
        ]
        assert v["verdict"] == "flag" and v["reasons"][-1].endswith("as a hand shows")
    assert got["wa.zip!/WhatsApp/Foto rapat é.jpg"]["verdict"] == "flag"  # an L sign: 02

    # Nothing written but the output folder: not a member, not a temporary file; inputs untouched.
    written = json.loads(proc.stderr.rsplit("WRITTEN ", 1)[1])
    assert written and all(Path(p).is_relative_to(out) for p in written), written
    # Native code writes outside Python's audit hook: the temporary folder must hold no member either.
    # The one file there is ONNX Runtime's session id (".ses": a timestamp and a UUID, 51 bytes).
    assert all(f.name == ".ses" and f.stat().st_size < 100 for f in temp.iterdir()), list(temp.iterdir())
    assert snapshot(src) == before

    page = (out / "report.html").read_text(encoding="utf-8")
    for text in ("wa.zip!/WhatsApp/Foto rapat é.jpg", "Coblos nomor 2 ya", "2024-01-01T10:00:00+00:00"):
        assert text in page
    assert "photo not available" not in page
    csv = (out / "summary.csv").read_text(encoding="utf-8-sig")
    assert "Coblos nomor 2 ya" in csv and "ig.zip!/media/posts/202401/fist.jpg" in csv
    # The report draws members again from the archives (evidence found through scan.json).
    for f in (out / "evidence").iterdir():
        f.unlink()
    cli("report", out)
    assert "photo not available" not in (out / "report.html").read_text(encoding="utf-8")
    listed = [r for r in got.values() if r["status"] == "ok" and r["verdict"] != "clear"]
    assert len(list((out / "evidence").glob("*.thumb.jpg"))) == len({r["sha256"] for r in listed})


@pytest.mark.timeout(600)
def test_killed_mid_archive_then_resume_every_member_once(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    photos = sorted(SAMPLES.glob("*.jpg"))
    members = {f"album/{k:02d}-{p.name}": p.read_bytes() for k in range(3) for p in photos}
    (src / "album.zip").write_bytes(zip_bytes(members, zipfile.ZIP_STORED))
    out = tmp_path / "out"
    findings = out / "findings.jsonl"
    stop_scan([src, "--fast", "--batch", 2, "--workers", 1], out, 6, seconds=240)
    kept = findings.read_text(encoding="utf-8").splitlines()
    assert 6 <= len(kept) < len(members), "the kill should land mid-archive"
    cli("scan", src, "--out", out, "--fast", "--resume")
    paths = [r["path"] for r in rows(out)]
    assert sorted(paths) == sorted(f"album.zip!/{name}" for name in members)  # every member exactly once
    assert findings.read_text(encoding="utf-8").splitlines()[: len(kept) - 1] == kept[:-1]  # work kept
