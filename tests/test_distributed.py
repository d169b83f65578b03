"""`scan --ray`: the same rows as a local scan, on real Ray clusters started on this machine.

Two clusters, one at a time (each class owns one): `ray.init` with explicit logical CPUs in this
process (the Python API), and a head started with `ray start --head` on 127.0.0.1 plus a second node
joined with `ray start --address` (the CLI, in a subprocess). Ray reserves a CPU per actor and the
machine may have two cores, so the clusters declare 4 logical CPUs: two actors plus the driver's
tasks never wait on each other. Clusters are stopped by killing only the processes of their own
temporary folder (`ray stop` would stop every Ray on the machine).

Inputs: dev photos from ../shared/data/dev (skipped with a message when absent), copied under new
names, plus a damaged file and a text file.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the Ray tests need the ray extra: pip install 'gesture-audit[ray]'")
psutil = pytest.importorskip("psutil", reason="finding Ray's processes needs psutil (installed with ray)")

from paths import DEV, needs_dev
from scans import stop_scan

from gesture_audit.audit import Auditor
from gesture_audit.detect.engine import EngineOptions
from gesture_audit.distributed import scan_on_ray
from gesture_audit.scan import finish_scan, plan_scan, run_scan, walk

pytestmark = [needs_dev]

ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "COLUMNS": "120"}  # the test clusters run without tokens
STORE = 200 * 1024 * 1024  # object store per node: only paths and findings travel through it


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """24 dev photos of several sets, a zip of 3 more (its members travel to the actors), a damaged
    JPEG and a text file."""
    src = tmp_path_factory.mktemp("photos")
    for folder, n in (
        ("hagrid/peace", 5),
        ("hagrid/one", 4),
        ("hagrid/three", 4),
        ("hagrid/fist", 3),
        ("subhih", 4),
        ("negatives", 4),
    ):
        for p in sorted((DEV / folder).iterdir())[:n]:
            shutil.copyfile(p, src / f"{folder.replace('/', '_')}_{p.name}")
    with zipfile.ZipFile(src / "wa.zip", "w") as archive:
        for p in sorted((DEV / "hagrid/peace").iterdir())[5:8]:
            archive.write(p, f"WhatsApp Images/{p.name}")
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    (src / "notes.txt").write_text("daftar hadir\n")
    return src


@pytest.fixture(scope="module")
def local(photos, tmp_path_factory) -> Path:
    """The local scan of `photos`: the rows every Ray scan must give."""
    out = tmp_path_factory.mktemp("local") / "out"
    plan = plan_scan([photos], out)
    finish_scan(plan, run_scan(plan, Auditor(), list(walk(plan)), batch=4))
    return out


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]


def by_path(out: Path) -> dict[str, dict]:
    found = rows(out)
    paths = [r["path"] for r in found]
    assert len(paths) == len(set(paths)), "a photo has two rows"
    return {r["path"]: r for r in found}


def actor_processes(parent: psutil.Process) -> list[psutil.Process]:
    """The Ray Data actors (`_Checker`) among `parent`'s descendants."""
    found = []
    for p in parent.children(recursive=True):
        try:
            if "_Checker" in " ".join(p.cmdline()):
                found.append(p)
        except psutil.Error:
            pass
    return found


class TestPythonAPI:  # ray_cluster: Ray in this process (tests/conftest.py)
    @pytest.mark.timeout(300)
    def test_same_rows_and_report_as_a_local_scan(self, ray_cluster, photos, local, tmp_path):
        from gesture_audit.report import render_reports

        out = tmp_path / "out"
        counts = scan_on_ray([photos], out, actors=2, batch=4)
        assert sum(counts.values()) == len(rows(local)) == len(list(photos.iterdir())) + 2  # 3 zip members
        # Rows come back in input order, so the file is the local one byte for byte.
        assert (out / "findings.jsonl").read_bytes() == (local / "findings.jsonl").read_bytes()
        assert any(r["verdict"] == "flag" for r in rows(out)) and any(r["status"] == "error" for r in rows(out))
        for o in (out, local):
            render_reports(o, include_clear=True)
        assert (out / "summary.csv").read_bytes() == (local / "summary.csv").read_bytes()
        evidence = sorted(p.name for p in (local / "evidence").iterdir())
        assert evidence and sorted(p.name for p in (out / "evidence").iterdir()) == evidence

    @pytest.mark.timeout(300)
    def test_an_actor_killed_mid_run_is_replaced_and_its_photos_retried(self, ray_cluster, photos, local, tmp_path):
        killed = []

        def kill_the_actor(finding) -> None:
            if not killed:  # the first row is back: the actor is busy with the next batches
                actors = actor_processes(psutil.Process())
                assert len(actors) == 1
                actors[0].send_signal(signal.SIGKILL)
                killed.append(actors[0].pid)

        out = tmp_path / "out"
        scan_on_ray([photos], out, actors=1, batch=2, on_finding=kill_the_actor)
        assert killed
        assert by_path(out) == by_path(local)

    @pytest.mark.timeout(300)
    def test_a_photo_that_kills_its_worker_twice_gets_an_error_row(self, ray_cluster, photos, local, tmp_path):
        # No photo crashes the engine for real, so this Auditor's process dies on one named photo,
        # as a decoder crash or an out-of-memory kill would end it. It logs each death to count them.
        log = tmp_path / "deaths.log"

        def make_auditor():
            class Poisoned(Auditor):
                def decode(self, source):
                    if str(source).endswith("poison.jpg"):
                        with open(log, "a") as fh:
                            fh.write(f"{os.getpid()}\n")
                        os._exit(1)
                    return super().decode(source)

            return Poisoned(engine=EngineOptions(threads=1))

        src = tmp_path / "photos"
        shutil.copytree(photos, src)
        shutil.copyfile(src / "hagrid_peace_peace_00000.jpg", src / "poison.jpg")
        out = tmp_path / "out"
        scan_on_ray([src], out, actors=1, batch=4, make_auditor=make_auditor)
        found = by_path(out)
        poison = found.pop("poison.jpg")
        assert poison["status"] == "error" and "stopped the worker process 2 times" in poison["error"], poison
        assert len(set(log.read_text().split())) == 2  # two processes died on it, then it was left alone
        assert found == by_path(local)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_cli(*args: str, timeout: float = 180) -> None:
    cmd = [sys.executable, "-c", "from ray.scripts.scripts import main; main()", *args]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def stop_cluster(temp: str) -> None:
    """Kill the processes started for the cluster in `temp` (Ray's daemons name it) and their children."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if p.pid != os.getpid() and any(temp in a for a in p.info["cmdline"] or ()):
                found += [p, *p.children(recursive=True)]
        except psutil.Error:
            pass
    for p in found:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(found, timeout=30)


class TestCommandLine:
    @pytest.fixture(scope="class")
    def cluster(self):
        """`ray start --head` on 127.0.0.1 and a second node joined with `ray start --address`."""
        temp = tempfile.mkdtemp(prefix="/tmp/ga-ray-")
        address = f"127.0.0.1:{free_port()}"
        node = [
            "--node-ip-address=127.0.0.1",
            "--num-cpus=2",
            f"--object-store-memory={STORE}",
            f"--temp-dir={temp}",
            "--disable-usage-stats",
        ]
        try:
            ray_cli(
                "start",
                "--head",
                f"--port={address.split(':')[1]}",
                "--include-dashboard=false",
                f"--dashboard-port={free_port()}",
                f"--dashboard-agent-listen-port={free_port()}",
                *node,
            )
            ray_cli("start", f"--address={address}", f"--dashboard-agent-listen-port={free_port()}", *node)
            yield address
        finally:
            stop_cluster(temp)
            shutil.rmtree(temp, ignore_errors=True)

    @pytest.mark.timeout(600)
    def test_driver_killed_then_resume_gives_every_photo_once(self, cluster, photos, local, tmp_path):
        out = tmp_path / "out"
        findings = out / "findings.jsonl"
        scan = [str(photos), "--ray", cluster, "--actors", "2", "--batch", "2"]
        stop_scan(scan, out, 4, env=ENV)
        first = findings.read_bytes().count(b"\n")
        assert 4 <= first < len(rows(local)), "the kill should land mid-scan"

        again = [sys.executable, "-m", "gesture_audit", "scan", *scan, "--out", str(out), "--resume"]
        done = subprocess.run(again, env=ENV, capture_output=True, text=True, timeout=400)
        assert done.returncode == 0, done.stderr
        assert f"resuming: {first} of" in done.stderr
        assert by_path(out) == by_path(local)
        assert f"all {len(by_path(local))} files" in " ".join(done.stderr.split())
        assert (out / "report.html").is_file()


def test_without_ray_the_command_says_how_to_install(tmp_path, photos):
    """Ray made unimportable for the command: --ray is a usage error that names the extra."""
    blocker = tmp_path / "no-ray"
    (blocker / "ray").mkdir(parents=True)
    (blocker / "ray" / "__init__.py").write_text("raise ImportError('ray is not installed')\n")
    env = {**ENV, "PYTHONPATH": str(blocker)}
    proc = subprocess.run(
        [sys.executable, "-m", "gesture_audit", "scan", str(photos), "--out", str(tmp_path / "o"), "--ray", "auto"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "pip install 'gesture-audit[ray]'" in " ".join(proc.stderr.split())
