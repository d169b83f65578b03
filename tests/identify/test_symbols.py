"""Party symbols: the gallery file, and made-up symbols (rendered here, no real logo) found in
composites with perspective, scale, cloth and partial cover, and not found in clean photos."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from gesture_audit.identify.symbols import (
    MIN_INLIERS,
    Reference,
    SymbolError,
    SymbolGallery,
    SymbolMatcher,
    reference_symbols,
    sane_outline,
)
from gesture_audit.synth.attributes import PLACES, composite_symbol, render_symbol


@pytest.fixture(scope="module")
def symbols():
    """Four made-up symbols (name, ballot, image), seeded."""
    rng = np.random.default_rng(7)
    return [(f"Partai {k}", 1 + k % 3, render_symbol(rng)) for k in range(4)]


@pytest.fixture(scope="module")
def gallery_file(symbols, tmp_path_factory):
    """A symbols file built as `gesture-audit symbols add` builds it, from PNG files."""
    folder = tmp_path_factory.mktemp("symbols")
    gallery = SymbolGallery()
    for name, ballot, image in symbols:
        path = folder / f"{name}.png"
        Image.fromarray(image).save(path)
        gallery.add(name, reference_symbols([path]), ballot)
    gallery.save(folder / "symbols.json")
    return folder / "symbols.json"


@pytest.fixture(scope="module")
def matcher(gallery_file):
    return SymbolMatcher(SymbolGallery.load(gallery_file))


def _background(rng: np.random.Generator, h: int = 600, w: int = 800) -> np.ndarray:
    """A cluttered rendered scene: blurred random blocks of colour."""
    small = rng.integers(0, 256, (h // 40, w // 40, 3)).astype(np.uint8)
    import cv2

    return cv2.GaussianBlur(cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST), (0, 0), 3)


def test_the_file_round_trips_and_refuses_what_it_cannot_use(gallery_file, symbols, tmp_path):
    data = json.loads(gallery_file.read_text())
    assert data["format"] == "gesture-audit-symbols" and data["version"] == 1
    loaded = SymbolGallery.load(gallery_file)
    assert [(s.name, s.ballot, len(s.images)) for s in loaded.symbols] == [(n, b, 1) for n, b, _ in symbols]
    assert loaded.symbols[0].images[0].image.shape == (400, 400, 3)  # stored at REFERENCE_SIDE
    ref = loaded.symbols[0].images[0]
    with pytest.raises(SymbolError, match="already in the gallery as 'Partai 0'"):
        loaded.add("Another", [ref], 1)
    with pytest.raises(SymbolError, match="has ballot 1, not 2"):
        loaded.add("Partai 0", [Reference("x.png", "abc", ref.image)], 2)
    assert loaded.add("Partai 0", [ref], 1).images == [ref]  # the same image again: skipped
    with pytest.raises(SymbolError, match="no symbol named"):
        loaded.remove("Nobody")
    future = tmp_path / "future.json"
    future.write_text(json.dumps({**data, "version": 2}))
    with pytest.raises(SymbolError, match="version 2 is not supported"):
        SymbolGallery.load(future)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**data, "symbols": [{"name": "x", "ballot": 1, "images": [{"png": "!!"}]}]}))
    with pytest.raises(SymbolError, match="damaged"):
        SymbolGallery.load(broken)


def test_a_plain_or_unreadable_logo_is_refused_and_nothing_added(tmp_path, symbols):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (300, 300), (200, 30, 30)).save(plain)
    good = tmp_path / "good.png"
    Image.fromarray(symbols[0][2]).save(good)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(SymbolError) as refused:
        reference_symbols([good, plain, broken])
    assert "plain.png: only" in str(refused.value) and "broken.png" in str(refused.value)
    assert "good.png" not in str(refused.value)


def test_degenerate_outlines_are_not_prints():
    assert sane_outline([[0, 0], [100, 0], [110, 90], [-5, 100]])  # a print in perspective
    assert not sane_outline([[50, 50]] * 4)  # every point on one: a repeated pattern
    assert not sane_outline([[0, 0], [0, 100], [100, 100], [100, 0]])  # mirrored
    assert not sane_outline([[0, 0], [100, 0], [0, 100], [100, 100]])  # crossed
    assert not sane_outline([[0, 0], [200, 0], [200, 10], [0, 10]])  # a sliver
    assert not sane_outline([[0, 0], [10, 0], [10, 10], [0, 10]])  # too small to be a print
    wide = [[0, 0], [200, 0], [200, 40], [0, 40]]  # a banner-wide logo seen as it is: not a sliver
    assert sane_outline(wide, reference=wide) and not sane_outline([[0, 0], [400, 0], [400, 8], [0, 8]], wide)


def test_symbols_are_found_in_perspective_at_scale_on_cloth_and_partly_covered(matcher, symbols):
    rng = np.random.default_rng(3)
    found = 0
    for k in range(12):
        image, label = composite_symbol(_background(rng), symbols, rng, place=PLACES[k % 3])
        matches = matcher.match(image)
        box = np.array(label["box"])
        hit = [m for m in matches if m.name == label["text"] and m.ballot == label["ballot"]]
        if hit:
            b = hit[0].box
            inter = np.clip(np.minimum(b[2:], box[2:]) - np.maximum(b[:2], box[:2]), 0, None).prod()
            assert inter > 0.5 * (box[2:] - box[:2]).prod(), (label, b)  # the box is where it was printed
            assert hit[0].inliers >= MIN_INLIERS and 0 < hit[0].share <= 1
        found += bool(hit)
        # Another symbol never stands in for this one (made-up symbols share a font, not a design).
        assert all(m.name == label["text"] for m in matches), (label, [m.name for m in matches])
    # benchmarks/attributes.py finds 0.9+ of symbols composited on dev scenes; 10 of 12 leaves that margin.
    assert found >= 10


def test_small_prints_on_cloth_partly_covered_are_found(matcher, symbols):
    """The hard case: prints 80-130 px wide on a shirt (folds, weave, faded dye), up to a quarter
    covered, blurred, JPEG; what the homography matcher missed most (benchmarks/README.md)."""
    rng = np.random.default_rng(12)
    found = 0
    for _ in range(12):
        # A 300 px short side makes composite_symbol print a shirt's symbol 80-120 px wide.
        image, label = composite_symbol(_background(rng, 300, 400), symbols, rng, place="shirt")
        matches = matcher.match(image)
        found += any(m.name == label["text"] for m in matches)
        assert all(m.name == label["text"] for m in matches), (label, [m.name for m in matches])
    # Measured on these 12: the homography with 8 inliers found 8, the similarity with the references
    # at three sizes 11 (seeds 11 and 13: 9 and 10 before, 12 and 11 now); 10 leaves one of margin.
    assert found >= 10


def test_nothing_is_found_without_symbols_or_in_clean_dev_photos(matcher, dev_labels, dev_root):
    from gesture_audit.load import load_image

    assert SymbolMatcher(SymbolGallery()).match(np.zeros((50, 50, 3), np.uint8)) == []
    for row in dev_labels[::60]:  # 27 photos across every set
        assert matcher.match(load_image(dev_root / row["path"])) == [], row["path"]


def test_a_banner_wide_logo_is_found(symbols, tmp_path):
    """A logo five times as wide as tall (a party's name beside its emblem) keeps that shape in the
    photo: its outline is not a sliver (the check compares it with the reference's own shape)."""
    import cv2

    wide = np.concatenate([image for _, _, image in symbols] + [symbols[0][2]], axis=1)  # 5 : 1
    logo = tmp_path / "wide.png"
    Image.fromarray(wide).save(logo)
    gallery = SymbolGallery()
    gallery.add("Partai Lebar", reference_symbols([logo]), 2)
    matcher = SymbolMatcher(gallery)
    rng = np.random.default_rng(5)
    scene = _background(rng)
    print_ = cv2.resize(wide, (600, 120), interpolation=cv2.INTER_AREA)
    turn = cv2.getRotationMatrix2D((300, 60), 8, 1.0)  # hung a little crooked
    print_ = cv2.warpAffine(print_, turn, (600, 120), borderMode=cv2.BORDER_REPLICATE)
    scene[200:320, 100:700] = print_
    matches = matcher.match(scene)
    assert [m.name for m in matches] == ["Partai Lebar"]
    assert abs(float(matches[0].box[0]) - 100) < 40 and abs(float(matches[0].box[2]) - 700) < 40
