"""What is behind and around the hands: rooms and streets, people, and the camera itself."""

from __future__ import annotations

import cv2
import numpy as np

from gesture_audit.synth import surface
from gesture_audit.synth.surface import Layer, Light

TORSO, HEAD, HAIR, NECK, CLOTH = range(5)


def color(rng: np.random.Generator, sat=(0.05, 0.45), val=(0.35, 0.9)) -> np.ndarray:
    """A random sRGB colour (0..1) from hue / saturation / value ranges."""
    hsv = np.array([[[rng.integers(0, 180), rng.uniform(*sat) * 255, rng.uniform(*val) * 255]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255.0


def _texture(shape, rng, scale, amount) -> np.ndarray:
    return (1 + amount * surface.noise(shape, scale, rng))[..., None]


def _box(img, x0, y0, x1, y1, color, rng, grain=0.05) -> None:
    h, w = img.shape[:2]
    x0, x1 = sorted((int(np.clip(x0, 0, w)), int(np.clip(x1, 0, w))))
    y0, y1 = sorted((int(np.clip(y0, 0, h)), int(np.clip(y1, 0, h))))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    img[y0:y1, x0:x1] = color * _texture((y1 - y0, x1 - x0), rng, max(min(x1 - x0, y1 - y0) / 4, 2), grain)


def _room(rng, w, h) -> np.ndarray:
    wall = color(rng, sat=(0.02, 0.3), val=(0.45, 0.92))
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = wall * (1 + rng.uniform(-0.15, 0.15) * (ys - 0.5)) * np.ones((h, w, 1), np.float32)
    img *= _texture((h, w), rng, 40, 0.05) * _texture((h, w), rng, 3, 0.025)
    if rng.random() < 0.3:  # wallpaper stripes
        period = rng.uniform(8, 40)
        img *= (1 + 0.05 * np.sin(np.arange(w, dtype=np.float32) * 2 * np.pi / period))[None, :, None]
    unit = min(w, h)
    for _ in range(rng.integers(3, 10)):
        kind = rng.choice(["frame", "window", "shelf", "door", "plant", "lamp", "bars"])
        x, y = rng.uniform(-0.1, 1.0) * w, rng.uniform(-0.1, 0.9) * h
        bw, bh = rng.uniform(0.1, 0.45) * unit, rng.uniform(0.1, 0.5) * unit
        if kind == "frame":
            _box(img, x, y, x + bw, y + bh, color(rng, val=(0.1, 0.7)), rng)
            m = 0.1 * min(bw, bh)
            inner = color(rng, sat=(0.1, 0.7))
            _box(img, x + m, y + m, x + bw - m, y + bh - m, inner, rng, grain=0.3)
        elif kind == "window":
            _box(img, x, y, x + bw, y + bh, np.array([0.85, 0.9, 0.95], np.float32) * rng.uniform(0.8, 1.1), rng, 0.1)
            bar = max(int(0.04 * bw), 2)
            c = color(rng, sat=(0, 0.2), val=(0.5, 0.95))
            _box(img, x + bw / 2 - bar, y, x + bw / 2 + bar, y + bh, c, rng)
            _box(img, x, y + bh / 2 - bar, x + bw, y + bh / 2 + bar, c, rng)
        elif kind == "shelf":
            _box(img, x, y + bh * 0.9, x + bw * 1.5, y + bh, color(rng, val=(0.2, 0.6)), rng)
            bx = x
            while bx < x + bw * 1.5:
                bookw = rng.uniform(0.015, 0.05) * unit
                _box(
                    img,
                    bx,
                    y + bh * rng.uniform(0.2, 0.5),
                    bx + bookw,
                    y + bh * 0.9,
                    color(rng, sat=(0.2, 0.8), val=(0.2, 0.85)),
                    rng,
                )
                bx += bookw * rng.uniform(1.0, 1.3)
        elif kind == "door":
            _box(img, x, y, x + bw * 0.6, h, color(rng, val=(0.2, 0.8)), rng, 0.08)
        elif kind == "plant":
            leaf = color(rng, sat=(0.4, 0.8), val=(0.2, 0.6))
            leaf[1] = max(leaf[1], leaf[0] + 0.1)
            for _ in range(rng.integers(8, 25)):
                cx, cy = x + rng.normal(0, bw / 4), y + rng.normal(0, bh / 4)
                axes = (int(rng.uniform(0.02, 0.06) * unit), int(rng.uniform(0.006, 0.02) * unit))
                cv2.ellipse(
                    img,
                    (int(cx), int(cy)),
                    axes,
                    float(rng.uniform(0, 180)),
                    0,
                    360,
                    (leaf * rng.uniform(0.7, 1.2)).tolist(),
                    -1,
                    cv2.LINE_AA,
                )
        elif kind == "lamp":
            cv2.circle(
                img, (int(x), int(y)), int(bw / 4), (np.array([1, 0.97, 0.85], np.float32)).tolist(), -1, cv2.LINE_AA
            )
        else:
            for k in range(rng.integers(2, 8)):
                yy = int(y + k * bh / 6)
                cv2.line(
                    img,
                    (int(x), yy),
                    (int(x + bw * 2), yy + int(rng.normal(0, 10))),
                    color(rng).tolist(),
                    max(int(unit / 150), 1),
                    cv2.LINE_AA,
                )
    if rng.random() < 0.6:  # floor
        top = int(h * rng.uniform(0.7, 0.95))
        floor = color(rng, sat=(0.1, 0.5), val=(0.25, 0.7))
        boards = 1 + 0.08 * np.sin(np.arange(w, dtype=np.float32) / rng.uniform(6, 20))[None, :, None]
        img[top:] = floor * boards * _texture((h - top, w), rng, 6, 0.06)
    return img


def _street(rng, w, h) -> np.ndarray:
    sky_top, sky_low = color(rng, sat=(0.1, 0.5), val=(0.6, 1.0)), np.array([0.9, 0.92, 0.95], np.float32)
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = (sky_top * (1 - ys) + sky_low * ys) * np.ones((h, w, 1), np.float32)
    unit = min(w, h)
    horizon = rng.uniform(0.45, 0.75) * h
    x = -rng.uniform(0, 0.2) * w
    while x < w:
        bw = rng.uniform(0.15, 0.5) * unit
        top = horizon - rng.uniform(0.1, 0.6) * h
        c = color(rng, sat=(0.05, 0.4), val=(0.3, 0.9))
        _box(img, x, top, x + bw, horizon, c, rng, 0.06)
        for wy in np.arange(top + 0.05 * bw, horizon - 0.1 * bw, 0.18 * bw):
            for wx in np.arange(x + 0.08 * bw, x + bw - 0.15 * bw, 0.22 * bw):
                _box(img, wx, wy, wx + 0.12 * bw, wy + 0.1 * bw, c * rng.uniform(0.3, 0.7), rng)
        x += bw * rng.uniform(0.9, 1.3)
    for _ in range(rng.integers(0, 5)):  # trees
        cx, cy = rng.uniform(0, w), horizon - rng.uniform(0.05, 0.3) * h
        green = np.array([rng.uniform(0.1, 0.3), rng.uniform(0.3, 0.55), rng.uniform(0.1, 0.25)], np.float32)
        for _ in range(30):
            p = (int(cx + rng.normal(0, 0.08 * unit)), int(cy + rng.normal(0, 0.08 * unit)))
            cv2.circle(
                img, p, int(rng.uniform(0.02, 0.06) * unit), (green * rng.uniform(0.7, 1.3)).tolist(), -1, cv2.LINE_AA
            )
    ground = color(rng, sat=(0.0, 0.25), val=(0.3, 0.7))
    img[int(horizon) :] = ground * _texture((h - int(horizon), w), rng, 5, 0.1)
    return img * _texture((h, w), rng, 2.5, 0.03)


def background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A cluttered, textured backdrop, float sRGB (h, w, 3)."""
    img = _room(rng, w, h) if rng.random() < 0.7 else _street(rng, w, h)
    return np.clip(img, 0, 1).astype(np.float32)


def draw_person(
    canvas: np.ndarray,
    rng: np.random.Generator,
    cx: float,
    shoulder_y: float,
    scale: float,
    skin: str,
    light: Light,
    *,
    arms: str | tuple[str, str] = "down",
    shirt=None,
) -> dict:
    """A person facing the camera (torso, neck, head with hair and a face), drawn in place.

    `scale` is px per mm. `arms`: "down" (hanging out of the frame), "crossed" (over the chest,
    hands hidden), "none" (the caller draws them), or a pair for the image-left and image-right
    arm ("down" / "none"). Returns the shoulders (image-left first), head and shirt colour.
    """
    img_h, img_w = canvas.shape[:2]
    s = scale
    half = rng.uniform(175, 215) * s
    shirt = color(rng, sat=(0.05, 0.8), val=(0.1, 0.85)) if shirt is None else np.asarray(shirt, np.float32)
    hair = color(rng, sat=(0.1, 0.5), val=(0.03, 0.35)) if rng.random() < 0.9 else np.array([0.7, 0.7, 0.7], np.float32)
    tilt = rng.normal(0, 15) * s
    head_c = np.array([cx + tilt, shoulder_y - 235 * s, 40 * s])
    shoulders = [
        np.array([cx - (half - 45 * s), shoulder_y + 30 * s, 0.0]),
        np.array([cx + (half - 45 * s), shoulder_y + 30 * s, 0.0]),
    ]
    prims = [
        (TORSO, [cx, shoulder_y + 90 * s, 0], [cx, shoulder_y + 1200 * s, 0], half - 20 * s, half, 0.45),
        (TORSO, shoulders[0], shoulders[1], 65 * s, 65 * s, 0.6),
        (
            NECK,
            [cx + tilt / 3, shoulder_y + 20 * s, -10 * s],
            [cx + tilt / 2, shoulder_y - 130 * s, 0],
            55 * s,
            52 * s,
            0.9,
        ),
        (HAIR, head_c + [0, -42 * s, -25 * s], head_c + [0, 10 * s, -25 * s], 86 * s, 84 * s, 0.9),
        (HEAD, head_c + [0, -40 * s, 0], head_c + [0, 35 * s, 0], 77 * s, 70 * s, 0.9),
    ]
    if arms == "crossed":
        for side, sh in zip((-1, 1), shoulders):
            elbow = sh + [side * 40 * s, 280 * s, 30 * s]
            prims.append((CLOTH, sh, elbow, 50 * s, 45 * s, 0.8))
            hand_at = np.array([cx - side * (half - 60 * s), shoulder_y + rng.uniform(180, 240) * s, 90 * s])
            prims.append((CLOTH, elbow, hand_at, 45 * s, 42 * s, 0.8))
    else:
        for side, sh, arm in zip((-1, 1), shoulders, (arms, arms) if isinstance(arms, str) else arms):
            if arm == "down":
                end = sh + [side * rng.uniform(20, 90) * s, 1000 * s, 10 * s]
                prims.append((CLOTH, sh, end, 52 * s, 45 * s, 0.8))
    lo = np.min([np.minimum(np.asarray(a)[:2] - ra, np.asarray(b)[:2] - rb) for _, a, b, ra, rb, _ in prims], 0)
    hi = np.max([np.maximum(np.asarray(a)[:2] + ra, np.asarray(b)[:2] + rb) for _, a, b, ra, rb, _ in prims], 0)
    x0, y0 = max(int(lo[0]), 0), max(int(lo[1]), 0)
    x1, y1 = min(int(np.ceil(hi[0])) + 1, img_w), min(int(np.ceil(hi[1])) + 1, img_h)
    if x1 <= x0 or y1 <= y0:
        return {"shoulders": shoulders, "head": head_c, "shirt": shirt}
    layer = Layer(x0, y0, x1 - x0, y1 - y0, 1)
    kinds = []
    for pid, (kind, a, b, ra, rb, flat) in enumerate(prims):
        la, lb = layer.local(np.asarray(a, float)), layer.local(np.asarray(b, float))
        layer.draw(layer.capsule(la, lb, ra, rb, flat), pid)
        kinds.append(kind)
    mask = layer.mask
    part_kind = np.asarray(kinds)[np.where(mask, layer.part, 0)]
    skin_lin = surface.to_linear(surface.SKIN_TONES[skin][0])
    albedo = np.empty(layer.shape + (3,), np.float32)
    albedo[:] = surface.to_linear(shirt * 255)
    albedo[(part_kind == HEAD) | (part_kind == NECK)] = skin_lin
    albedo[part_kind == HAIR] = surface.to_linear(hair * 255)
    ys = np.arange(layer.shape[0])[:, None] + y0
    hairline = head_c[1] - rng.uniform(45, 65) * s
    albedo[(part_kind == HEAD) & (ys < hairline)] = surface.to_linear(hair * 255)
    albedo *= _texture(layer.shape, rng, max(80 * s, 2), 0.08)  # cloth folds, skin blotches
    rgb = surface.to_srgb(surface.lambert(layer.normal, light, albedo, wrap=(0.3, 0.25, 0.2), gloss=0.02))
    alpha = mask.astype(np.float32)[..., None]
    win = canvas[y0:y1, x0:x1]
    win[:] = win * (1 - alpha) + rgb * alpha
    _face(canvas, head_c, s, rng)
    return {"shoulders": shoulders, "head": head_c, "shirt": shirt}


def _face(canvas, head_c, s, rng) -> None:
    dark = (0.08, 0.06, 0.05)
    cx, cy = head_c[0], head_c[1]
    for side in (-1, 1):
        eye = (int(cx + side * 30 * s), int(cy - 5 * s))
        cv2.ellipse(canvas, eye, (max(int(11 * s), 1), max(int(5 * s), 1)), 0, 0, 360, dark, -1, cv2.LINE_AA)
        brow = (int(cx + side * 30 * s), int(cy - 22 * s))
        cv2.ellipse(
            canvas,
            brow,
            (max(int(16 * s), 1), max(int(4 * s), 1)),
            side * 8.0,
            180,
            360,
            dark,
            max(int(4 * s), 1),
            cv2.LINE_AA,
        )
    lips = tuple(float(c) for c in np.array([0.55, 0.25, 0.25], np.float32) * rng.uniform(0.6, 1.0))
    cv2.ellipse(
        canvas, (int(cx), int(cy + 50 * s)), (max(int(22 * s), 1), max(int(6 * s), 1)), 0, 0, 360, lips, -1, cv2.LINE_AA
    )
    cv2.line(
        canvas,
        (int(cx), int(cy + 5 * s)),
        (int(cx + 4 * s), int(cy + 28 * s)),
        (0.25, 0.18, 0.15),
        max(int(3 * s), 1),
        cv2.LINE_AA,
    )


def depth_of_field(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0.2 else img


def camera(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sensor and lens: white balance, exposure, vignette, softness, noise -> uint8 RGB."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / (0.25 * (w * w + h * h))
    # Centre-weighted auto exposure, half way toward mid grey.
    linear = np.clip(img, 0, 1) ** 2.2
    weight = np.exp(-2 * r2)
    mean = float((linear.mean(-1) * weight).sum() / weight.sum())
    gain = float(np.clip((0.18 / max(mean, 1e-3)) ** 0.5, 0.75, 1.8))
    img = (linear * gain) ** (1 / 2.2)
    img = img * (1 + rng.normal(0, 0.035, 3)).astype(np.float32)
    img = (img - 0.5) * rng.uniform(0.9, 1.15) + 0.5 + rng.uniform(-0.05, 0.05)
    img *= (1 - rng.uniform(0, 0.25) * r2)[..., None]
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.75))
    img += rng.normal(0, rng.uniform(0.004, 0.018), img.shape).astype(np.float32)
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def jpeg(rgb: np.ndarray, quality: int) -> tuple[bytes, np.ndarray]:
    """The encoded file and what a reader decodes from it."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    data = buf.tobytes()
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("JPEG decoding failed")
    return data, cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
