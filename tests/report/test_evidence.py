"""Evidence images: drawn hands on images made in code, crops, and placeholders for lost photos."""

from __future__ import annotations

import hashlib

import numpy as np
from made import hand_row
from PIL import Image

from gesture_audit.report.evidence import draw_hands, write_evidence
from gesture_audit.report.html import placeholder
from gesture_audit.results import Finding, HandResult


def hand(x0, y0, size, ballot=2):
    pts = [[x0 + size * (i % 5) / 4, y0 + size * (i // 5) / 4, 0.0] for i in range(21)]
    return hand_row(ballot, box=[x0, y0, x0 + size, y0 + size], landmarks=pts)


def photo(tmp_path, w=1200, h=900):
    path = tmp_path / "in" / "p.png"
    path.parent.mkdir()
    Image.fromarray(np.full((h, w, 3), 90, np.uint8)).save(path)
    data = path.read_bytes()
    finding = Finding(
        path="p.png",
        sha256=hashlib.sha256(data).hexdigest(),
        width=w,
        height=h,
        hands=[hand(100, 100, 300), hand(700, 400, 200, ballot=None)],
        verdict="flag",
        risk=0.9,
        reasons=["right hand shows 2"],
    )
    return path, finding


def test_draw_hands_marks_pixels_at_any_scale():
    base = Image.new("RGB", (400, 300), (0, 0, 0))
    f = Finding(path="x", sha256=None, width=800, height=600, hands=[hand(200, 200, 200)], verdict="flag", risk=1)
    drawn = np.asarray(draw_hands(base, f, 0.5))
    # The hand's box (200..400 in full pixels) lands at 100..200 at half scale.
    assert drawn[150, 95:105].any() and not drawn[280, 350].any()
    assert tuple(drawn[150, 100]) != (0, 0, 0)


def test_write_evidence_files(tmp_path):
    source, finding = photo(tmp_path)
    out = tmp_path / "out"
    ev = write_evidence(out, finding, source)
    assert ev.missing is None and len(ev.crops) == 2
    thumb, full = Image.open(out / ev.thumb), Image.open(out / ev.full)
    assert max(thumb.size) == 480 and max(full.size) == 1200
    assert all(max(Image.open(out / c).size) <= 320 for c in ev.crops)
    # Reused when present: the source is not needed a second time.
    source.unlink()
    assert write_evidence(out, finding, source) == ev


def test_placeholders_for_gone_or_changed_photos(tmp_path):
    source, finding = photo(tmp_path)
    out = tmp_path / "out"
    changed = Finding.from_dict({**finding.to_dict(), "sha256": "1" * 64})
    assert "changed" in write_evidence(out, changed, source).missing
    source.unlink()
    assert "no longer" in write_evidence(out, finding, source).missing
    assert write_evidence(out, finding, None).missing
    assert not (out / "evidence").exists() or not any((out / "evidence").iterdir())
    uri = placeholder("the photo is no longer where it was scanned")
    assert uri.startswith("data:image/svg+xml,") and "%3Csvg" in uri


def test_small_photos_are_enlarged_for_legible_drawings(tmp_path):
    source, finding = photo(tmp_path, 100, 80)
    finding.hands = [HandResult.from_dict(hand(10, 10, 50))]
    ev = write_evidence(tmp_path / "out", finding, source)
    assert Image.open(tmp_path / "out" / ev.thumb).size == (480, 384)
    assert Image.open(tmp_path / "out" / ev.full).size == (960, 768)


def test_faces_are_drawn_and_candidates_named():
    base = Image.new("RGB", (400, 300), (0, 0, 0))
    f = Finding(
        path="x",
        sha256=None,
        width=400,
        height=300,
        verdict="flag",
        risk=1,
        faces=[
            {"box": [20, 60, 120, 180], "score": 0.9, "candidate": "Prabowo Subianto", "ballot": 2, "distance": 0.4},
            {"box": [250, 60, 330, 160], "score": 0.9, "candidate": None, "ballot": None, "distance": 0.8},
        ],
    )
    drawn = np.asarray(draw_hands(base, f, 1.0))
    assert tuple(drawn[120, 20]) != (0, 0, 0) and tuple(drawn[110, 250]) != (0, 0, 0)
    assert drawn[:60, 20:120].any()  # the candidate's name label above the box
    assert not drawn[:55, 250:330].any()  # no label for a stranger


def test_campaign_text_gets_a_box_and_a_crop(tmp_path):
    source, finding = photo(tmp_path)
    finding.attributes = [
        {
            "kind": "text",
            "text": "COBLOS 02",
            "ballot": 2,
            "box": [500, 50, 900, 150],
            "confidence": 0.99,
            "reason": 'printed text "COBLOS 02" shows ballot 02',
        }
    ]
    out = tmp_path / "out"
    ev = write_evidence(out, finding, source)
    assert ev.crops[-1].endswith(".attr1.jpg") and len(ev.crops) == 3
    crop = Image.open(out / ev.crops[-1])
    assert max(crop.size) == 320  # a square around the 400 x 100 print, cut at the top edge
    drawn = np.asarray(Image.open(out / ev.full))
    assert not (drawn[100, 480:520] == 90).all()  # the box's left edge (x = 500) is drawn


def test_evidence_resampling_matches_pillow_lanczos():
    """Evidence views are resampled with OpenCV (a third faster per listed photo): same sizes as
    Pillow's LANCZOS gave, and the same picture within 2 grey levels on average (seen: at most 0.6
    on rendered hands, 1.4 on dev scenes, at 960, 480, 320 and 200 px)."""
    from gesture_audit.report.evidence import _fit
    from gesture_audit.synth import render_hand

    for seed in range(2):
        image = Image.fromarray(render_hand(gesture="v", rng=np.random.default_rng(seed), size=(360, 300)).image)
        for side, enlarge in ((960, True), (480, True), (200, False)):
            fitted, factor = _fit(image, side, enlarge=enlarge)
            size = (round(image.width * factor), round(image.height * factor))
            reference = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            assert fitted.size == reference.size == size
            assert np.abs(np.asarray(fitted, float) - np.asarray(reference, float)).mean() < 2.0, (seed, side)
