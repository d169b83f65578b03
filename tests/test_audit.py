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
from paths import DEV, needs_dev
from PIL import Image

from gesture_audit.audit import Auditor
from gesture_audit.load import load_image
from gesture_audit.report.schema import validation_errors
from gesture_audit.results import Finding

PHOTOS = [
    "hagrid/peace/peace_00004.jpg",
    "mediapipe/hand_thumb_up.jpg",
    "hagrid/three/three_00001.jpg",
    "negatives/bus.jpg",
    "hagrid/fist/fist_00003.jpg",
]


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
@pytest.mark.timeout(300)
def test_check_many_in_lanes_matches_one_batch_at_a_time(auditor, tmp_path):
    """`gesture-audit scan` judges one batch per core at once (EngineOptions(lanes=0)): the same
    findings, in input order, error rows included, as one batch at a time."""
    from gesture_audit.detect.engine import EngineOptions

    bad = tmp_path / "bad.jpg"
    bad.write_bytes((DEV / PHOTOS[1]).read_bytes()[:3000])  # truncated
    sources = [DEV / p for p in PHOTOS] + [bad] + [DEV / p for p in reversed(PHOTOS)]
    laned = Auditor(engine=EngineOptions(lanes=2))
    assert laned.engine.lanes == 2
    assert laned.engine.palms.session.get_session_options().intra_op_num_threads == 1  # all cores, split in 2
    singles = list(auditor.check_many(sources, batch=2))
    many = list(laned.check_many(sources, batch=2))
    assert [f.path for f in many] == [f.path for f in singles]
    for a, b in zip(singles, many):
        same_result(a, b)
    assert [f.status for f in many].count("error") == 1
    assert Auditor(engine=EngineOptions(lanes=0, threads=1)).engine.lanes == len(os.sched_getaffinity(0))


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
    factor = 16  # 336 px -> 5376 px: decoded at 1/2 scale (max_side 1920)
    big_array = np.asarray(
        Image.fromarray(photo).resize((photo.shape[1] * factor, photo.shape[0] * factor), Image.Resampling.BICUBIC)
    )
    big = auditor.check(jpeg(big_array, 90))
    assert (big.width, big.height) == (photo.shape[1] * factor, photo.shape[0] * factor)
    assert small.hands and len(big.hands) == len(small.hands)
    for hs, hb in zip(small.hands, big.hands):
        size = hs["box"][2] - hs["box"][0]
        assert np.allclose(np.array(hb["box"]) / factor, hs["box"], atol=0.1 * size)
        assert np.abs(np.array(hb["landmarks"])[:, :2] / factor - np.array(hs["landmarks"])[:, :2]).max() < 0.15 * size


def test_decode_then_judge_is_check(auditor, tmp_path):
    """The two public stages: `decode` keeps the loader's reason, `judge` runs a list in one call."""
    truncated = tmp_path / "cut.jpg"
    whole = jpeg(np.random.default_rng(0).integers(0, 255, (256, 256, 3), np.uint8))
    truncated.write_bytes(whole[: len(whole) // 2])
    reasons = [
        (b"", "empty"),
        (b"bukan foto", "not_image"),
        (truncated, "truncated"),
        (tmp_path / "missing.jpg", "unreadable"),
        (np.zeros((4, 4), np.uint8), "unsupported"),
    ]
    for source, reason in reasons:
        decoded = auditor.decode(source)
        assert decoded.image is None and decoded.reason == reason and decoded.finding.status == "error"
    good = np.full((240, 320, 3), 200, np.uint8)
    decoded = [auditor.decode(good), auditor.decode(b""), auditor.decode(jpeg(good))]
    assert decoded[0].reason is None and decoded[0].image is not None and decoded[0].scale == 1.0
    findings = auditor.judge(decoded)
    assert [f.status for f in findings] == ["ok", "error", "ok"]
    assert all(d.image is None for d in decoded)  # released once judged
    same_result(findings[0], auditor.check(good))
    assert auditor.judge([]) == []


def test_no_face_work_without_a_gallery(auditor):
    assert auditor.gallery is None and auditor.faces is None
    assert "faces" not in auditor.check(np.full((240, 320, 3), 200, np.uint8)).to_dict()


def test_an_unusable_gallery_is_refused_before_any_model_loads(tmp_path):
    with pytest.raises(ValueError, match="cannot read the gallery"):
        Auditor(gallery=tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not a gesture-audit gallery"):
        Auditor(gallery=tmp_path / "other.json")


@pytest.fixture(scope="module")
def with_gallery(auditor, candidate_gallery):
    return Auditor(gallery=candidate_gallery, engine=auditor.engine)


def test_a_candidate_with_other_people_is_flagged(auditor, with_gallery, dev_faces):
    photos = sorted((dev_faces / "test").iterdir())
    found = {Path(f.path).name: f for f in with_gallery.check_many(photos, batch=3)}
    assert sorted(found) == sorted(p.name for p in photos)
    for name, finding in found.items():
        assert finding.ok and finding.faces, name
        assert validation_errors(finding.to_dict()) == [], name
        hands_only = auditor.check(dev_faces / "test" / name)
        assert finding.hands == hands_only.hands  # faces add to the verdict, never change the hands
        assert finding.risk >= hands_only.risk

    kit = found["kit_with_rose.jpg"]  # Kit Harington (candidate 02) beside Rose Leslie (not a candidate)
    assert kit.verdict == "flag"
    assert kit.reasons[0].startswith("candidate 02 Kit Harington appears with 1 other person")
    assert sorted((f["candidate"] or "", f["ballot"]) for f in kit.faces) == [("", None), ("Kit Harington", 2)]
    assert all(0 < f["distance"] for f in kit.faces)

    alone = found["johnsnow_test1.jpg"]
    assert alone.verdict == "review" and alone.reasons[0].startswith("candidate 02 Kit Harington appears without")
    mates = found["obama_and_biden.jpg"]  # two candidates of one ballot, nobody else
    assert mates.verdict == "review"
    assert "candidate 01 Barack Obama" in mates.reasons[0] and "candidate 01 Joe Biden" in mates.reasons[0]
    stranger = found["alex_lacamoire1.jpg"]  # not in the gallery
    assert [f["candidate"] for f in stranger.faces] == [None]
    assert not any("candidate" in reason for reason in stranger.reasons)


def test_faces_are_found_once_per_photo_by_the_engine(with_gallery, dev_faces):
    """With a gallery the Auditor has no face detector of its own: the engine's (with its session
    options) finds the faces with the hands. Where the group pass ran, its whole-photo view gives
    the same faces as a separate whole-photo pass of the detector did before."""
    from gesture_audit.detect.faces import FaceDetector

    assert with_gallery.faces is None
    image = with_gallery.decode(dev_faces / "test" / "obama_and_biden.jpg").image  # 2000 × 1428: a group-pass photo
    engine = with_gallery.engine
    assert engine.groups.applies(image, engine.detect_hands([image])[0])
    ((_, faces),) = engine.detect([image], faces=True)
    alone = FaceDetector().detect([image])[0]
    assert len(faces) == len(alone) == 2
    for a, b in zip(sorted(faces, key=lambda f: f.box[0]), sorted(alone, key=lambda f: f.box[0])):
        assert np.allclose(a.box, b.box, atol=0.5) and abs(a.score - b.score) < 1e-3


def test_faces_are_reported_in_full_size_pixels(auditor, candidate_gallery, dev_faces):
    path = dev_faces / "test" / "obama_and_biden.jpg"  # 2000 × 1428
    full = Auditor(gallery=candidate_gallery, engine=auditor.engine, max_side=None)
    reduced = Auditor(gallery=candidate_gallery, engine=auditor.engine, max_side=512)
    assert full.decode(path).scale == 1.0 and reduced.decode(path).scale == 0.5
    a, b = full.check(path), reduced.check(path)
    assert (a.width, a.height) == (b.width, b.height) == (2000, 1428)
    assert [f["candidate"] for f in a.faces] == [f["candidate"] for f in b.faces] and len(a.faces) == 2
    for fa, fb in zip(a.faces, b.faces):
        side = fa["box"][2] - fa["box"][0]
        assert side > 150  # full-size pixels, not the half-size decode's
        assert np.allclose(fa["box"], fb["box"], atol=0.05 * side)


def test_without_the_faces_extra_faces_are_found_but_not_matched(tmp_path, dev_faces):
    """A fresh interpreter where dlib cannot be imported (as when the extra is not installed)."""
    from gesture_audit.identify.gallery import Gallery, Photo

    gallery = Gallery()
    gallery.add("Kit Harington", [Photo("x.jpg", "0" * 64, np.ones(128, np.float32) / np.sqrt(128))], ballot=2)
    gallery.save(tmp_path / "g.json")
    script = f"""
import json, sys
sys.modules["dlib"] = None  # what an absent package looks like to `import dlib`
from gesture_audit.audit import Auditor
auditor = Auditor(gallery={str(tmp_path / "g.json")!r})
for finding in auditor.check_many([{str(dev_faces / "test" / "kit_with_rose.jpg")!r}] * 2):
    print(json.dumps(finding.to_dict()))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for line in map(json.loads, done.stdout.splitlines()):
        assert validation_errors(line) == []
        assert len(line["faces"]) == 2
        assert all(f["candidate"] is None and f["distance"] is None for f in line["faces"])
        assert not any("candidate" in reason for reason in line["reasons"])
    assert done.stderr.count("face matching is off") == 1
    assert "pip install 'gesture-audit[faces]'" in done.stderr


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gesture_audit", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "160"},
    )


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


def test_check_command_with_a_gallery(candidate_gallery, dev_faces, tmp_path):
    path = dev_faces / "test" / "kit_with_rose.jpg"
    proc = cli("check", path, "--gallery", candidate_gallery, "--json", "--fail-on-flag")
    assert proc.returncode == 1, proc.stderr
    line = json.loads(proc.stdout)
    assert validation_errors(line) == [] and line["verdict"] == "flag"
    assert line["reasons"][0].startswith("candidate 02 Kit Harington appears with 1 other person")
    assert sorted(f["candidate"] or "" for f in line["faces"]) == ["", "Kit Harington"]
    text = cli("check", path, "--gallery", candidate_gallery)
    assert text.returncode == 0 and "FLAG" in text.stdout
    assert "2 face(s); candidates: Kit Harington (02)" in text.stdout
    missing = cli("check", path, "--gallery", tmp_path / "none.json")
    assert missing.returncode == 2 and "cannot read the gallery" in missing.stderr


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


@pytest.mark.timeout(300)
def test_printed_campaign_text_is_an_attribute_of_the_finding():
    pytest.importorskip("rapidocr_onnxruntime", reason="reading text needs gesture-audit[ocr]")
    from gesture_audit.judge.election import load_election
    from gesture_audit.synth.attributes import composite

    rng = np.random.default_rng(2)
    scene = np.full((600, 800, 3), 170, np.uint8)
    image, label = composite(scene, load_election(), rng, "backdrop")
    assert label["text"] == "Nomor Urut 03"
    finding = Auditor(text=True).check(image)
    assert [a["ballot"] for a in finding.attributes] == [3]
    assert finding.verdict == "review" and 'printed text "' in finding.reasons[0]
    assert validation_errors(finding.to_dict()) == []
    assert "attributes" not in Auditor(text=False).check(image).to_dict()


def test_a_photo_decoded_at_reduced_scale_keeps_each_hands_person(auditor):
    """A phone-size group photo (long side >= 2 x 1920 px) decodes at half scale; its hands are
    scaled back to full-size pixels and keep the person the group pass tied them to (the scaling
    once rebuilt each hand field by field and dropped `person`). Four rendered people showing V,
    enlarged to 4000 x 2500 px."""
    import cv2

    from gesture_audit.synth import render_group

    render = render_group(4, np.random.default_rng(0), size=(1600, 1000), gesture="v")
    data = jpeg(cv2.resize(render.image, (4000, 2500), interpolation=cv2.INTER_CUBIC), quality=90)
    decoded = auditor.decode(data)
    assert decoded.scale == 0.5 and decoded.image.shape[:2] == (1250, 2000)
    expected = auditor.engine.detect_hands([decoded.image])[0]
    finding = auditor.check(data)
    assert finding.ok and finding.width == 4000 and len(finding.hands) == len(expected)
    assert [h.person for h in finding.hands] == [h.person for h in expected]
    assert any(h.person is not None for h in finding.hands), "the group pass tied no hand to a person"
    for found, seen in zip(finding.hands, expected):
        assert np.allclose(found.box, seen.box * 2, atol=0.1)
    assert any("person" in str(r) for r in finding.reasons)  # the reasons say who, as an auditor would
