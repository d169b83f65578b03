"""Campaign material composited into photos: banners, shirts and backdrops printed with a pair's
number or names, or with a (made-up) party symbol, seen in perspective, blurred and JPEG-compressed
(for tests and the benchmark).

    image, label = composite(scene, election, rng)                 # printed text
    symbol = render_symbol(rng)                                    # a made-up party logo
    image, label = composite_symbol(scene, [(name, ballot, symbol), ...], rng)

`label` is the labels.jsonl `attributes` entry: kind "text" or "symbol", the text printed or the
symbol's name, its ballot, and the box (x0, y0, x1, y1) of the printed area in the image. Fonts:
Pillow's bundled one (no system font).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from gesture_audit.judge.election import Election

PLACES = ("banner", "shirt", "backdrop")
MIN_LINE = 16  # px: the smallest printed line height composited (legible at the photo's size)
MIN_SYMBOL = 80  # px: the narrowest symbol composited (a party logo on a shirt a few metres away)


def campaign_texts(election: Election) -> list[tuple[str, int]]:
    """What campaigns print, per pair: the number in the ways they print it, names, nicknames."""
    out = []
    for n, pair in sorted(election.pairs.items()):
        out += [(f"{n:02d}", n), (f"No. {n}", n), (f"COBLOS {n}", n), (f"Nomor Urut {n:02d}", n)]
        out += [(name.upper(), n) for name in pair.names[:1]]
        out += [(nick.upper(), n) for nick in pair.nicknames] + [(s, n) for s in pair.slogans]
    return out


def print_text(lines: list[str], rng: np.random.Generator, height: int = 96) -> np.ndarray:
    """Text lines printed on a coloured rectangle (RGB uint8), `height` px a line."""
    font = ImageFont.load_default(int(height * 0.7))
    widths = [font.getbbox(line)[2] for line in lines]
    w, h = int(max(widths) + height * 0.8), int(height * (len(lines) + 0.4))
    bg = tuple(int(v) for v in rng.integers(0, 256, 3))
    ink = (255, 255, 255) if sum(bg) < 3 * 140 else (20, 20, 20)
    card = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(card)
    for i, line in enumerate(lines):
        draw.text(((w - widths[i]) / 2, height * (0.2 + i)), line, font=font, fill=ink)
    return np.asarray(card)


def render_symbol(rng: np.random.Generator, side: int = 320) -> np.ndarray:
    """A made-up party symbol (RGB uint8, `side` px square): a coloured disc or shield, random
    shapes (stars, triangles, rings, bars) and two or three letters. Seeded: the same `rng` state
    gives the same symbol. No real party's logo (trademarks): tests and benchmarks use these."""

    def colour(dark: bool | None = None):  # dark or light, so that shapes stand out from the field
        dark = rng.random() < 0.5 if dark is None else dark
        return tuple(int(v) for v in (rng.integers(0, 110, 3) if dark else rng.integers(150, 256, 3)))

    card = Image.new("RGB", (side, side), (255, 255, 255))
    draw = ImageDraw.Draw(card)
    m = side * 0.04
    field_dark = rng.random() < 0.5
    if rng.random() < 0.5:
        draw.ellipse([m, m, side - m, side - m], fill=colour(field_dark), outline=(20, 20, 20), width=int(side * 0.03))
    else:
        draw.polygon(
            [(m, m), (side - m, m), (side - m, side * 0.6), (side / 2, side - m), (m, side * 0.6)],
            fill=colour(field_dark),
            outline=(20, 20, 20),
            width=int(side * 0.03),
        )
    for _ in range(int(rng.integers(5, 9))):
        cx, cy, r = *rng.uniform(side * 0.25, side * 0.75, 2), rng.uniform(side * 0.08, side * 0.2)
        kind = rng.integers(4)
        if kind == 0:  # a star
            k = int(rng.integers(5, 9))
            angles = np.arange(2 * k) * np.pi / k + rng.uniform(0, np.pi)
            radii = np.where(np.arange(2 * k) % 2, r * 0.45, r)
            draw.polygon(
                list(zip(cx + radii * np.cos(angles), cy + radii * np.sin(angles))), fill=colour(not field_dark)
            )
        elif kind == 1:  # a triangle
            angles = rng.uniform(0, 2 * np.pi) + np.array([0, 2.1, 4.2])
            draw.polygon(list(zip(cx + r * np.cos(angles), cy + r * np.sin(angles))), fill=colour(not field_dark))
        elif kind == 2:  # a ring
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=colour(not field_dark), width=max(2, int(r * 0.3)))
        else:  # a bar
            draw.rectangle([cx - r, cy - r * 0.3, cx + r, cy + r * 0.3], fill=colour())
    letters = "".join(chr(c) for c in rng.integers(65, 91, int(rng.integers(2, 4))))
    font = ImageFont.load_default(int(side * 0.22))
    x0, y0, x1, y1 = font.getbbox(letters)
    at = ((side - (x1 - x0)) / 2 - x0, side * 0.62 - y0)
    draw.text(at, letters, font=font, fill=(255, 255, 255), stroke_width=max(2, side // 80), stroke_fill=(20, 20, 20))
    return np.asarray(card)


def _paste(
    scene: np.ndarray, card: np.ndarray, rng: np.random.Generator, place: str, size: float, cover: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """`card` printed on `scene` at `place` with the width `size` px: in perspective, on cloth
    (folds, weave, faded colour) for a shirt, partly covered (up to `cover` of its width) by a block
    of the scene, blurred and JPEG-compressed. Returns the image and the printed area's box."""
    h, w = scene.shape[:2]
    scale = size / card.shape[1]
    cw, ch = card.shape[1] * scale, card.shape[0] * scale
    x0 = rng.uniform(0, max(0.0, w - cw))
    low = max(0.0, min(h * 0.55, h - ch))  # a shirt's print: the lower part of the photo, in frame
    y0 = {
        "banner": rng.uniform(0, max(0.0, h - ch)),
        "shirt": rng.uniform(low, max(low, h - ch)),
        "backdrop": rng.uniform(0, max(0.0, h * 0.25 - ch / 2)),
    }[place]
    corners = np.array([[x0, y0], [x0 + cw, y0], [x0 + cw, y0 + ch], [x0, y0 + ch]], np.float32)
    corners += rng.uniform(-0.12, 0.12, (4, 2)).astype(np.float32) * [cw, ch]  # perspective
    src = np.array([[0, 0], [card.shape[1], 0], [card.shape[1], card.shape[0]], [0, card.shape[0]]], np.float32)
    m = cv2.getPerspectiveTransform(src, corners)
    warped = cv2.warpPerspective(card, m, (w, h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full(card.shape[:2], 255, np.uint8), m, (w, h)) > 127
    out = scene.copy()
    if place == "shirt":  # cloth: folds darken the print, the weave textures it, the dye fades
        folds = 1 + 0.15 * np.sin(np.arange(w, dtype=np.float32) / rng.uniform(6, 14))[None, :, None]
        weave = 1 + rng.normal(0, 0.05, (h, w, 1)).astype(np.float32)
        fade = rng.uniform(0.8, 1.0, 3).astype(np.float32)
        warped = np.clip(warped * folds * weave * fade, 0, 255).astype(np.uint8)
    out[mask] = warped[mask]
    if cover > 0:  # something in front of the print: a block of the scene from elsewhere
        bw, bh = int(rng.uniform(0.1, cover) * cw), int(ch * rng.uniform(0.3, 1.0))
        bx, by = int(x0 + rng.uniform(0, cw - bw)), int(y0 + rng.uniform(0, max(1.0, ch - bh)))
        bx, by = min(max(bx, 0), w - 1), min(max(by, 0), h - 1)
        bw, bh = max(1, min(bw, w - bx)), max(1, min(bh, h - by))
        sx, sy = int(rng.uniform(0, w - bw)), int(rng.uniform(0, h - bh))
        out[by : by + bh, bx : bx + bw] = scene[sy : sy + bh, sx : sx + bw]
    sigma = rng.uniform(0, 1.2)
    if sigma > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, "JPEG", quality=int(rng.integers(60, 91)))
    out = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    x, y = corners[:, 0].clip(0, w - 1), corners[:, 1].clip(0, h - 1)
    return out, np.array([x.min(), y.min(), x.max(), y.max()], np.float32)


def _box(box: np.ndarray) -> list[float]:
    return [round(float(v), 1) for v in box]


def composite(
    scene: np.ndarray, election: Election, rng: np.random.Generator, place: str | None = None
) -> tuple[np.ndarray, dict]:
    """`scene` with one printed campaign text on it; returns the image and its attribute label."""
    place = place or PLACES[rng.integers(len(PLACES))]
    h, w = scene.shape[:2]
    texts = campaign_texts(election)
    # Print big enough to read: a line MIN_LINE px tall or more, and at most 90 % of the width
    # (a shirt: 45 %); a text too long for that is replaced by another.
    for _ in range(20):
        text, ballot = texts[rng.integers(len(texts))]
        card = print_text([text], rng)
        line = rng.uniform(MIN_LINE, max(MIN_LINE * 1.5, h * {"shirt": 0.08}.get(place, 0.15)))
        scale = line * 1.4 / card.shape[0]
        if card.shape[1] * scale <= w * (0.45 if place == "shirt" else 0.9):
            break
    else:
        scale = w * 0.9 / card.shape[1]
    out, box = _paste(scene, card, rng, place, card.shape[1] * scale)
    return out, {"kind": "text", "text": text, "ballot": ballot, "place": place, "box": _box(box)}


def composite_symbol(
    scene: np.ndarray, symbols: list[tuple[str, int, np.ndarray]], rng: np.random.Generator, place: str | None = None
) -> tuple[np.ndarray, dict]:
    """`scene` with one of `symbols` (name, ballot, RGB image) printed on it, MIN_SYMBOL px wide
    or more and up to a quarter covered; returns the image and its attribute label (kind "symbol")."""
    place = place or PLACES[rng.integers(len(PLACES))]
    name, ballot, card = symbols[rng.integers(len(symbols))]
    short = min(scene.shape[:2])
    size = rng.uniform(MIN_SYMBOL, max(MIN_SYMBOL * 1.5, short * {"shirt": 0.3}.get(place, 0.45)))
    out, box = _paste(scene, card, rng, place, size, cover=0.25)
    return out, {"kind": "symbol", "text": name, "ballot": ballot, "place": place, "box": _box(box)}
