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
    smallest_face: float = 0.02  # faces down to this share of the long side are looked for
    net: float = 0.25  # side of the fixed palm tiles, share of the long side (0: none)
    resolved_face: float = 40.0  # faces this wide in a net tile's palm input have their hands found there
    crop: float = 3.0  # side of a person's two hand crops, in face widths
    overlap: float = 0.25  # between adjacent tiles (face and palm tiles), share of the side
    max_hands: int = 64  # per photo, instead of the engine's max_hands, where the pass runs


@dataclass
class Group:
    """What the group pass looked at in one photo: its faces, left to right, and its palm tiles."""

    faces: list[Face] = field(default_factory=list)
    tiles: list[np.ndarray] = field(default_factory=list)  # the net, (4,) x0, y0, x1, y1 each
    crops: list[np.ndarray] = field(default_factory=list)  # beside small faces, (4,) each


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
            groups[i] = Group(faces, self.net(images[i]), self.person_crops(images[i], faces))
        cuts = [(i, t) for i in chosen for t in groups[i].tiles + groups[i].crops]
        extra: list[list[Palm]] = [[] for _ in images]
        for (i, t), found in zip(cuts, self.palms.detect([_cut(images[i], t) for i, t in cuts])):
            offset = t[:2].astype(np.float32)
            extra[i] += [Palm(p.box + np.tile(offset, 2), p.score, p.keypoints + offset) for p in found]
        for i in chosen:
            palms[i] = _merge(palms[i] + extra[i], self.palms.nms_iou)
        return groups

    def faces(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Faces per image, left to right: the photo's face tiles, all images in one batch."""
        cuts = [(i, r) for i, im in enumerate(images) for r in self.face_tiles(im)]
        found = self.face_detector.detect([_cut(images[i], r) for i, r in cuts])
        per_image: list[list[Face]] = [[] for _ in images]
        for (i, r), faces in zip(cuts, found):
            h, w = images[i].shape[:2]
            offset = r[:2].astype(np.float32)
            for face in faces:
                box = face.box + np.tile(offset, 2)
                # A face cut by a tile's inner edge is whole in the neighbouring tile when it is
                # narrower than the overlap; a wider one is merged with its other parts below.
                if _width(face) <= self.options.overlap * _side(r) and _touches_inner_edge(box, r, w, h):
                    continue
                per_image[i].append(Face(box, face.score, face.keypoints + offset))
        return [sorted(_merge_faces(faces, self.face_detector.nms_iou), key=lambda f: f.box[0] + f.box[2])
                for faces in per_image]

    def face_tiles(self, image: np.ndarray) -> list[np.ndarray]:
        """The whole photo, and tile grids from the side on which a face of `smallest_face` is
        FACE_PIXELS wide, growing by the factor between the smallest and the largest face one
        side finds whole in a tile (about 2.7 at 25 % overlap), while under the long side."""
        h, w = image.shape[:2]
        long = max(h, w)
        side = self.options.smallest_face * long * SIZE / FACE_PIXELS
        step = max(self.options.overlap * SIZE / FACE_PIXELS * 1.5, 1.5)
        tiles = [np.array([0, 0, w, h])]
        while side < long:
            tiles += _grid(0, 0, w, h, side, self.options.overlap)
            side *= step
        return tiles

    def net(self, image: np.ndarray) -> list[np.ndarray]:
        """Fixed overlapping tiles of `net` times the long side (their count does not grow with
        pixels): hands of people of any kind at a moderate scale, faces found or not."""
        h, w = image.shape[:2]
        return _grid(0, 0, w, h, self.options.net * max(h, w), self.options.overlap) if self.options.net else []

    def person_crops(self, image: np.ndarray, faces: list[Face]) -> list[np.ndarray]:
        """Two crops beside each face too small for the net to resolve its hands, where a hand
        shown to the camera is held: `crop` face widths square, level with the chin, one on
        each side (dev scenes: wrists 1.1 face widths beside and 1.0 below the face centre)."""
        h, w = image.shape[:2]
        o = self.options
        coarsest = o.net * max(h, w) if o.net else max(h, w)
        crops = []
        for face in faces:
            width = _width(face)
            if width * SIZE / coarsest >= o.resolved_face:
                continue
            cx, cy = (face.box[:2] + face.box[2:]) / 2
            for side in (-1, 1):
                x, y, half = cx + side * 1.2 * width, cy + 0.6 * width, o.crop * width / 2
                crops.append(_clip(np.array([x - half, y - half, x + half, y + half]), w, h))
        return [c for c in crops if c[2] - c[0] >= 8 and c[3] - c[1] >= 8]


def _width(face: Face) -> float:
    return float(face.box[2] - face.box[0])


def _side(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], box[3] - box[1]))


def _clip(box: np.ndarray, w: int, h: int) -> np.ndarray:
    x0, y0, x1, y1 = np.round(box).astype(int)
    return np.array([max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)])


def _cut(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = (int(v) for v in box)
    return image[y0:y1, x0:x1]


def _grid(x0: float, y0: float, x1: float, y1: float, side: float, overlap: float) -> list[np.ndarray]:
    """Overlapping square tiles of about `side` covering a box (the outer ones flush with its edges)."""
    def starts(lo: float, hi: float) -> np.ndarray:
        if hi - lo <= side:
            return np.array([lo])
        n = int(np.ceil((hi - lo - side * overlap) / (side * (1 - overlap))))
        return np.linspace(lo, hi - side, max(n, 2))

    return [np.round([x, y, min(x + side, x1), min(y + side, y1)]).astype(int)
            for y in starts(y0, y1) for x in starts(x0, x1)]


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

