"""Group photos: small hands found through person-guided crops, batched through the engine's sessions.

The palm detector sees a 192×192 letterbox of the whole photo, so in a large group photo a hand is
a few input pixels and is missed. In photos where that can happen (long side over `min_side`, and
no close-up palm found by the first pass):

1. faces are found on the whole photo and on a fixed grid of overlapping tiles (one batch of the
   face detector); tiles are a fraction of the long side, so their count does not grow with pixels;
2. every face too small for the first pass to resolve its hands gets a crop of its reach: `reach`
   face widths around and below the face, where a hand shown to the camera is held; neighbours'
   crops that nearly coincide are merged;
3. optionally, parts of the people's band of the photo that no person crop covers get tiles of the
   same scale, for people whose face is cut off or turned away;
4. all crops go through the palm detector in one batch; their palms are mapped back to the photo
   and merged with the first pass's by weighted non-maximum suppression.

The engine then runs its one landmark call on the full-resolution photo with those palms. The cost
grows with the number of people (and of uncovered people-sized regions), not with megapixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gesture_audit.detect.faces import Face, FaceDetector
from gesture_audit.detect.palm import SIZE, Palm, PalmDetector, weighted_nms

# The face detector finds nine in ten faces at least this many pixels wide in its 192² input
# (measured on the dev scenes, downscaled).
FACE_PIXELS = 26


@dataclass
class GroupOptions:
    """When the group pass runs, and how it crops (see the module docstring)."""

    min_side: int = 1000  # photos whose long side is at most this are left to the first pass
    closeup: float = 0.08  # a first-pass palm this large (share of the long side) marks a close-up
    smallest_face: float = 0.04  # faces down to this share of the long side are looked for
    resolved_face: float = 40.0  # faces this wide in the palm input have their hands found already
    reach: float = 5.5  # side of a person's crop, in face widths
    merge: float = 1.3  # neighbours share a crop when it grows by at most this factor
    tiles: bool = True  # tile what no person crop covers in the people's band
    overlap: float = 0.25  # between adjacent tiles (face and palm tiles), share of the side
    max_hands: int = 64  # per photo, instead of the engine's max_hands, where the pass runs
    extra: dict = field(default_factory=dict)


@dataclass
class Group:
    """What the group pass looked at in one photo: faces left to right, and the crops it ran."""

    faces: list[Face] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)  # person crops, (4,) x0, y0, x1, y1
    tiles: list[np.ndarray] = field(default_factory=list)  # tiles for the uncovered band


class GroupFinder:
    """Adds the palms of small hands to the first pass's. Stateless; shares the engine's palm session."""

    def __init__(self, palms: PalmDetector, options: GroupOptions | None = None, **session_options):
        self.options = options or GroupOptions()
        self.palms = palms
        self.face_detector = FaceDetector("full", **session_options)

    def applies(self, image: np.ndarray, palms: list[Palm]) -> bool:
        """Whether small hands may have been missed: a large photo without a close-up palm."""
        long = max(image.shape[:2])
        if long <= self.options.min_side:
            return False
        return all(max(p.box[2:] - p.box[:2]) < self.options.closeup * long for p in palms)

    def extend(self, images: list[np.ndarray], palms: list[list[Palm]]) -> list[Group | None]:
        """Add the group pass's palms to `palms` (in place) where it applies; one Group per image
        it ran on, None elsewhere. One face-detector call and one palm call for the whole batch."""
        chosen = [i for i, (im, found) in enumerate(zip(images, palms)) if self.applies(im, found)]
        groups: list[Group | None] = [None] * len(images)
        for i, faces in zip(chosen, self.faces([images[i] for i in chosen])):
            groups[i] = self.plan(images[i], faces)
        regions = [(i, r) for i in chosen for r in groups[i].crops + groups[i].tiles]
        found = self.palms.detect([_cut(images[i], r) for i, r in regions])
        extra: list[list[Palm]] = [[] for _ in images]
        for (i, r), crop_palms in zip(regions, found):
            offset = r[:2].astype(np.float32)
            extra[i] += [Palm(p.box + np.tile(offset, 2), p.score, p.keypoints + offset) for p in crop_palms]
        for i in chosen:
            mode = self.options.extra.get("merge_mode", "w")
            if mode == "w":
                palms[i] = _merge(palms[i] + extra[i], self.palms.nms_iou)
            elif mode == "none":
                palms[i] = palms[i] + extra[i]
            elif mode == "hard":
                allp = sorted(palms[i] + extra[i], key=lambda p: -p.score)
                kept = []
                for p in allp:
                    if all(_box_iou(p.box, q.box) <= self.palms.nms_iou for q in kept):
                        kept.append(p)
                palms[i] = kept
        return groups

    def faces(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Faces per image, left to right: the whole photo and its face tiles in one batch."""
        cuts = [(i, r) for i, im in enumerate(images) for r in self.face_tiles(im)]
        found = self.face_detector.detect([_cut(images[i], r) for i, r in cuts])
        per_image: list[list[Face]] = [[] for _ in images]
        for (i, r), faces in zip(cuts, found):
            h, w = images[i].shape[:2]
            offset = r[:2].astype(np.float32)
            for face in faces:
                box = face.box + np.tile(offset, 2)
                # A face cut by a tile's inner edge is whole in the neighbouring tile.
                if _touches_inner_edge(box, r, w, h):
                    continue
                per_image[i].append(Face(box, face.score, face.keypoints + offset))
        return [sorted(_merge_faces(faces, self.face_detector.nms_iou), key=lambda f: f.box[0] + f.box[2])
                for faces in per_image]

    def face_tiles(self, image: np.ndarray) -> list[np.ndarray]:
        """The whole photo, then tiles on which a face of `smallest_face` is FACE_PIXELS wide."""
        h, w = image.shape[:2]
        side = self.options.smallest_face * max(h, w) * 192 / FACE_PIXELS
        return [np.array([0, 0, w, h])] + (_grid(w, h, side, self.options.overlap) if side < max(h, w) else [])

    def plan(self, image: np.ndarray, faces: list[Face]) -> Group:
        """Person crops for faces whose hands the first pass cannot resolve, and tiles for the rest."""
        h, w = image.shape[:2]
        long = max(h, w)
        o = self.options
        small = [f for f in faces if _width(f) * SIZE / long < o.resolved_face]
        crops: list[np.ndarray] = []
        for face in sorted(small, key=lambda f: f.box[0]):
            region = _reach(face, o.reach)
            for k, crop in enumerate(crops):
                union = np.concatenate([np.minimum(crop[:2], region[:2]), np.maximum(crop[2:], region[2:])])
                if _side(union) <= o.merge * max(_side(crop), _side(region)):
                    crops[k] = union
                    break
            else:
                crops.append(region)
        crops = [_clip(c, w, h) for c in crops]
        crops = [c for c in crops if _side(c) > 0]
        tiles = self._uncovered_tiles(w, h, small, crops) if o.tiles and small else []
        return Group(faces=faces, crops=crops, tiles=tiles)

    def _uncovered_tiles(self, w: int, h: int, faces: list[Face], crops: list[np.ndarray]) -> list[np.ndarray]:
        """Tiles at the people's scale over the band their crops span, where no crop already holds
        a hand-sized area of the tile's own share of the band (for people whose face was not found)."""
        o = self.options
        width = float(np.median([_width(f) for f in faces]))
        side = o.reach * width
        top = max(0.0, min(c[1] for c in crops) - side / 2)
        bottom = min(float(h), max(c[3] for c in crops) + side / 2)
        cell = max(width / 4, 1.0)  # coverage is judged on a grid of quarter face widths
        covered = np.zeros((int(np.ceil(h / cell)), int(np.ceil(w / cell))), bool)
        inset = width / 2  # a hand near a crop's edge may be cut: count only the crop's inside
        for c in crops:
            x0, y0, x1, y1 = c + np.array([inset, inset, -inset, -inset])
            if x1 > x0 and y1 > y0:
                covered[int(np.ceil(y0 / cell)):int(y1 // cell), int(np.ceil(x0 / cell)):int(x1 // cell)] = True
        tiles = []
        margin = side * o.overlap / 2  # the tile's own share: without the overlap with neighbours
        for t in _grid(w, bottom - top, side, o.overlap):
            t = _clip(t + np.array([0, top, 0, top]), w, h)
            x0, y0, x1, y1 = t + np.array([margin * (t[0] > 0), margin * (t[1] > 0),
                                            -margin * (t[2] < w), -margin * (t[3] < h)])
            patch = covered[int(y0 // cell):int(np.ceil(y1 / cell)), int(x0 // cell):int(np.ceil(x1 / cell))]
            if patch.size and (~patch).mean() > o.extra.get("unc", 0.1):
                tiles.append(t)
        return tiles


def _width(face: Face) -> float:
    return float(face.box[2] - face.box[0])


def _side(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], box[3] - box[1]))


def _reach(face: Face, reach: float) -> np.ndarray:
    """Square of `reach` face widths, centred beside-and-below the face where raised hands are
    (from about 2 face widths above its centre to 3 below)."""
    width = _width(face)
    cx, cy = (face.box[:2] + face.box[2:]) / 2
    cy += 0.5 * width
    half = reach * width / 2
    return np.array([cx - half, cy - half, cx + half, cy + half])


def _clip(box: np.ndarray, w: int, h: int) -> np.ndarray:
    x0, y0, x1, y1 = np.round(box).astype(int)
    return np.array([max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)])


def _cut(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = (int(v) for v in box)
    return image[y0:y1, x0:x1]


def _grid(w: float, h: float, side: float, overlap: float) -> list[np.ndarray]:
    """Overlapping square tiles of about `side` covering a w×h area (ends flush with its edges)."""
    def starts(length: float) -> list[float]:
        if length <= side:
            return [0.0]
        n = int(np.ceil((length - side * overlap) / (side * (1 - overlap))))
        return list(np.linspace(0, length - side, max(n, 2)))

    return [_clip(np.array([x, y, x + side, y + side]), int(round(w)), int(round(h)))
            for y in starts(h) for x in starts(w)]


def _touches_inner_edge(box: np.ndarray, tile: np.ndarray, w: int, h: int, margin: float = 2.0) -> bool:
    x0, y0, x1, y1 = tile
    return bool((x0 > 0 and box[0] <= x0 + margin) or (y0 > 0 and box[1] <= y0 + margin)
                or (x1 < w and box[2] >= x1 - margin) or (y1 < h and box[3] >= y1 - margin))


def _merge(palms: list[Palm], iou: float) -> list[Palm]:
    """One palm per hand seen in several crops: MediaPipe's weighted suppression across crops."""
    if len(palms) < 2:
        return palms
    boxes = np.stack([p.box for p in palms])
    scores = np.array([p.score for p in palms], np.float32)
    points = np.stack([p.keypoints for p in palms])
    return [Palm(box, float(score), pts) for box, score, pts in weighted_nms(boxes, scores, points, iou)]


def _merge_faces(faces: list[Face], iou: float) -> list[Face]:
    if len(faces) < 2:
        return faces
    boxes = np.stack([f.box for f in faces])
    scores = np.array([f.score for f in faces], np.float32)
    points = np.stack([f.keypoints for f in faces])
    return [Face(box, float(score), pts) for box, score, pts in weighted_nms(boxes, scores, points, iou)]


def _box_iou(a, b):
    inter = np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None).prod()
    union = (a[2:] - a[:2]).prod() + (b[2:] - b[:2]).prod() - inter
    return float(inter / union) if union > 0 else 0.0
