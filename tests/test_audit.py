"""The Python API: `Auditor.check` / `check_many` on real photos and on bad inputs made here."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gesture_audit.audit import Auditor, Finding
from gesture_audit.load import load_image
from gesture_audit.report.schema import validation_errors

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev"
needs_dev = pytest.mark.skipif(not DEV.is_dir(), reason=f"dev photos not found at {DEV} (../shared/data/dev)")
PHOTOS = ["hagrid/peace/peace_00004.jpg", "mediapipe/hand_thumb_up.jpg", "hagrid/three/three_00001.jpg",
          "negatives/bus.jpg", "hagrid/fist/fist_00003.jpg"]


@pytest.fixture(scope="module")
def auditor():
    return Auditor()


def same_result(a: Finding, b: Finding, tol: float = 0.0) -> None:
    """The same verdict, reasons and hands (boxes within `tol` pixels)."""
    assert (a.status, a.verdict, a.reasons, a.width, a.height) == (b.status, b.verdict, b.reasons, b.width, b.height)
    assert len(a.hands) == len(b.hands)
    for ha, hb in zip(a.hands, b.hands):
        assert ha["fingers"] == hb["fingers"] and ha["ballot"] == hb["ballot"]
        assert np.allclose(ha["box"], hb["box"], atol=tol)


def jpeg(array: np.ndarray, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@needs_dev
def test_path_bytes_and_array_agree(auditor):
    path = DEV / PHOTOS[0]
    by_path = auditor.check(path)
    by_bytes = auditor.check(path.read_bytes())
    by_array = auditor.check(load_image(path))
    assert by_path.ok and by_path.hands, "the V photo should show a hand"
    assert by_path.path == str(path) and by_bytes.path is None and by_array.path is None
    assert by_path.sha256 == by_bytes.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert by_array.sha256 is None
    same_result(by_path, by_bytes)
    same_result(by_path, by_array)
    assert validation_errors(by_path.to_dict()) == []
    assert Finding.from_dict(by_path.to_dict()) == by_path


def test_bad_inputs_become_error_findings(auditor, tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("rapat koordinasi, bukan foto\n")
    cases = {
        str(empty): "empty",
        str(text): "not an image",
        str(tmp_path / "missing.jpg"): "cannot read file",
        b"\xff\xd8\xff\xe0" + b"\0" * 40: "JPEG",
        b"": "empty",
    }
    for source, words in cases.items():
        finding = auditor.check(source)
        assert finding.status == "error" and words in finding.error, (source, finding.error)
        assert finding.verdict is None and finding.risk is None and finding.hands == []
        assert validation_errors(finding.to_dict()) == []
    for array in (np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32), np.zeros((0, 5, 3), np.uint8)):
        finding = auditor.check(array)
        assert finding.status == "error" and "RGB uint8" in finding.error
    assert "cannot check" in auditor.check(12345).error


def test_clear_image_made_in_code(auditor):
    finding = auditor.check(np.full((240, 320, 3), 200, np.uint8))
    assert finding.ok and finding.verdict == "clear" and finding.hands == [] and finding.risk is not None
    assert (finding.width, finding.height) == (320, 240)
    assert validation_errors(finding.to_dict()) == []


@needs_dev
def test_check_many_order_errors_and_batches(auditor, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes((DEV / PHOTOS[1]).read_bytes()[:3000])  # truncated
    sources = [DEV / p for p in PHOTOS]
    sources[2:2] = [bad, b"not an image at all"]
    singles = [auditor.check(s) for s in sources]
    for batch in (1, 3, 8):
        many = list(auditor.check_many(sources, batch=batch))
        assert len(many) == len(sources)
        for a, b in zip(singles, many):
            assert a.path == b.path and a.sha256 == b.sha256
            same_result(a, b, tol=0.5)
    assert [f.status for f in singles].count("error") == 2
    assert "truncated" in singles[2].error


@needs_dev
def test_check_many_reads_its_input_lazily(auditor):
    pulled = 0

    def endless():
        nonlocal pulled
        for p in itertools.cycle(PHOTOS):
            pulled += 1
            yield DEV / p

    results = auditor.check_many(endless(), batch=4)
    first = list(itertools.islice(results, 10))
    results.close()
    assert len(first) == 10
    # Bounded look-ahead: memory stays flat however long the input is.
    assert pulled <= 10 + 2 * (4 + auditor.workers) + 4


@needs_dev
def test_shared_between_threads(auditor):
    sources = [DEV / p for p in PHOTOS] * 2
    expected = [auditor.check(s) for s in sources]
    got: dict[int, Finding] = {}
    errors = []

    def work(i):
        try:
            got[i] = auditor.check(sources[i])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(sources))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, e in enumerate(expected):
        same_result(e, got[i], tol=0.5)


@needs_dev
def test_large_jpeg_decoded_reduced_reports_full_size_pixels(auditor):
    photo = load_image(DEV / PHOTOS[0])
    small = auditor.check(jpeg(photo, 95))
    factor = 16  # 336 px -> 5376 px: decoded at 1/2 scale (max_side 2048)
    big_array = np.asarray(Image.fromarray(photo).resize((photo.shape[1] * factor, photo.shape[0] * factor),
                                                         Image.Resampling.BICUBIC))
    big = auditor.check(jpeg(big_array, 90))
    assert (big.width, big.height) == (photo.shape[1] * factor, photo.shape[0] * factor)
    assert small.hands and len(big.hands) == len(small.hands)
    for hs, hb in zip(small.hands, big.hands):
        size = hs["box"][2] - hs["box"][0]
        assert np.allclose(np.array(hb["box"]) / factor, hs["box"], atol=0.1 * size)
        assert np.abs(np.array(hb["landmarks"])[:, :2] / factor - np.array(hs["landmarks"])[:, :2]).max() < 0.15 * size


def test_gallery_is_refused_until_faces_exist():
    with pytest.raises(ValueError, match="gallery"):
        Auditor(gallery="candidates.gallery")


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gesture_audit", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "160"})


@needs_dev
def test_check_command_matches_the_api(auditor, tmp_path):
    path = DEV / PHOTOS[0]
    proc = cli("check", path, "--json")
    assert proc.returncode == 0, proc.stderr
    line = json.loads(proc.stdout)
    assert validation_errors(line) == []
    same_result(Finding.from_dict(line), auditor.check(path), tol=0.5)
    flagged = line["verdict"] == "flag"
    assert cli("check", path, "--fail-on-flag").returncode == (1 if flagged else 0)
    text = cli("check", path)
    assert text.returncode == 0 and line["verdict"].upper() in text.stdout
    assert all(reason[:30] in " ".join(text.stdout.split()) for reason in line["reasons"])
    junk = tmp_path / "junk.jpg"
    junk.write_text("bukan foto")
    bad = cli("check", junk)
    assert bad.returncode == 2 and "not an image" in bad.stdout
    assert cli("check", path, "--election", tmp_path / "none.toml").returncode == 2


@needs_dev
@pytest.mark.parametrize("backend", ["onnx", "mediapipe"])
def test_hands_command(backend, tmp_path):
    paths = [DEV / PHOTOS[0], DEV / PHOTOS[3]]
    proc = cli("hands", *paths, "--json", "--backend", backend)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["path"] for x in lines] == [str(p) for p in paths]
    assert lines[0]["hands"] and all(len(h["fingers"]) == 5 and len(h["landmarks"]) == 21 for h in lines[0]["hands"])
    table = cli("hands", paths[0], tmp_path / "missing.jpg", "--backend", backend)
    assert table.returncode == 2 and "fingers" in table.stdout and "cannot read file" in table.stdout
