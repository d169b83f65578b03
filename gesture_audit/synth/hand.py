"""A posed hand drawn into an image: capsules for the phalanges, a soft palm that blends into the
thumb's base and the forearm, skin with texture, nails, creases, self-shadow and a cast shadow."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gesture_audit.synth import surface
from gesture_audit.synth.skeleton import FINGER_RADIUS, MCP, THUMB_RADIUS, TIP_INSET, HandShape, Pose, segment_frames
from gesture_audit.synth.surface import Layer, Light, SoftGroup

PALM, FOREARM, SLEEVE, PHALANX = 0, 1, 2, 3

# Palm lines of a right hand (hand frame, mm): heart, head, life, and two wrist creases.
PALM_LINES = (
    [(-34, 63), (-18, 66), (-2, 67), (10, 72), (17, 78)],
    [(24, 53), (10, 50), (-6, 47), (-24, 42)],
    [(22, 53), (13, 46), (8, 36), (7, 23), (10, 11)],
    [(-20, 3), (-8, 1), (6, 1), (18, 4)],
    [(-19, -4), (-6, -6), (7, -6), (17, -3)],
)


def rotation(roll: float, pitch: float = 0.0, yaw: float = 0.0) -> np.ndarray:
    """Hand frame -> image frame (x right, y down, z toward the camera). Angles in degrees;
    roll is counter-clockwise as seen in the image."""
    r, p, w = np.radians([roll, pitch, yaw])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(w), 0, np.sin(w)], [0, 1, 0], [-np.sin(w), 0, np.cos(w)]])
    flip_y = np.diag([1.0, -1.0, 1.0])  # hand frame has y up, the image y down
    return flip_y @ rz @ rx @ ry


@dataclass
class PlacedHand:
    """A posed hand and where it sits: image point = origin + scale * rot @ hand-frame point."""

    joints: np.ndarray  # (21, 3) hand frame, mm, right-hand geometry
    pose: Pose
    shape: HandShape
    rot: np.ndarray  # (3, 3), includes the mirror for a left hand and the palm/back flip
    scale: float  # px per mm
    origin: np.ndarray  # (3,) image px of the hand frame's origin (the base of the palm)

    def project(self, pts) -> np.ndarray:
        return self.origin + self.scale * (np.asarray(pts, float) @ self.rot.T)

    def direction(self, vec) -> np.ndarray:
        return np.asarray(vec, float) @ self.rot.T

    @property
    def image_joints(self) -> np.ndarray:
        return self.project(self.joints)

    def forearm_start(self) -> np.ndarray:
        """Image point where the forearm leaves the heel of the palm."""
        return self.project([0.0, 6.0 * self.shape.size, 0.0])


def orientation(handedness: str, facing: str, roll: float, pitch: float, yaw: float) -> np.ndarray:
    mirror = np.diag([-1.0, 1.0, 1.0]) if handedness == "left" else np.eye(3)
    back = np.diag([-1.0, 1.0, -1.0]) if facing == "back" else np.eye(3)
    return rotation(roll, pitch, yaw) @ back @ mirror


@dataclass
class DrawnHand:
    """What `draw_hand` leaves behind: the truth about the hand as drawn."""

    joints: np.ndarray  # (21, 2) image px
    box: list[float]  # hand without the forearm, union the joints, clipped to the image
    alpha: np.ndarray  # coverage over `window` (hand and arm)
    window: tuple[int, int, int, int]  # x0, y0, x1, y1 in the image


def _primitives(hand: PlacedHand, elbow: np.ndarray, shoulder: np.ndarray | None, sleeve_from: float | None):
    """[(group, kind, a, b, ra, rb, flat, palmar, finger, phalanx)] in image px."""
    j, shp, s = hand.joints, hand.shape, hand.scale
    size, width = shp.size, shp.size * shp.width
    palm_n = hand.direction([0.0, 0.0, 1.0])
    frames = segment_frames(hand.pose)
    prims = []

    def add(group, kind, a_local, b_local, ra, rb, flat=1.0, palmar=(0.0, 0.0, 1.0), finger=-1, phalanx=-1):
        a, b = hand.project(a_local), hand.project(b_local)
        ra, rb, flat = _apparent(a, b, ra * s, rb * s, flat, palm_n)
        prims.append((group, kind, a, b, ra, rb, flat, hand.direction(palmar), finger, phalanx))

    # Palm: metacarpals fanning from the wrist, the hypothenar edge, the wrist, the thumb's base.
    for f in range(4):
        base = np.array([MCP[f, 0] * 0.45 * shp.width, 16.0, 0.0]) * size
        add("soft", PALM, base, j[5 + 4 * f], 12.0 * width, (11.0 - f * 0.6) * width, 0.82)
    add(
        "soft",
        PALM,
        np.array([-21.0 * shp.width, 14.0, 0.0]) * size,
        np.array([-26.0 * shp.width, 60.0, 0.0]) * size,
        14.0 * width,
        11.0 * width,
        0.82,
    )
    add(
        "soft",
        PALM,
        np.array([-11.0 * shp.width, 8.0, 0.0]) * size,
        np.array([9.0 * shp.width, 8.0, 0.0]) * size,
        13.0 * width,
        13.0 * width,
        0.8,
    )
    cmc, tmcp = j[1], j[2]
    add(
        "soft",
        PALM,
        np.array([11.0 * shp.width, 12.0, 0.0]) * size,
        0.45 * cmc + 0.55 * tmcp,
        16.0 * width,
        12.5 * width,
        0.85,
    )
    add("soft", PALM, cmc + 0.3 * (tmcp - cmc), tmcp, THUMB_RADIUS[0] * width, THUMB_RADIUS[1] * width, 0.95)
    # Forearm from the wrist to the elbow (given in image px), blended into the palm.
    wrist = hand.forearm_start()
    r_wrist = 24.5 * width * s

    def arm(group, kind, a, b, ra, rb, flat):
        prims.append((group, kind, a, b, *_apparent(a, b, ra, rb, flat, palm_n), palm_n, -1, -1))

    arm("soft", FOREARM, wrist, elbow, r_wrist, r_wrist * 1.25, 0.68)
    if sleeve_from is not None:
        start = wrist + sleeve_from * (elbow - wrist)
        arm("hard", SLEEVE, start, elbow, r_wrist * (1.12 + 0.25 * sleeve_from), r_wrist * 1.4, 0.75)
    if shoulder is not None:
        arm("hard", SLEEVE, elbow, shoulder, r_wrist * 1.4, r_wrist * 1.6, 0.8)
    # Finger roots and the webs between them blend into the palm; without them every finger
    # would start as a separate sausage at its knuckle.
    roots = []
    for f in range(4):
        mcp, pip = j[5 + 4 * f], j[6 + 4 * f]
        r = FINGER_RADIUS[f, 0] * width
        add("soft", PALM, mcp, mcp + 0.35 * (pip - mcp), r, r * 0.97, 1.0, frames[f + 1, 0])
        roots.append(mcp + 0.22 * (pip - mcp))
    for f in range(3):
        add("soft", PALM, roots[f], roots[f + 1], 6.5 * width, 6.5 * width, 0.9)
    # Knuckles: the metacarpal heads stand out on the back of the hand.
    for f in range(4):
        head = j[5 + 4 * f] + np.array([0.0, -3.0, -4.0]) * size
        add("soft", PALM, head, head, FINGER_RADIUS[f, 0] * 0.95 * width, FINGER_RADIUS[f, 0] * 0.95 * width)
    add(
        "soft",
        PALM,
        j[2],
        j[2] + 0.3 * (j[3] - j[2]),
        THUMB_RADIUS[1] * width,
        THUMB_RADIUS[1] * width,
        1.0,
        frames[0, 1],
    )
    # Phalanges: the tip capsule's end sphere reaches a little past the tip joint (TIP_INSET).
    for f in range(5):
        if f == 0:
            idx, radii, first = [2, 3, 4], THUMB_RADIUS[1:], 1
        else:
            idx, radii, first = [4 * f + 1, 4 * f + 2, 4 * f + 3, 4 * f + 4], FINGER_RADIUS[f - 1], 0
        radii = radii * width
        for k in range(len(idx) - 1):
            a, b = j[idx[k]], j[idx[k + 1]]
            rb = radii[k + 1]
            if k == len(idx) - 2:
                d = b - a
                b = b + d / max(np.linalg.norm(d), 1e-6) * rb * (TIP_INSET - 0.9)
            add("hard", PHALANX, a, b, radii[k], rb, 1.0, frames[f, k + first], f, k + first)
    return prims


def _apparent(a, b, ra, rb, flat, normal) -> tuple[float, float, float]:
    """Radii and depth flattening, as seen by the camera, of a capsule whose cross-section is an
    ellipse: `ra`/`rb` across the palm, `flat` times that along the palm normal. A flattened
    forearm seen from the side looks narrow and deep, not wide."""
    if flat >= 0.999:
        return ra, rb, flat
    axis = b - a
    length = np.linalg.norm(axis)
    across = np.hypot(axis[0], axis[1])
    if length < 1e-6 or across < 1e-3 * length:
        return ra, rb, flat
    axis = axis / length
    e2 = normal - normal.dot(axis) * axis
    e2 /= max(np.linalg.norm(e2), 1e-9)
    e1 = np.cross(axis, e2)
    p = np.array([-axis[1], axis[0], 0.0]) / np.hypot(axis[0], axis[1])
    wide = np.hypot(e1.dot(p), flat * e2.dot(p))
    deep = np.hypot(e1[2], flat * e2[2])
    return ra * wide, rb * wide, deep / max(wide, 1e-3)


def _palm_lines(hand: PlacedHand, layer: Layer, rng: np.random.Generator) -> np.ndarray:
    canvas = np.zeros(layer.shape, np.float32)
    shp = hand.shape
    for k, line in enumerate(PALM_LINES):
        pts = np.array([[x * shp.width, y, 9.0] for x, y in line]) * shp.size
        pts[:, :2] += rng.normal(0.0, 2.0 if k < 3 else 0.3, (len(pts), 2))
        # Densify so the polyline reads as a curve.
        fine = np.concatenate(
            [np.linspace(pts[i], pts[i + 1], 6, endpoint=False) for i in range(len(pts) - 1)] + [pts[-1:]]
        )
        xy = layer.local(hand.project(fine))[:, :2]
        weight = rng.uniform(0.5, 1.0) if k < 3 else rng.uniform(0.2, 0.4)
        cv2.polylines(
            canvas,
            [np.round(xy * 4).astype(np.int32)],
            False,
            weight,
            thickness=max(int(round(0.9 * layer.ss * hand.scale)), 1),
            lineType=cv2.LINE_AA,
            shift=2,
        )
    return cv2.GaussianBlur(canvas, (0, 0), 0.6 * layer.ss)


def _back_marks(hand: PlacedHand, layer: Layer, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Extensor tendons (wrist to each knuckle) and a few veins on the back of the hand, as
    blurred line maps over the layer."""
    shp = hand.shape
    tendons = np.zeros(layer.shape, np.float32)
    veins = np.zeros(layer.shape, np.float32)
    px = layer.ss * hand.scale  # layer pixels per mm

    def draw(target, pts, weight, width_mm):
        pts = np.asarray(pts, float) * shp.size
        fine = np.concatenate(
            [np.linspace(pts[i], pts[i + 1], 8, endpoint=False) for i in range(len(pts) - 1)] + [pts[-1:]]
        )
        xy = layer.local(hand.project(fine))[:, :2]
        cv2.polylines(
            target,
            [np.round(xy * 4).astype(np.int32)],
            False,
            weight,
            thickness=max(int(round(width_mm * px)), 1),
            lineType=cv2.LINE_AA,
            shift=2,
        )

    for f in range(4):
        x_end = MCP[f, 0] * shp.width
        draw(
            tendons,
            [(x_end * 0.3, 12, -9), (x_end * 0.7, 45, -10), (x_end, MCP[f, 1] - 6, -10)],
            rng.uniform(0.5, 1.0),
            2.5,
        )
    for _ in range(rng.integers(2, 5)):
        x0, x1 = rng.uniform(-20, 15), rng.uniform(-25, 20)
        mid = (x0 + x1) / 2 + rng.normal(0, 6)
        draw(
            veins,
            [(x0, 0, -9), (mid, rng.uniform(25, 45), -10), (x1, rng.uniform(55, 72), -10)],
            rng.uniform(0.4, 1.0),
            rng.uniform(1.5, 2.5),
        )
    return (cv2.GaussianBlur(tendons, (0, 0), 1.2 * px), cv2.GaussianBlur(veins, (0, 0), 0.8 * px))


def _smoothstep(a: float, b: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - a) / (b - a), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def draw_hand(
    canvas: np.ndarray,
    hand: PlacedHand,
    *,
    skin: str,
    light: Light,
    rng: np.random.Generator,
    elbow: np.ndarray,
    shoulder: np.ndarray | None = None,
    sleeve_from: float | None = None,
    sleeve_color=(0.3, 0.3, 0.35),
    ss: int = 2,
    shadow_on_background: float = 0.35,
) -> DrawnHand:
    """Draw the hand (and its arm) over `canvas` (float sRGB, H x W x 3) in place."""
    img_h, img_w = canvas.shape[:2]
    prims = _primitives(hand, elbow, shoulder, sleeve_from)
    lo = np.min([np.minimum(p[2][:2] - p[4], p[3][:2] - p[5]) for p in prims], axis=0)
    hi = np.max([np.maximum(p[2][:2] + p[4], p[3][:2] + p[5]) for p in prims], axis=0)
    x0, y0 = max(int(np.floor(lo[0])) - 1, 0), max(int(np.floor(lo[1])) - 1, 0)
    x1, y1 = min(int(np.ceil(hi[0])) + 2, img_w), min(int(np.ceil(hi[1])) + 2, img_h)
    layer = Layer(x0, y0, x1 - x0, y1 - y0, ss)
    group = SoftGroup(layer, k=3.0 * hand.scale * ss)
    kinds, palmar, phalanges, lengths = [], [], [], []
    for pid, (grp, kind, a, b, ra, rb, flat, pdir, _, phalanx) in enumerate(prims):
        la, lb = layer.local(a), layer.local(b)
        surf = layer.capsule(la, lb, ra * ss, rb * ss, flat)
        (group.add if grp == "soft" else layer.draw)(surf, pid)
        kinds.append(kind)
        palmar.append(pdir)
        phalanges.append(phalanx)
        lengths.append(float(np.linalg.norm(lb - la)))
    group.resolve()

    mask = layer.mask
    part = np.where(mask, layer.part, 0)
    kind = np.asarray(kinds)[part]
    phalanx = np.asarray(phalanges)[part]
    seg_len = np.asarray(lengths, np.float32)[part]
    normal, t = layer.normal, layer.t
    pal = np.einsum("hwc,hwc->hw", normal, np.asarray(palmar, np.float32)[part])

    back, palm = (surface.to_linear(c) for c in surface.SKIN_TONES[skin])
    tone = list(surface.SKIN_TONES).index(skin) / (len(surface.SKIN_TONES) - 1)
    w_palm = _smoothstep(-0.1, 0.55, pal)
    w_palm = np.where(kind == FOREARM, 0.55 * w_palm, w_palm)
    albedo = back + (palm - back) * w_palm[..., None]
    shape = layer.shape
    albedo *= (1 + 0.05 * surface.noise(shape, 14 * ss, rng))[..., None]
    albedo *= 1 + 0.05 * surface.noise(shape, 24 * ss, rng)[..., None] * np.array([1.0, -0.1, -0.25])
    fine = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 0.6 * ss)
    albedo *= (1 + 0.05 * fine)[..., None]
    is_phalanx = kind == PHALANX
    # Fingertip pads are redder.
    red = is_phalanx & (phalanx == 2)
    albedo[red] *= 1 + 0.10 * np.array([1.0, -0.35, -0.45]) * (t[red] ** 2)[:, None]
    # Flexion creases on the palmar side of each joint; finer wrinkles over the knuckles.
    px = 1.0 * ss * hand.scale  # about 1 mm
    crease = np.zeros(shape, np.float32)
    for ph, spots in ((0, (0.12, 0.96)), (1, (0.05, 0.95)), (2, (0.07,))):
        sel = is_phalanx & (phalanx == ph)
        for spot in spots:
            crease = np.where(sel, np.maximum(crease, np.exp(-((((t - spot) * seg_len) / (0.8 * px)) ** 2))), crease)
    crease *= _smoothstep(0.1, 0.5, pal)
    # Knuckles (PIP and DIP on the back of the fingers, MCP heads on the back of the hand): wrinkled,
    # darker on dark skin, redder on light skin.
    dorsal_side = _smoothstep(0.15, 0.55, -pal)
    near_joint = np.where(
        phalanx == 2,
        np.exp(-(((t * seg_len) / (4 * px)) ** 2)),
        np.exp(-((((1 - t) * seg_len) / (5 * px)) ** 2)) + np.exp(-(((t * seg_len) / (4 * px)) ** 2)),
    )
    knuckle = is_phalanx * np.clip(near_joint, 0, 1) * dorsal_side
    mcp_xy = layer.local(hand.project(hand.joints[[5, 9, 13, 17]]))[:, :2]
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    for x, y in mcp_xy:
        d2 = (xs - x) ** 2 + (ys - y) ** 2
        knuckle = np.maximum(knuckle, (kind == PALM) * np.exp(-d2 / (7 * px) ** 2) * dorsal_side)
    wrinkle = knuckle * (0.5 + 0.5 * np.sin((t * seg_len) / (0.6 * px)))
    albedo *= 1 - knuckle[..., None] * (0.12 * tone + (1 - tone) * np.array([-0.05, 0.06, 0.08], np.float32))
    lines = _palm_lines(hand, layer, rng) * ((kind == PALM) | (kind == FOREARM)) * _smoothstep(0.3, 0.7, pal)
    albedo *= (1 - 0.35 * crease - 0.15 * wrinkle - 0.4 * np.clip(lines, 0, 1))[..., None]
    tendons, veins = _back_marks(hand, layer, rng)
    on_back = ((kind == PALM) | (kind == FOREARM)) * _smoothstep(0.3, 0.7, -pal)
    albedo *= (1 + 0.08 * np.clip(tendons, 0, 1) * on_back)[..., None]
    vein_tint = np.array([0.12, 0.1, -0.02], np.float32) * (1 - 0.5 * tone)
    albedo *= 1 - (np.clip(veins, 0, 1) * on_back)[..., None] * vein_tint
    # Nails on the back of the distal phalanges.
    dorsal = -pal
    nail = (is_phalanx & (phalanx == 2)) * _smoothstep(0.42, 0.58, dorsal) * _smoothstep(0.25, 0.4, t)
    nail_color = albedo * 0.55 + np.array([0.62, 0.45, 0.42], np.float32) * 0.45
    edge = 4 * nail * (1 - nail)
    albedo = albedo + (nail_color - albedo) * nail[..., None]
    albedo *= (1 - 0.25 * edge)[..., None]
    # Sleeve: cloth with folds.
    cloth = kind == SLEEVE
    if cloth.any():
        folds = 1 + 0.12 * surface.noise(shape, 10 * ss, rng)
        albedo[cloth] = surface.to_linear(np.asarray(sleeve_color) * 255) * folds[cloth][:, None]

    # Deep shadows and contact darkening between fingers: the hand detector relies on them,
    # the more so the darker the skin.
    shadow = np.clip(
        1.5 * surface.cast_shadow(layer.depth, light.direction, reach=40 * hand.scale * ss, bias=2.0 * hand.scale * ss),
        0,
        1,
    )
    ao = surface.ambient_occlusion(layer.depth, mask, sigma=6 * hand.scale * ss, scale=6 * hand.scale * ss)
    # Darker skin shows its highlights more.
    gloss = np.where(cloth, 0.0, 0.04 + 0.08 * tone + 0.25 * nail)
    rgb = surface.lambert(
        normal, light, albedo, shadow=shadow, occlusion=ao, gloss=gloss, sheen=np.where(cloth, 0.0, 0.06)
    )
    pre, alpha = surface.downsample(layer, surface.to_srgb(rgb))

    win = (slice(y0, y1), slice(x0, x1))
    if shadow_on_background > 0:
        _drop_shadow(canvas, alpha, (x0, y0), light, hand.scale, shadow_on_background)
    canvas[win] = canvas[win] * (1 - alpha[..., None]) + pre

    joints2d = hand.image_joints[:, :2]
    handmask = (
        cv2.resize(
            ((kind == PALM) | is_phalanx).astype(np.float32) * mask, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA
        )
        > 0.3
    )
    ys, xs = np.nonzero(handmask)
    lo = joints2d.min(0)
    hi = joints2d.max(0)
    if len(xs):
        lo = np.minimum(lo, [xs.min() + x0, ys.min() + y0])
        hi = np.maximum(hi, [xs.max() + x0 + 1, ys.max() + y0 + 1])
    box = [
        float(np.clip(lo[0], 0, img_w)),
        float(np.clip(lo[1], 0, img_h)),
        float(np.clip(hi[0], 0, img_w)),
        float(np.clip(hi[1], 0, img_h)),
    ]
    return DrawnHand(joints2d, box, alpha, (x0, y0, x1, y1))


def _drop_shadow(
    canvas: np.ndarray, alpha: np.ndarray, at: tuple[int, int], light: Light, scale: float, strength: float
) -> None:
    """Darken what lies behind the hand, offset away from the light and blurred."""
    img_h, img_w = canvas.shape[:2]
    x0, y0 = at
    dist = 25.0 * scale
    lx, ly = light.direction[:2]
    dx, dy = int(round(-lx * dist)), int(round(-ly * dist))
    blur = 8.0 * scale
    pad = int(3 * blur) + max(abs(dx), abs(dy)) + 1
    h, w = alpha.shape
    big = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
    big[pad + dy : pad + dy + h, pad + dx : pad + dx + w] = alpha
    big = cv2.GaussianBlur(big, (0, 0), blur)
    gx0, gy0 = x0 - pad, y0 - pad
    cx0, cy0 = max(gx0, 0), max(gy0, 0)
    cx1, cy1 = min(gx0 + big.shape[1], img_w), min(gy0 + big.shape[0], img_h)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    sub = big[cy0 - gy0 : cy1 - gy0, cx0 - gx0 : cx1 - gx0]
    canvas[cy0:cy1, cx0:cx1] *= (1 - strength * sub)[..., None]
