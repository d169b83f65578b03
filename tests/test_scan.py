"""`gesture-audit scan` end to end, through the real CLI in a subprocess.

Inputs: dev photos from ../shared/data/dev (skipped with a message when absent) and broken files
made here: empty, truncated, text named .jpg, a PNG declaring 20000×20000, links and a FIFO.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from paths import DEV, needs_dev
from scans import stop_scan

from gesture_audit.report.schema import validation_errors


def cli(*args, check_rc: int | None = 0, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.run(
        [sys.executable, "-m", "gesture_audit", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if check_rc is not None:
        assert proc.returncode == check_rc, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny PNG whose header declares width × height 8-bit RGB pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)  # decompresses to far less than declared
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under `folder` (links not followed): hash and mtime of files, targets of links."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                state[rel] = ("link", os.readlink(p))
            elif p.is_file():
                st = p.stat()
                state[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_size)
            elif p.is_dir():
                state[rel] = ("dir",)
            else:
                state[rel] = ("special", p.stat().st_mode)
    return state


def mixed_folder(root: Path) -> dict[str, str | None]:
    """Build the mixed folder; return the rows expected: path -> words the error must contain (None: ok;
    words starting "not a photo": a skipped row)."""
    (root / "kegiatan" / "2024" / "januari").mkdir(parents=True)
    (root / "lain").mkdir()
    photos = {
        "kegiatan/peace.jpg": "hagrid/peace/peace_00004.jpg",
        "kegiatan/2024/januari/thumb up.jpg": "mediapipe/hand_thumb_up.jpg",
        "kegiatan/2024/bus.jpg": "negatives/bus.jpg",
        "lain/Foto Ünïcode – rapat.jpg": "hagrid/one/one_00001.jpg",
        "lain/.hidden.jpg": "hagrid/fist/fist_00002.jpg",
        "lain/scene.png": "mediapipe/thumbs-up.png",
    }
    for rel, src in photos.items():
        shutil.copyfile(DEV / src, root / rel)
    expected: dict[str, str | None] = {rel: None for rel in photos}
    (root / "zero.jpg").write_bytes(b"")
    expected["zero.jpg"] = "empty file"
    data = (DEV / "negatives/zidane.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(data[: len(data) // 3])
    expected["truncated.jpg"] = "truncated"
    (root / "teks.jpg").write_text("Ini bukan foto, hanya catatan rapat.\n", encoding="utf-8")
    expected["teks.jpg"] = "not an image"
    (root / "bomb.png").write_bytes(png_bomb())
    expected["bomb.png"] = "20000×20000"
    # Not photos (an export's or a folder's other files): skipped rows, not errors. A photo under
    # another name is still a photo: its content says so.
    (root / "lain" / "catatan.txt").write_text("daftar hadir\n")
    expected["lain/catatan.txt"] = "not a photo (a .txt file)"
    (root / "lain" / "data.bin").write_bytes(bytes(range(256)) * 4)
    expected["lain/data.bin"] = "not a photo (a .bin file)"
    (root / "README.md").write_text("# Foto kegiatan\n")
    expected["README.md"] = "not a photo (a .md file)"
    (root / "lain" / "posts_1.json").write_text('[{"title": "coblos nomor 2"}]')
    expected["lain/posts_1.json"] = "not a photo (a .json file)"
    (root / "lain" / "index.html").write_text("<html><body>posts</body></html>")
    expected["lain/index.html"] = "not a photo (a .html file)"
    (root / "lain" / "config.toml").write_text("a = 1\n")
    expected["lain/config.toml"] = "not a photo (a .toml file)"
    (root / "LICENSE").write_bytes(b"")
    expected["LICENSE"] = "not a photo (no image content)"
    shutil.copyfile(DEV / "negatives/zidane.jpg", root / "lain" / "unduhan.dat")
    expected["lain/unduhan.dat"] = None
    # Links: a loop back up the tree, a shortcut to a listed photo, a self-loop, a dangling link.
    (root / "kegiatan" / "2024" / "januari" / "naik").symlink_to("../..")
    (root / "a-shortcut.jpg").symlink_to("kegiatan/peace.jpg")
    (root / "self").symlink_to("self")
    expected["self"] = "symbolic link loop"
    (root / "dangling.jpg").symlink_to("does-not-exist.jpg")
    expected["dangling.jpg"] = "broken symbolic link"
    os.mkfifo(root / "lain" / "pipe.jpg")
    expected["lain/pipe.jpg"] = "named pipe"
    return expected


@needs_dev
def test_mixed_folder_every_file_one_row(tmp_path):
    src = tmp_path / "input"
    expected = mixed_folder(src)
    before = snapshot(src)
    out = tmp_path / "out"
    proc = cli("scan", src, "--out", out, "--workers", 2, "--batch", 3)
    got = rows(out)
    paths = [r["path"] for r in got]
    assert sorted(paths) == sorted(expected), proc.stderr
    assert len(paths) == len(set(paths))
    for row in got:
        assert validation_errors(row) == [], row["path"]
        words = expected[row["path"]]
        if words is None:
            assert row["status"] == "ok", row
            assert row["sha256"] == hashlib.sha256((src / row["path"]).read_bytes()).hexdigest()
        else:
            status = "skipped" if words.startswith("not a photo") else "error"
            assert row["status"] == status and words in row["error"], row
    # Inputs untouched: same entries, bytes and modification times; nothing written inside.
    assert snapshot(src) == before
    for name in ("findings.jsonl", "summary.csv", "report.html", "scan.json"):
        assert (out / name).is_file()
    # The folder loop and the shortcut are reported as skipped, not as rows.
    assert "skipped (not rows: listed another way" in proc.stderr
    assert "all 21 files" in proc.stderr and "7 could not be checked, 7 skipped (not a photo)" in proc.stderr
    assert '<span class="n">7</span><span class="l">skipped (not a photo)' in (out / "report.html").read_text()
    assert proc.stdout == f"report: {out / 'report.html'}\nsummary: {out / 'summary.csv'}\n"


@needs_dev
@pytest.mark.parametrize(
    "stop, status", [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGINT, 130)], ids=["SIGKILL", "Ctrl-C"]
)
def test_stop_then_resume_gives_one_row_per_file(tmp_path, stop, status):
    src = tmp_path / "photos"
    src.mkdir()
    names = []
    for folder in ("hagrid/peace", "hagrid/palm", "hagrid/fist", "hagrid/one", "hagrid/three", "subhih"):
        for p in sorted((DEV / folder).iterdir())[:10]:
            name = f"{folder.replace('/', '_')}_{p.name}"
            shutil.copyfile(p, src / name)
            names.append(name)
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    names.append("broken.jpg")
    out = tmp_path / "out"
    findings = out / "findings.jsonl"
    assert stop_scan([src, "--batch", 2], out, 8, stop=stop, seconds=120) == status
    written = findings.read_bytes()
    first = written.count(b"\n")
    assert 8 <= first < len(names), "the kill should land mid-scan"
    # As if the power went mid-line too: a torn row and NUL padding at the end.
    with open(findings, "ab") as fh:
        fh.write(b'{"path":"photos_half_writ' + b"\0" * 64)
    kept = written.decode().splitlines()

    refused = cli("scan", src, "--out", out, check_rc=2)
    assert "--resume" in refused.stderr

    cli("scan", src, "--out", out, "--resume", "--batch", "2")
    got = rows(out)
    paths = [r["path"] for r in got]
    assert sorted(paths) == sorted(names) and len(paths) == len(set(paths))
    # Finished work is kept as it was, not redone.
    assert (out / "findings.jsonl").read_text().splitlines()[: len(kept)] == kept
    for row in got:
        assert validation_errors(row) == []
    # Resuming a finished scan changes nothing.
    cli("scan", src, "--out", out, "--resume")
    assert rows(out) == got


@needs_dev
def test_several_roots_prefixed_and_flag_exit_status(tmp_path):
    a, b = tmp_path / "x" / "fotos", tmp_path / "y" / "fotos"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    shutil.copyfile(DEV / "hagrid/peace/peace_00004.jpg", a / "v.jpg")
    shutil.copyfile(DEV / "negatives/bus.jpg", b / "v.jpg")
    single = tmp_path / "z" / "single.jpg"
    single.parent.mkdir()
    shutil.copyfile(DEV / "hagrid/fist/fist_00002.jpg", single)
    out = tmp_path / "out"
    proc = cli("scan", a, b, single, "--out", out, "--fail-on-flag", check_rc=None)
    got = {r["path"]: r for r in rows(out)}
    assert sorted(got) == ["fotos-2/v.jpg", "fotos/v.jpg", "single.jpg"]
    flagged = any(r["verdict"] == "flag" for r in got.values())
    assert proc.returncode == (1 if flagged else 0), proc.stderr
    record = json.loads((out / "scan.json").read_text())
    assert [r["label"] for r in record["roots"]] == ["fotos", "fotos-2", "single.jpg"]
    assert record["finished"]
    # A resume must name the same roots.
    assert "same folders" in cli("scan", a, "--out", out, "--resume", check_rc=2).stderr


def test_scan_with_a_candidate_gallery(tmp_path, candidate_gallery, dev_faces):
    out = tmp_path / "out"
    cli("scan", dev_faces / "test", "--out", out, "--gallery", candidate_gallery, "--fail-on-flag", check_rc=1)
    found = {Path(row["path"]).name: row for row in rows(out)}
    assert len(found) == 5 and all(validation_errors(row) == [] and row["faces"] for row in found.values())
    kit = found["kit_with_rose.jpg"]
    assert kit["verdict"] == "flag"
    assert kit["reasons"][0].startswith("candidate 02 Kit Harington appears with 1 other person")
    assert [row["path"] for row in found.values() if row["verdict"] == "flag"] == [kit["path"]]
    # The candidate's ballot is carried like a hand sign's: CSV column, badge, ballot filter.
    # A candidate's ballot is carried like a hand sign's: CSV column, badge, ballot filter.
    pair = found["obama_and_biden.jpg"]  # both gallery candidates (ballot 1), no hand shows a number
    assert pair["verdict"] == "review" and not any(h["ballot"] for h in pair["hands"])
    summary = list(csv.DictReader((out / "summary.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert {r["path"]: r["ballots"] for r in summary}[pair["path"]] == "1"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Kit Harington" in page
    card = re.search(
        r'<article class="card review" data-verdict="review" data-ballots="([^"]*)" '
        r'data-path="obama_and_biden.jpg".*?</article>',
        page,
        re.S,
    )
    assert card and card.group(1) == "1" and '<span class="ballot" title="ballot number">01</span>' in card.group(0)
    assert 'data-filter-ballot="1"' in page
    record = json.loads((out / "scan.json").read_text())
    assert record["options"]["gallery"] == str(candidate_gallery.resolve())
    refused = cli(
        "scan", dev_faces / "test", "--out", tmp_path / "again", "--gallery", tmp_path / "none.json", check_rc=2
    )
    assert "cannot read the gallery" in refused.stderr


def test_usage_errors(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    assert "inside the scanned folder" in cli("scan", src, "--out", src / "sub" / "out", check_rc=2).stderr
    assert not (src / "sub" / "out").exists()
    assert "inside the scanned folder" in cli("scan", src, "--out", src, check_rc=2).stderr
    assert "no such file" in cli("scan", tmp_path / "missing", "--out", tmp_path / "o", check_rc=2).stderr
    assert "overlap" in cli("scan", src, src / "sub", "--out", tmp_path / "o", check_rc=2).stderr
    assert "findings.jsonl" in cli("report", tmp_path / "nothing", check_rc=2).stderr
    cli("scan", src, "--out", tmp_path / "o", "--batch", 0, check_rc=2)
    # An empty folder is a valid scan: no rows, a report that says so.
    cli("scan", src, "--out", tmp_path / "empty-out")
    assert rows(tmp_path / "empty-out") == []
    assert "No ballot signs" in (tmp_path / "empty-out" / "report.html").read_text()


@needs_dev
def test_report_rerenders_with_placeholders_for_lost_photos(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("peace_00004.jpg", "peace_00001.jpg", "peace_00002.jpg"):
        shutil.copyfile(DEV / "hagrid/peace" / name, src / name)
    out = tmp_path / "out"
    cli("scan", src, "--out", out, "--include-clear")
    listed = [r for r in rows(out) if r["status"] == "ok"]
    assert listed
    shutil.rmtree(out / "evidence")
    (out / "report.html").unlink()
    (src / listed[0]["path"]).unlink()
    cli("report", out)
    page = (out / "report.html").read_text()
    assert "photo not available" in page
    assert page.count('class="card ') == len(listed)
    assert len(list((out / "evidence").glob("*.thumb.jpg"))) == len(listed) - 1


def test_fast_profile_is_recorded_and_resume_keeps_it(tmp_path):
    """--fast scans the committed samples, says so in scan.json, and a resume must use it too."""
    samples = Path(__file__).resolve().parents[1] / "samples"
    src = tmp_path / "in"
    src.mkdir()
    for photo in samples.glob("*.jpg"):
        shutil.copy(photo, src / photo.name)
    cli("scan", src, "--out", tmp_path / "out", "--fast")
    record = json.loads((tmp_path / "out" / "scan.json").read_text())
    assert record["options"]["profile"] == "fast"
    found = {Path(r["path"]).name: r for r in rows(tmp_path / "out")}
    assert len(found) == len(list(src.iterdir()))
    labels = [json.loads(line) for line in (samples / "labels.jsonl").read_text().splitlines()]
    singles = [
        Path(lb["path"]).name
        for lb in labels
        if len(lb["hands"]) == 1 and lb["hands"][0]["gesture"] in ("one", "v", "l", "telepon", "metal", "three_thumb")
    ]
    # The lite models read less surely: a sign may go to review instead of flag, never to clear.
    verdicts = [found[name]["verdict"] for name in singles]
    assert singles and "clear" not in verdicts and verdicts.count("flag") >= len(singles) - 1, verdicts
    refused = cli("scan", src, "--out", tmp_path / "out", "--resume", check_rc=2)
    assert "fast profile" in refused.stderr
    cli("scan", src, "--out", tmp_path / "out", "--resume", "--fast")
    assert len(rows(tmp_path / "out")) == len(found)


def test_include_exclude_quiet_json_and_progress_in_a_log(tmp_path):
    """--include/--exclude leave files out, --quiet --json give one JSON object on stdout and nothing
    on stderr; without them, a log file (stderr not a terminal) gets plain progress lines."""
    samples = Path(__file__).resolve().parents[1] / "samples"
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "thumbs").mkdir()
    shutil.copyfile(samples / "v_7_00000.jpg", src / "v.jpg")
    shutil.copyfile(samples / "one_7_00000.jpg", src / "sub" / "ONE.JPG")
    shutil.copyfile(samples / "fist_7_00000.jpg", src / "sub" / "fist.jpg")
    shutil.copyfile(samples / "l_7_00000.jpg", src / "thumbs" / "l.jpg")
    (src / "README.md").write_text("# foto\n")
    (src / "sub" / "posts.json").write_text("[]")

    out = tmp_path / "out"
    proc = cli("scan", src, "--out", out, "--quiet", "--json", "--include", "*.jpg", "--exclude", "thumbs")
    assert proc.stderr == ""
    summary = json.loads(proc.stdout)
    got = rows(out)
    assert sorted(r["path"] for r in got) == ["sub/ONE.JPG", "sub/fist.jpg", "v.jpg"]  # case ignored
    outcomes = [r["verdict"] or r["status"] for r in got]
    assert summary["counts"] == {k: outcomes.count(k) for k in ("flag", "review", "clear", "error", "skipped")}
    assert summary["excluded"] == 3  # README.md, posts.json and the folder thumbs/
    assert summary["report"] == str(out / "report.html") and Path(summary["summary"]).is_file()
    assert json.loads((out / "scan.json").read_text())["options"]["exclude"] == ["thumbs"]

    log = cli("scan", src, "--out", tmp_path / "out2", "--progress-every", "2")
    progress = [line for line in log.stderr.splitlines() if line.startswith("scanned ")]
    assert [line.split(",")[0] for line in progress] == [
        "scanned 2/6 files",
        "scanned 4/6 files",
        "scanned 6/6 files",
    ], log.stderr
    assert all(re.fullmatch(r"scanned \d/6 files, \d flagged, [\d.]+ files/s", line) for line in progress)
    assert "2 skipped (not a photo)" in log.stderr
    out2 = tmp_path / "out2"
    assert log.stdout == f"report: {out2 / 'report.html'}\nsummary: {out2 / 'summary.csv'}\n"


def test_resume_keeps_the_scan_id_and_language_is_recorded(tmp_path):
    """report.html keys reviewers' decisions by the scan's id: a resumed scan must keep it."""
    from gesture_audit.scan import plan_scan

    src = tmp_path / "foto"
    src.mkdir()
    (src / "a.jpg").write_bytes(b"not a photo")
    first = plan_scan([src], tmp_path / "out", options={"lang": "id"})
    first.release()  # the first scan has stopped: --out is free for the resumed one
    (tmp_path / "out" / "findings.jsonl").write_text("")
    again = plan_scan([src], tmp_path / "out", resume=True, options={"lang": "id"})
    assert first.record.id and again.record.id == first.record.id
    again.release()
    other = plan_scan([src], tmp_path / "out2")
    other.release()
    assert other.record.id != first.record.id
    assert json.loads((tmp_path / "out" / "scan.json").read_text())["options"]["lang"] == "id"
