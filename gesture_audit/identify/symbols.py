"""Party symbols: a gallery of logos users add, found in photos by local features.

The gallery is a small versioned JSON file, kept like the candidate gallery (`identify.gallery`):

    {"format": "gesture-audit-symbols", "version": 1,
     "symbols": [{"name": ..., "ballot": 2,
                  "images": [{"file": ..., "sha256": ..., "png": BASE64}]}]}

Each reference image is stored itself (a PNG at most `REFERENCE_SIDE` px): features are computed
when the gallery is loaded, so the file does not depend on an OpenCV version.

`SymbolMatcher(gallery).match(image) -> list[SymbolMatch]`, per photo:

    features    OpenCV SIFT on the grey photo at most `MAX_SIDE` px (bounded cost), and on each
                reference once at each of `REFERENCE_SCALES` (a print 80 px wide keeps only the
                coarse detail that the reference shows when it is small too)
    match       each reference's descriptors to the photo's, Lowe's ratio test (`RATIO`)
    geometry    cv2.estimateAffinePartial2D (rotation, one scale, shift) with RANSAC; a symbol is
                found when at least `MIN_INLIERS` matches agree and the projected outline is a
                sane one (not tiny): print in perspective, at any scale, blurred on fabric or partly
                covered keeps enough agreeing points, a chance match does not. A similarity has
                4 degrees of freedom where a homography has 8: a handful of points fixes it, and a
                chance set of points agrees with it far less often; the perspective of a print
                seen from a few metres stays within `RANSAC_PX` of it

One match per symbol (its best reference); box is the projected outline's bounding box in the
photo's pixels, `share` the inliers' share of the ratio-test matches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from gesture_audit.identify.gallery import write_json_atomically

FORMAT = "gesture-audit-symbols"
VERSION = 1
REFERENCE_SIDE = 400  # px: references are stored and described at this long side
MAX_SIDE = 1024  # px: photos are described at most this large
RATIO = 0.75  # Lowe's ratio test
RANSAC_PX = 6.0  # reprojection error (photo pixels at MAX_SIDE) for an inlier
# At least this many matches (one per photo point) agreeing on one similarity. Tuned on 150
# composites of 8 other rendered symbols (seed 500, not the benchmark's) and every 2nd / 4th clean
# dev photo: at 6, 142 of 150 prints found and 0 of 392 clean photos; at 5, 145 and 4 of 783 (all
# at exactly 5); a homography needed 8 (found 133, its outline from a few clustered points often
# insane). Benchmark figures: benchmarks/README.md.
MIN_INLIERS = 6
# The reference described at these fractions of REFERENCE_SIDE too (points kept in its frame):
# on the same probe 140 of 150 prints were found with the full size only, 142 with these.
REFERENCE_SCALES = (1.0, 0.5, 0.25)
MIN_FEATURES = 30  # a reference with fewer keypoints (a plain shape) cannot be found reliably
MIN_AREA = 24 * 24  # px², at MAX_SIDE: a smaller outline is a chance match, not a print
MIN_SIDE_RATIO = 0.25  # shortest / longest side of the projected outline, of the reference's own


class SymbolError(ValueError):
    """A symbols file is unreadable or of another version, or a change to it is refused."""


@dataclass
class Reference:
    """One reference image of a symbol: the name it was added under, its hash, its pixels."""

    file: str
    sha256: str  # of the file's bytes
    image: np.ndarray  # RGB uint8, long side <= REFERENCE_SIDE


@dataclass
class Symbol:
    name: str
    ballot: int
    images: list[Reference] = field(default_factory=list)


@dataclass
class SymbolGallery:
    """Party symbols with their reference images; `load`/`save` read and write the JSON file."""

    symbols: list[Symbol] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.symbols)

    def get(self, name: str) -> Symbol | None:
        return next((s for s in self.symbols if s.name == name), None)

    def add(self, name: str, images: list[Reference], ballot: int) -> Symbol:
        """Add images to a symbol, creating it if new. Raises SymbolError when an image is already
        stored under another symbol or `ballot` contradicts the stored one; known images are skipped."""
        if not name.strip():
            raise SymbolError("a symbol needs a name")
        if ballot < 1:
            raise SymbolError(f"ballot {ballot}: a ballot number is 1 or more")
        owners = {r.sha256: s.name for s in self.symbols for r in s.images}
        for ref in images:
            if owners.get(ref.sha256, name) != name:
                raise SymbolError(f"{ref.file} is already in the gallery as {owners[ref.sha256]!r}")
        symbol = self.get(name)
        if symbol is None:
            symbol = Symbol(name, ballot)
            self.symbols.append(symbol)
        elif symbol.ballot != ballot:
            raise SymbolError(
                f"{name!r} has ballot {symbol.ballot}, not {ballot}: remove it first to change the number"
            )
        stored = {r.sha256 for r in symbol.images}
        symbol.images.extend(r for r in images if r.sha256 not in stored)
        return symbol

    def remove(self, name: str) -> Symbol:
        symbol = self.get(name)
        if symbol is None:
            raise SymbolError(f"no symbol named {name!r} in the gallery")
        self.symbols.remove(symbol)
        return symbol

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "symbols": [
                {
                    "name": s.name,
                    "ballot": s.ballot,
                    "images": [{"file": r.file, "sha256": r.sha256, "png": _encode(r.image)} for r in s.images],
                }
                for s in self.symbols
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> SymbolGallery:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SymbolError("not a gesture-audit symbols file")
        if data.get("version") != VERSION:
            raise SymbolError(f"symbols file version {data.get('version')} is not supported (this is {VERSION})")
        try:
            return cls(
                [
                    Symbol(
                        s["name"],
                        int(s["ballot"]),
                        [Reference(r["file"], r["sha256"], _decode(r["png"])) for r in s["images"]],
                    )
                    for s in data["symbols"]
                ]
            )
        except (KeyError, TypeError, ValueError, binascii.Error, OSError) as exc:
            raise SymbolError(f"damaged symbols file: {exc}") from exc

    @classmethod
    def load(cls, path: str | os.PathLike) -> SymbolGallery:
        """Read a symbols file; raises SymbolError naming the file when it cannot be used."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise SymbolError(f"{path}: cannot read the symbols file ({exc})") from exc
        except SymbolError as exc:
            raise SymbolError(f"{path}: {exc}") from exc

    def save(self, path: str | os.PathLike) -> None:
        """Write the file atomically (a crash leaves the old file, never half a new one)."""
        write_json_atomically(path, self.to_dict())


def _encode(image: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _decode(text: str) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(text, validate=True))) as im:
        return np.asarray(im.convert("RGB"))


def _fit(image: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """`image` scaled so its long side is at most `side` (references: exactly `side`), and the scale."""
    scale = side / max(image.shape[:2])
    if scale == 1:
        return image, 1.0
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=interp), scale


def _features(sift, image: np.ndarray):
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    return sift.detectAndCompute(grey, None)


def _sift():
    return cv2.SIFT.create(nfeatures=4000)


def reference_symbols(sources: Sequence[str | os.PathLike]) -> list[Reference]:
    """Read reference images of a symbol (a logo file each). Raises SymbolError listing every file
    refused (unreadable, too plain to be found), so that nothing is added when any is wrong."""
    from gesture_audit.load import ImageLoadError, load_image

    sift, refs, problems = _sift(), [], []
    for source in sources:
        name = os.fspath(source)
        try:
            data = Path(source).read_bytes()
            image = load_image(data)
        except (OSError, ImageLoadError) as exc:
            problems.append(f"{name}: {getattr(exc, 'message', exc)}")
            continue
        image, _ = _fit(image, REFERENCE_SIDE)
        keypoints, _ = _features(sift, image)
        if len(keypoints) < MIN_FEATURES:
            problems.append(
                f"{name}: only {len(keypoints)} features (at least {MIN_FEATURES} are needed): "
                "the image is too plain or too small to be found in photos"
            )
            continue
        refs.append(Reference(Path(name).name, hashlib.sha256(data).hexdigest(), image))
    if problems:
        raise SymbolError("refused:\n  " + "\n  ".join(problems))
    return refs


@dataclass
class SymbolMatch:
    """A symbol seen in a photo: which, where (box x0, y0, x1, y1 and its outline, image pixels)."""

    name: str
    ballot: int
    box: np.ndarray
    quad: np.ndarray  # (4, 2) the reference's corners projected into the photo
    inliers: int
    share: float  # inliers / ratio-test matches


def _side_ratio(quad: np.ndarray) -> float:
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    return float(sides.min() / max(sides.max(), 1e-6))


def sane_outline(quad: np.ndarray, reference: np.ndarray | None = None) -> bool:
    """A projected reference outline a real print can have: convex, not mirrored, not tiny, and not
    squashed into a sliver (its shortest / longest side at least MIN_SIDE_RATIO of the reference's
    own: `reference` the reference's corners; a square one when not given). A banner-wide logo
    keeps its width: only a squashed outline is a sliver."""
    quad = np.asarray(quad, np.float32).reshape(4, 2)
    if not cv2.isContourConvex(quad):
        return False
    x, y = quad[:, 0], quad[:, 1]
    signed = 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    own = 1.0 if reference is None else _side_ratio(np.asarray(reference, np.float32).reshape(4, 2))
    return signed >= MIN_AREA and _side_ratio(quad) >= MIN_SIDE_RATIO * own


class SymbolMatcher:
    """Finds a gallery's symbols in photos (RGB uint8); features of the references made once."""

    def __init__(self, gallery: SymbolGallery, max_side: int = MAX_SIDE):
        self.max_side = max_side
        self._sift = _sift()
        self._matcher = cv2.BFMatcher(cv2.NORM_L2)
        self._refs = []  # (symbol, keypoint xy (n, 2), descriptors, corners (4, 2))
        for symbol in gallery.symbols:
            for ref in symbol.images:
                points, descriptors = [], []
                for f in REFERENCE_SCALES:
                    small = (
                        cv2.resize(ref.image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else ref.image
                    )
                    keypoints, described = _features(self._sift, small)
                    if described is not None:
                        points.append(np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2) / f)
                        descriptors.append(described)
                if sum(len(p) for p in points) < 2:
                    continue
                h, w = ref.image.shape[:2]
                corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
                self._refs.append((symbol, np.concatenate(points), np.concatenate(descriptors), corners))

    def match(self, image: np.ndarray) -> list[SymbolMatch]:
        """The gallery's symbols found in `image`, best first; [] for an empty gallery."""
        if not self._refs:
            return []
        scale = min(1.0, self.max_side / max(image.shape[:2]))
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
        keypoints, descriptors = _features(self._sift, small)
        if descriptors is None or len(keypoints) < MIN_INLIERS:
            return []
        points = np.array([k.pt for k in keypoints], np.float32)
        best: dict[str, SymbolMatch] = {}
        for symbol, ref_points, ref_descriptors, corners in self._refs:
            pairs = self._matcher.knnMatch(ref_descriptors, descriptors, k=2)
            per_point: dict[
                int, cv2.DMatch
            ] = {}  # one match per photo point: a repeated pattern matched many times is one point
            for p in pairs:
                if (
                    len(p) == 2
                    and p[0].distance < RATIO * p[1].distance
                    and (p[0].trainIdx not in per_point or p[0].distance < per_point[p[0].trainIdx].distance)
                ):
                    per_point[p[0].trainIdx] = p[0]
            good = list(per_point.values())
            if len(good) < MIN_INLIERS:
                continue
            src = ref_points[[m.queryIdx for m in good]]
            dst = points[[m.trainIdx for m in good]]
            similarity, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX)
            if similarity is None:
                continue
            inliers = int(mask.sum())
            quad = cv2.transform(corners[None], similarity)[0]
            if inliers < MIN_INLIERS or not sane_outline(quad, corners):
                continue
            quad = quad / scale
            box = np.clip([*quad.min(0), *quad.max(0)], 0, [image.shape[1], image.shape[0]] * 2)
            found = SymbolMatch(symbol.name, symbol.ballot, np.float32(box), quad, inliers, inliers / len(good))
            if symbol.name not in best or inliers > best[symbol.name].inliers:
                best[symbol.name] = found
        return sorted(best.values(), key=lambda m: -m.inliers)
