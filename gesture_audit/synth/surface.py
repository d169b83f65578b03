"""Shaded 3D surfaces on a z-buffer: tapered capsules, soft-blended groups, lighting.

Geometry arrives in image pixels (x right, y down, z toward the camera, same scale as x and y).
A `Layer` covers a window of the image at `ss`-times supersampling; every primitive writes depth,
normal, part id and the position along its axis where it is nearest to the camera. Per-pixel
shading from the distance to each capsule's axis is enough for the hand detector to see a hand;
flat silhouettes are not.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Skin tones, light to dark, spanning about Monk skin tone scale 2 to 8 (the range of skin in
# Indonesian photos): sRGB of the back of the hand and of the palm (palms are lighter and pinker,
# the more so the darker the skin). MediaPipe finds darker hands less often: on the same 160 scenes
# it missed 1 % of tone5 hands, 2 % of tone6 and 12 % of Monk 9 ones ((62, 46, 36)).
SKIN_TONES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "tone1": ((240, 212, 194), (242, 206, 192)),
    "tone2": ((226, 186, 156), (232, 190, 168)),
    "tone3": ((200, 150, 112), (218, 166, 140)),
    "tone4": ((164, 116, 82), (206, 150, 122)),
    "tone5": ((130, 88, 62), (196, 140, 114)),
    "tone6": ((96, 64, 47), (180, 124, 102)),
}


def to_linear(srgb) -> np.ndarray:
    return (np.asarray(srgb, np.float32) / 255.0) ** 2.2


def to_srgb(linear: np.ndarray) -> np.ndarray:
    return np.clip(linear, 0.0, 1.0) ** (1 / 2.2)


@dataclass
class Surface:
    """One primitive's front surface over a window of the layer."""

    sl: tuple[slice, slice]
    z: np.ndarray  # -inf outside
    normal: np.ndarray  # (h, w, 3), unit length
    t: np.ndarray  # 0..1 along the axis


class Layer:
    """A supersampled window of the image with a z-buffer."""

    def __init__(self, x0: int, y0: int, w: int, h: int, ss: int):
        self.x0, self.y0, self.w, self.h, self.ss = x0, y0, w, h, ss
        shape = (h * ss, w * ss)
        self.depth = np.full(shape, -np.inf, np.float32)
        self.normal = np.zeros(shape + (3,), np.float32)
        self.part = np.full(shape, -1, np.int16)
        self.t = np.zeros(shape, np.float32)

    @property
    def shape(self) -> tuple[int, int]:
        return self.depth.shape

    @property
    def mask(self) -> np.ndarray:
        return self.part >= 0

    def local(self, pts: np.ndarray) -> np.ndarray:
        """Image pixels (x, y, z) -> layer pixels (pixel centres at integers)."""
        pts = np.asarray(pts, np.float64)
        out = pts * self.ss
        out[..., 0] -= self.x0 * self.ss + 0.5
        out[..., 1] -= self.y0 * self.ss + 0.5
        return out

    def capsule(self, a, b, ra: float, rb: float, flat: float = 1.0) -> Surface | None:
        """Front surface of a tapered capsule between layer points a and b (radii in layer px).

        `flat` < 1 squashes the cross-section toward the camera (a forearm, a palm). The axis
        term covers the body; the two end spheres cover a segment seen end-on.
        """
        hgt, wid = self.shape
        x0 = max(int(np.floor(min(a[0] - ra, b[0] - rb))), 0)
        x1 = min(int(np.ceil(max(a[0] + ra, b[0] + rb))) + 1, wid)
        y0 = max(int(np.floor(min(a[1] - ra, b[1] - rb))), 0)
        y1 = min(int(np.ceil(max(a[1] + ra, b[1] + rb))) + 1, hgt)
        if x1 <= x0 or y1 <= y0:
            return None
        xs = np.arange(x0, x1, dtype=np.float32)[None, :]
        ys = np.arange(y0, y1, dtype=np.float32)[:, None]
        dx, dy = b[0] - a[0], b[1] - a[1]
        l2 = dx * dx + dy * dy
        if l2 > 1e-6:
            t = np.clip(((xs - a[0]) * dx + (ys - a[1]) * dy) / l2, 0.0, 1.0)
        else:
            t = np.zeros((y1 - y0, x1 - x0), np.float32)
        ex = xs - (a[0] + t * dx)
        ey = ys - (a[1] + t * dy)
        r = ra + t * (rb - ra)
        s2 = r * r - ex * ex - ey * ey
        s = np.sqrt(np.maximum(s2, 0.0))
        z = np.where(s2 > 0, a[2] + t * (b[2] - a[2]) + flat * s, -np.inf)
        for p, rp, tp in ((a, ra, 0.0), (b, rb, 1.0)):
            px, py = xs - p[0], ys - p[1]
            sp2 = rp * rp - px * px - py * py
            zp = np.where(sp2 > 0, p[2] + flat * np.sqrt(np.maximum(sp2, 0.0)), -np.inf)
            better = zp > z
            if better.any():
                z = np.where(better, zp, z)
                ex = np.where(better, px, ex)
                ey = np.where(better, py, ey)
                s = np.where(better, np.sqrt(np.maximum(sp2, 0.0)), s)
                t = np.where(better, tp, t)
        normal = np.stack(np.broadcast_arrays(flat * ex, flat * ey, s), axis=-1)
        normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-6)
        t = np.broadcast_to(t, z.shape)
        return Surface(
            (slice(y0, y1), slice(x0, x1)), z.astype(np.float32), normal.astype(np.float32), t.astype(np.float32)
        )

    def draw(self, surf: Surface | None, part: int) -> None:
        """Hard z-test: the primitive wins where it is nearer."""
        if surf is None:
            return
        sl = surf.sl
        win = surf.z > self.depth[sl]
        self.depth[sl][win] = surf.z[win]
        self.normal[sl][win] = surf.normal[win]
        self.part[sl][win] = part
        self.t[sl][win] = surf.t[win]


class SoftGroup:
    """Primitives blended into one smooth surface (smooth maximum of their depths, softness k px),
    e.g. the palm, the thumb's base and the forearm. Normals are the softmax-weighted mix of the
    primitives' normals, which is the normal of the blended surface."""

    def __init__(self, layer: Layer, k: float):
        self.layer, self.k = layer, k
        self.acc = np.full(layer.shape, -np.inf, np.float32)
        self.normal = np.zeros(layer.shape + (3,), np.float32)
        self.best = np.full(layer.shape, -np.inf, np.float32)
        self.part = np.full(layer.shape, -1, np.int16)
        self.t = np.zeros(layer.shape, np.float32)

    def add(self, surf: Surface | None, part: int) -> None:
        if surf is None:
            return
        sl, m = surf.sl, np.isfinite(surf.z)
        zk = surf.z[m] / self.k
        acc = self.acc[sl]
        old = acc[m]
        new = np.logaddexp(old, zk)
        w_old = np.exp(np.where(np.isfinite(old), old - new, -np.inf))[:, None]
        w_new = np.exp(zk - new)[:, None]
        nrm = self.normal[sl]
        nrm[m] = nrm[m] * w_old + surf.normal[m] * w_new
        acc[m] = new
        win = surf.z > self.best[sl]
        self.best[sl][win] = surf.z[win]
        self.part[sl][win] = part
        self.t[sl][win] = surf.t[win]

    def resolve(self) -> None:
        """Z-test the blended surface into the layer."""
        z = self.acc * self.k
        lay = self.layer
        win = np.isfinite(z) & (z > lay.depth)
        n = self.normal[win]
        lay.depth[win] = z[win]
        lay.normal[win] = n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)
        lay.part[win] = self.part[win]
        lay.t[win] = self.t[win]


def cast_shadow(depth: np.ndarray, light: np.ndarray, reach: float, bias: float) -> np.ndarray:
    """0..1 shadow from marching toward the light through the depth buffer (soft: several
    distances, each partly occluding)."""
    lx, ly, lz = light
    lxy = float(np.hypot(lx, ly))
    out = np.zeros(depth.shape, np.float32)
    if lxy < 1e-3:
        return out
    rise = lz / lxy
    ux, uy = lx / lxy, ly / lxy
    h, w = depth.shape
    valid = np.isfinite(depth)
    base = np.where(valid, depth, -np.inf)
    for dist in np.linspace(reach / 8, reach, 8):
        sx, sy = int(round(ux * dist)), int(round(uy * dist))
        if abs(sx) >= w or abs(sy) >= h:
            continue
        shifted = np.full_like(depth, -np.inf)
        shifted[max(-sy, 0) : h - max(sy, 0), max(-sx, 0) : w - max(sx, 0)] = depth[
            max(sy, 0) : h - max(-sy, 0), max(sx, 0) : w - max(-sx, 0)
        ]
        with np.errstate(invalid="ignore"):
            gap = shifted - (base + dist * rise) - bias
            occ = np.clip(gap / (2 * bias), 0.0, 1.0)
        out = np.maximum(out, np.nan_to_num(occ))
    return np.where(valid, out, 0.0).astype(np.float32)


def ambient_occlusion(depth: np.ndarray, mask: np.ndarray, sigma: float, scale: float) -> np.ndarray:
    """0..1 darkening where the neighbourhood stands in front of a pixel (creases, contact)."""
    m = mask.astype(np.float32)
    d = np.where(mask, depth, 0.0).astype(np.float32)
    num = cv2.GaussianBlur(d, (0, 0), sigma)
    den = cv2.GaussianBlur(m, (0, 0), sigma)
    mean = num / np.maximum(den, 1e-4)
    return np.where(mask, np.clip((mean - d) / scale, 0.0, 1.0), 0.0).astype(np.float32)


@dataclass
class Light:
    """A key light and a weaker fill from the other side (directions toward them, image frame),
    an ambient term, their colours (linear RGB)."""

    direction: np.ndarray
    key: np.ndarray
    ambient: np.ndarray
    fill_direction: np.ndarray
    fill: np.ndarray

    @classmethod
    def random(cls, rng: np.random.Generator) -> Light:
        az = rng.uniform(0, 2 * np.pi)
        tilt = rng.uniform(0.35, 0.85)  # sideways component
        d = np.array([np.cos(az) * tilt, np.sin(az) * tilt - 0.25 * rng.random(), 1.0])
        f = np.array([-d[0] * rng.uniform(0.5, 1.5), -d[1] * rng.uniform(0.0, 1.0), 1.0])
        warm = rng.uniform(-0.08, 0.1)
        key = rng.uniform(0.75, 1.05) * np.array([1 + warm, 1.0, 1 - warm])
        amb = rng.uniform(0.18, 0.34) * np.array([1 - warm / 2, 1.0, 1 + warm / 2])
        fill = rng.uniform(0.12, 0.35) * np.array([1 - warm, 1.0, 1 + warm])
        return cls(
            (d / np.linalg.norm(d)).astype(np.float32),
            key.astype(np.float32),
            amb.astype(np.float32),
            (f / np.linalg.norm(f)).astype(np.float32),
            fill.astype(np.float32),
        )


def lambert(
    normal: np.ndarray,
    light: Light,
    albedo: np.ndarray,
    *,
    wrap=(0.45, 0.3, 0.25),
    shadow=None,
    occlusion=None,
    gloss: np.ndarray | float = 0.0,
    shininess: float = 20.0,
    sheen: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Linear RGB: wrapped diffuse from the key and fill lights (a red-biased wrap stands in for
    light scattering in skin), ambient, a Blinn-Phong highlight from the key and a broad sheen."""
    wrap = np.asarray(wrap, np.float32)
    ndl = normal @ light.direction
    diffuse = np.clip((ndl[..., None] + wrap) / (1 + wrap), 0.0, 1.0)
    fill = np.clip((normal @ light.fill_direction)[..., None] + wrap, 0.0, None) / (1 + wrap)
    lit = np.ones(ndl.shape, np.float32) if shadow is None else 1.0 - 0.8 * shadow
    ao = np.zeros(ndl.shape, np.float32) if occlusion is None else occlusion
    color = albedo * (
        light.ambient * (1.0 - 0.6 * ao)[..., None]
        + light.key * (diffuse * (lit * (1.0 - 0.3 * ao))[..., None])
        + light.fill * fill * (1.0 - 0.5 * ao)[..., None]
    )
    half = light.direction + np.array([0.0, 0.0, 1.0], np.float32)
    half = half / np.linalg.norm(half)
    nh = np.clip(normal @ half, 0.0, 1.0)
    spec = (nh**shininess * gloss + nh**5 * sheen) * lit
    return color + spec[..., None] * light.key


def luminance(srgb) -> float:
    return float(
        np.asarray(srgb, np.float32)[..., :3].reshape(-1, 3).mean(0) @ np.array([0.299, 0.587, 0.114], np.float32)
    )


def noise(shape: tuple[int, int], scale: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth zero-mean noise, unit-ish amplitude, features about `scale` pixels wide."""
    h, w = shape
    gh, gw = max(int(h / scale) + 2, 2), max(int(w / scale) + 2, 2)
    small = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def downsample(layer: Layer, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Premultiplied colour and coverage at image resolution."""
    alpha = layer.mask.astype(np.float32)
    pre = rgb * alpha[..., None]
    size = (layer.w, layer.h)
    return (cv2.resize(pre, size, interpolation=cv2.INTER_AREA), cv2.resize(alpha, size, interpolation=cv2.INTER_AREA))
