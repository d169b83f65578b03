"""Campaign material composited into photos: banners, shirts and backdrops printed with a pair's
number or names, seen in perspective, blurred and JPEG-compressed (for tests and the benchmark).

    image, label = composite(scene, election, rng)

`label` is the labels.jsonl `attributes` entry: kind "text", the text printed, its ballot, and the
box (x0, y0, x1, y1) of the printed area in the image. Fonts: Pillow's bundled one (no system font).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from gesture_audit.judge.election import Election

PLACES = ("banner", "shirt", "backdrop")
MIN_LINE = 16  # px: the smallest printed line height composited (legible at the photo's size)


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


def composite(scene: np.ndarray, election: Election, rng: np.random.Generator,
              place: str | None = None) -> tuple[np.ndarray, dict]:
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
    cw, ch = card.shape[1] * scale, card.shape[0] * scale
    x0 = rng.uniform(0, w - cw)
    y0 = {"banner": rng.uniform(0, h - ch), "shirt": rng.uniform(h * 0.55, max(h * 0.55, h - ch)),
          "backdrop": rng.uniform(0, max(0.0, h * 0.25 - ch / 2))}[place]
    corners = np.float32([[x0, y0], [x0 + cw, y0], [x0 + cw, y0 + ch], [x0, y0 + ch]])
    corners += rng.uniform(-0.12, 0.12, (4, 2)).astype(np.float32) * [cw, ch]  # perspective
    src = np.float32([[0, 0], [card.shape[1], 0], [card.shape[1], card.shape[0]], [0, card.shape[0]]])
    m = cv2.getPerspectiveTransform(src, corners)
    warped = cv2.warpPerspective(card, m, (w, h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full(card.shape[:2], 255, np.uint8), m, (w, h)) > 127
    out = scene.copy()
    if place == "shirt":  # cloth: folds darken the print
        folds = 1 + 0.15 * np.sin(np.arange(w, dtype=np.float32) / rng.uniform(6, 14))[None, :, None]
        warped = np.clip(warped * folds, 0, 255).astype(np.uint8)
    out[mask] = warped[mask]
    sigma = rng.uniform(0, 1.2)
    if sigma > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, "JPEG", quality=int(rng.integers(60, 91)))
    out = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    x, y = corners[:, 0].clip(0, w - 1), corners[:, 1].clip(0, h - 1)
    label = {"kind": "text", "text": text, "ballot": ballot, "place": place,
             "box": [round(float(v), 1) for v in (x.min(), y.min(), x.max(), y.max())]}
    return out, label
