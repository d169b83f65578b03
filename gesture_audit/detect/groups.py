"""Group photos: small hands found through tiles and person-guided crops, batched through the engine.

The palm detector sees a 192×192 letterbox of the whole photo, so in a large group photo a hand is a
few input pixels and is missed. After the engine's own pass, photos where that can have happened
(long side over `min_side`, and not a one-person close-up: `applies`) get a second look:

1. faces, on the whole photo and on a pyramid of overlapping tiles, in one face-detector batch;
2. palm tiles: a fixed net of `net` × the long side (hands of people at a moderate scale, whether
   their face shows or not), and two crops beside every face too small for the net to resolve its
   hands, `crop` face widths square, where a hand shown to the camera is held;
3. one palm-detector batch over all of them; palms are mapped back to the photo, merged across
   tiles by weighted non-maximum suppression, and those on hands already found are dropped;
4. one landmark call on the full-resolution photo for the rest (the engine's own stage), then
   each hand is tied to a person (`persons.assign_persons`).

Tiles are fractions of the long side, so nothing grows with megapixels: the cost is a fixed part
(face pyramid and net) plus two palm crops per small person and one landmark crop per hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gesture_audit.detect.core import Hand, deduplicate
from gesture_audit.detect.faces import Face, FaceDetector
from gesture_audit.detect.palm import SIZE, Palm, PalmDetector, weighted_nms
from gesture_audit.detect.persons import assign_persons

# The face detector finds nine in ten faces at least this many pixels wide in its 192² input
# (measured on the dev scenes, downscaled).
FACE_PIXELS = 26
# From one face grid to the next coarser one. A grid finds faces from FACE_PIXELS / 192 of its side;
# those up to the overlap (a quarter of the side) lie whole in some tile, and wider ones cut by a
# tile edge are still found in parts and merged: 2.75 leaves no gap between grids (3200×2400 photo:
# 63 + 9 tiles and the whole photo).
FACE_STEP = 2.75


@dataclass
class GroupOptions:
    """When the group pass runs, and where it looks (see the module docstring)."""

    min_side: int = 1000  # photos whose long side is at most this are left to the engine's pass
    closeup: float = 0.125  # a hand found this large (share of the long side) marks a close-up photo
    smallest_face: float = 0.02  # faces down to this share of the long side are looked for
    net: float = 0.25  # side of the fixed palm tiles, share of the long side (0: none)
    resolved_face: float = 40.0  # faces this wide in a net tile's palm input have their hands found there
    crop: float = 3.0  # side of each of a person's two hand crops, in face widths
    overlap: float = 0.25  # between adjacent tiles, share of their side
    max_hands: int = 64  # per photo where the pass runs, instead of the engine's max_hands


@dataclass
class Group:
    """Where the group pass looked in one photo: faces left to right, net tiles, person crops."""

    faces: list[Face] = field(default_factory=list)
    whole: list[Face] = field(default_factory=list)  # the faces of the first tile, the whole photo (its 192² view)
    tiles: list[np.ndarray] = field(default_factory=list)  # (4,) x0, y0, x1, y1 each
    crops: list[np.ndarray] = field(default_factory=list)  # (4,) x0, y0, x1, y1 each


# The engine's landmark stage: images, palms per image, hand limit per image -> hands per image.
LandmarkStage = Callable[[list[np.ndarray], list[list[Palm]], list[int]], list[list[Hand]]]


class GroupFinder:
    """The group pass. Shares the engine's palm and (full-range) face detectors; keeps no state
    between calls, so it is as thread-safe as the engine. `face_detector()` gives the face detector:
    called on first use, so that a run whose photos never need the pass never loads its model."""

    def __init__(self, palms: PalmDetector, options: GroupOptions | None, face_detector: Callable[[], FaceDetector]):
        self.options = options or GroupOptions()
        self.palms = palms
        self.face_detector = face_detector

    def applies(self, image: np.ndarray, hands: list[Hand]) -> bool:
        """Whether small hands may have been missed: a large photo that is not a one-person close-up
        (at most two hands found, one of them at least `closeup` of the long side)."""
        long = max(image.shape[:2])
        if long <= self.options.min_side:
            return False
        closeup = any(max(h.box[2:] - h.box[:2]) >= self.options.closeup * long for h in hands)
        return not (closeup and len(hands) <= 2)

    def add_hands(
        self, images: list[np.ndarray], hands: list[list[Hand]], landmarks: LandmarkStage
    ) -> list[Group | None]:
        """Add the hands the group pass finds to `hands` (in place) and set every hand's `person`
        in the photos it ran on; returns a Group for those, None for the others. One face call,
        one palm call and one landmark call (`landmarks`) for the whole batch."""
        chosen = [i for i, (im, found) in enumerate(zip(images, hands)) if self.applies(im, found)]
        groups: list[Group | None] = [None] * len(images)
        if not chosen:
            return groups
        ran: dict[int, Group] = {}
        for i, (faces, whole) in zip(chosen, self._faces([images[i] for i in chosen])):
            groups[i] = ran[i] = Group(faces, whole, self.net(images[i]), self.person_crops(images[i], faces))
        cuts = [(i, t) for i in chosen for t in ran[i].tiles + ran[i].crops]
        palms = palms_in_tiles(self.palms, images, cuts)
        for i in chosen:
            # A palm on a hand the engine already has would only find that hand again.
            palms[i] = [
                p
                for p in merge(palms[i], self.palms.nms_iou)
                if not any(_inside((p.box[:2] + p.box[2:]) / 2, h.box) for h in hands[i])
            ]
        limits = [max(self.options.max_hands - len(found), 0) for found in hands]
        for i, new in zip(
            chosen, landmarks([images[i] for i in chosen], [palms[i] for i in chosen], [limits[i] for i in chosen])
        ):
            hands[i] = sorted(deduplicate(new, keep=hands[i]), key=lambda h: -h.score)
            assign_persons(hands[i], ran[i].faces)
        return groups

    def faces(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Faces per image, left to right: the photo's face tiles, all images in one batch."""
        return [faces for faces, _ in self._faces(images)]

    def _faces(self, images: list[np.ndarray]) -> list[tuple[list[Face], list[Face]]]:
        """Per image: its faces over all face tiles (`faces`), and those of the whole-photo tile alone."""
        cuts = [(i, r) for i, im in enumerate(images) for r in self.face_tiles(im)]
        found = self.face_detector().detect([cut(images[i], r) for i, r in cuts])
        per_image: list[list[Face]] = [[] for _ in images]
        first = {i: k for k, (i, _) in reversed(list(enumerate(cuts)))}  # face_tiles puts the whole photo first
        whole = [found[first[i]] for i in range(len(images))]
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
        return [
            (sorted(merge(faces, self.face_detector().nms_iou), key=lambda f: f.box[0] + f.box[2]), alone)
            for faces, alone in zip(per_image, whole)
        ]

    def face_tiles(self, image: np.ndarray) -> list[np.ndarray]:
        """The whole photo, and grids of tiles from the side on which a face of `smallest_face`
        is FACE_PIXELS wide, each next grid FACE_STEP times coarser, while under the long side."""
        h, w = image.shape[:2]
        long = max(h, w)
        side = self.options.smallest_face * long * SIZE / FACE_PIXELS
        tiles = [np.array([0, 0, w, h])]
        while side < long:
            tiles += grid(0, 0, w, h, side, self.options.overlap)
            side *= FACE_STEP
        return tiles

    def net(self, image: np.ndarray) -> list[np.ndarray]:
        """Fixed overlapping tiles of `net` times the long side (their count does not grow with
        pixels): hands of people of any kind at a moderate scale, faces found or not."""
        h, w = image.shape[:2]
        return grid(0, 0, w, h, self.options.net * max(h, w), self.options.overlap) if self.options.net else []

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


def cut(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = (int(v) for v in box)
    return image[y0:y1, x0:x1]


def palms_in_tiles(
    detector: PalmDetector, images: list[np.ndarray], cuts: list[tuple[int, np.ndarray]]
) -> list[list[Palm]]:
    """Palms per image from (image index, tile box) cuts, one detector batch, in photo pixels
    (not yet merged across overlapping tiles: see `merge`)."""
    palms: list[list[Palm]] = [[] for _ in images]
    for (i, t), found in zip(cuts, detector.detect([cut(images[i], t) for i, t in cuts])):
        offset = t[:2].astype(np.float32)
        palms[i] += [Palm(p.box + np.tile(offset, 2), p.score, p.keypoints + offset) for p in found]
    return palms


def grid(x0: float, y0: float, x1: float, y1: float, side: float, overlap: float) -> list[np.ndarray]:
    """Overlapping square tiles of about `side` covering a box (the outer ones flush with its edges)."""

    def starts(lo: float, hi: float) -> np.ndarray:
        if hi - lo <= side:
            return np.array([lo])
        n = int(np.ceil((hi - lo - side * overlap) / (side * (1 - overlap))))
        return np.linspace(lo, hi - side, max(n, 2))

    return [
        np.round([x, y, min(x + side, x1), min(y + side, y1)]).astype(int)
        for y in starts(y0, y1)
        for x in starts(x0, x1)
    ]


def _inside(point: np.ndarray, box: np.ndarray) -> bool:
    return bool(box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3])


def _touches_inner_edge(box: np.ndarray, tile: np.ndarray, w: int, h: int, margin: float = 2.0) -> bool:
    x0, y0, x1, y1 = tile
    return bool(
        (x0 > 0 and box[0] <= x0 + margin)
        or (y0 > 0 and box[1] <= y0 + margin)
        or (x1 < w and box[2] >= x1 - margin)
        or (y1 < h and box[3] >= y1 - margin)
    )


def merge(items: list, iou: float) -> list:
    """One palm (or face) per hand (or face) seen in several crops: MediaPipe's weighted
    suppression across crops. Palm and Face share the (box, score, keypoints) shape."""
    if len(items) < 2:
        return items
    boxes = np.stack([x.box for x in items])
    scores = np.array([x.score for x in items], np.float32)
    points = np.stack([x.keypoints for x in items])
    kind = type(items[0])
    return [kind(box, float(score), pts) for box, score, pts in weighted_nms(boxes, scores, points, iou)]
