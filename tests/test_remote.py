"""Scan roots in an object store: a real S3 API server (moto) on 127.0.0.1, read through pyarrow.

The bucket holds rendered sample photos (samples/*.jpg), a text file and a zip under `fotos/acara/`;
the same files lie in a local folder. Scanning the bucket, locally, resumed from the command line
and on Ray, must give the rows of the folder.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

moto_server = pytest.importorskip("moto.server", reason="the object-store tests need moto[server] (in [dev])")
boto3 = pytest.importorskip("boto3", reason="the object-store tests need boto3 (installed with moto)")

from gesture_audit.audit import Auditor
from gesture_audit.report import render_reports
from gesture_audit.scan import ScanUsageError, finish_scan, plan_scan, run_scan, walk

REPO = Path(__file__).resolve().parents[1]
PHOTOS = sorted((REPO / "samples").glob("*.jpg"))[:6]
# Dummy credentials (moto checks none); no metadata-service lookups for credentials.
AWS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def rows(out: Path) -> dict[str, dict]:
    found = [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(found) == len({r["path"] for r in found}), "a file has two rows"
    return {r["path"]: r for r in found}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """The files, in a local folder: photos under kegiatan/, a text file and a zip at the top."""
    root = tmp_path_factory.mktemp("files") / "acara"
    (root / "kegiatan").mkdir(parents=True)
    for p in PHOTOS:
        shutil.copyfile(p, root / "kegiatan" / p.name)
    (root / "daftar-hadir.txt").write_text("daftar hadir\n")
    with zipfile.ZipFile(root / "wa.zip", "w") as archive:
        archive.write(PHOTOS[0], PHOTOS[0].name)
    return root


@pytest.fixture(scope="module")
def bucket(files):
    """`files` uploaded to s3://fotos/acara/ on a moto server; yields the root URI. Server stopped after."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    saved = {k: os.environ.get(k) for k in AWS}
    os.environ.update(AWS)  # before Ray starts, so its workers have them too
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}")
        s3.create_bucket(Bucket="fotos")
        for p in sorted(files.rglob("*")):
            if p.is_file():
                s3.put_object(Bucket="fotos", Key=f"acara/{p.relative_to(files).as_posix()}", Body=p.read_bytes())
        yield f"s3://fotos/acara?endpoint_override=127.0.0.1:{port}&scheme=http"
    finally:
        server.stop()
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


@pytest.fixture(scope="module")
def auditor() -> Auditor:
    return Auditor()


@pytest.fixture(scope="module")
def local(files, auditor, tmp_path_factory) -> Path:
    """The scan of the local folder: the rows every scan of the bucket must give."""
    out = tmp_path_factory.mktemp("local") / "out"
    plan = plan_scan([files], out)
    finish_scan(plan, run_scan(plan, auditor, list(walk(plan)), batch=4))
    render_reports(out, include_clear=True)
    return out


def scan(sources: list, out: Path, auditor: Auditor, **kw) -> None:
    plan = plan_scan(sources, out, **kw)
    finish_scan(plan, run_scan(plan, auditor, list(walk(plan)), batch=4))


@pytest.mark.timeout(120)
def test_a_bucket_scans_as_its_folder_does(bucket, local, auditor, tmp_path):
    out = tmp_path / "out"
    scan([bucket], out, auditor)
    found, expected = rows(out), rows(local)
    zipped = found.pop("wa.zip")  # members of an archive in a store are not read (the folder's are)
    assert zipped["status"] == "error" and "object store" in zipped["error"]
    assert {k: v for k, v in expected.items() if not k.startswith("wa.zip!/")} == found
    assert any(r["verdict"] == "flag" for r in found.values()) and found["daftar-hadir.txt"]["status"] == "skipped"
    # The report reads the photos back from the store for its evidence: the same drawings.
    render_reports(out, include_clear=True)
    drawn = sorted(p.name for p in (local / "evidence").iterdir())
    assert drawn and sorted(p.name for p in (out / "evidence").iterdir()) == drawn
    # One object as a root (elsewhere in the bucket), and once it is gone, a placeholder, not a crash.
    port = bucket.split("127.0.0.1:")[1].split("&")[0]
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}")
    s3.put_object(Bucket="fotos", Key=f"lain/{PHOTOS[1].name}", Body=PHOTOS[1].read_bytes())
    single = tmp_path / "single"
    scan([bucket.replace("acara?", f"lain/{PHOTOS[1].name}?")], single, auditor)
    assert rows(single)[PHOTOS[1].name] == {**expected[f"kegiatan/{PHOTOS[1].name}"], "path": PHOTOS[1].name}
    render_reports(single, include_clear=True)
    assert len(list((single / "evidence").iterdir())) == 2  # thumbnail and enlarged view, from the store
    s3.delete_object(Bucket="fotos", Key=f"lain/{PHOTOS[1].name}")
    shutil.rmtree(single / "evidence")
    render_reports(single, include_clear=True)
    assert "no longer where it was scanned" in (single / "report.html").read_text(encoding="utf-8")


@pytest.mark.timeout(120)
def test_bad_roots_are_usage_errors(bucket, files, tmp_path):
    with pytest.raises(ScanUsageError, match="nothing there"):
        plan_scan([bucket.replace("acara?", "nowhere?")], tmp_path / "a")
    with pytest.raises(ScanUsageError, match="overlap"):
        plan_scan([files, f"file://{files}/kegiatan"], tmp_path / "b")
    with pytest.raises(ScanUsageError, match="inside the scanned folder"):
        plan_scan([f"file://{files}"], files / "out")


@pytest.mark.timeout(180)
def test_resumed_from_the_command_line_every_file_once(bucket, local, auditor, tmp_path):
    """A scan stopped after 3 rows (and a torn line) finished by `gesture-audit scan URI --resume`."""
    out = tmp_path / "out"
    scan([bucket], out, auditor)
    lines = (out / "findings.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (out / "findings.jsonl").write_text("".join(lines[:3]) + lines[3][:40], encoding="utf-8")
    cmd = [sys.executable, "-m", "gesture_audit", "scan", bucket, "--out", str(out), "--resume", "--batch", "4"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150, env={**os.environ, "COLUMNS": "120"})
    assert proc.returncode == 0, proc.stderr
    assert "resuming: 3 of 8 files already done" in proc.stderr
    found = rows(out)
    assert len(found) == 8 and {k: v for k, v in found.items() if k != "wa.zip"} == {
        k: v for k, v in rows(local).items() if not k.startswith("wa.zip!/")
    }
    with pytest.raises(ScanUsageError, match="--resume needs the same folders"):
        plan_scan([bucket.replace("acara?", "acara/kegiatan?")], out, resume=True)


@pytest.mark.timeout(300)
def test_on_ray_the_actors_read_the_bucket(bucket, local, ray_cluster, tmp_path):
    from gesture_audit.distributed import scan_on_ray

    out = tmp_path / "out"
    scan_on_ray([bucket], out, actors=1, actor_cpus=0.5, batch=2)
    found = rows(out)
    assert found.pop("wa.zip")["status"] == "error"
    assert found == {k: v for k, v in rows(local).items() if not k.startswith("wa.zip!/")}
