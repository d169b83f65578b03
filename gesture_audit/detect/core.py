"""`Hand`: what the engine finds, one per hand in a photo."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# MediaPipe's 21-point hand topology, the one definition: 0 the wrist, then four points per finger
# from its base to its tip (thumb 1-4 from the CMC joint; index 5-8, middle 9-12, ring 13-16 and
# pinky 17-20 from the MCP knuckle).
WRIST = 0
CHAINS: tuple[tuple[int, int, int, int], ...] = tuple(
    (1 + 4 * f, 2 + 4 * f, 3 + 4 * f, 4 + 4 * f) for f in range(5)
)  # thumb..pinky


@dataclass
class Hand:
    """One hand in an upright (EXIF-applied) image.

    Coordinates are pixels of the image passed to the engine. `landmarks` follow MediaPipe's
    21-point topology (0 wrist, 1-4 thumb, 5-8 index, 9-12 middle, 13-16 ring, 17-20 pinky);
    their z is relative depth in the same pixel scale (smaller = closer to the camera).
    `world_landmarks` are metres around the hand's centre, from the landmark model.
    `handedness` is the person's own hand ("left" / "right") in an ordinary, non-mirrored photo.
    `person` is the index of the person showing the hand among the faces found in the photo (left
    to right), or None when unknown (see `gesture_audit.detect.persons.assign_persons`).
    `beside` is the share of the area around the hand with the hand's own skin colour (evidence of a
    second hand held or holding it, `gesture_audit.detect.beside`); 0 when not measured.
    """

    box: np.ndarray  # (4,) x0, y0, x1, y1 around the landmarks
    score: float  # palm-detector confidence
    presence: float  # landmark-model confidence that the crop holds a hand
    handedness: str
    handedness_score: float
    landmarks: np.ndarray  # (21, 3)
    world_landmarks: np.ndarray  # (21, 3)
    person: int | None = None
    beside: float = 0.0

    def __post_init__(self) -> None:
        self.box = np.asarray(self.box, dtype=np.float32).reshape(4)
        self.landmarks = np.asarray(self.landmarks, dtype=np.float32).reshape(21, 3)
        self.world_landmarks = np.asarray(self.world_landmarks, dtype=np.float32).reshape(21, 3)
        if self.handedness not in ("left", "right"):
            raise ValueError(f"handedness must be 'left' or 'right', not {self.handedness!r}")

    @classmethod
    def from_landmarks(
        cls, landmarks, world_landmarks, *, score: float, presence: float, handedness: str, handedness_score: float
    ) -> Hand:
        lm = np.asarray(landmarks, dtype=np.float32).reshape(21, 3)
        box = np.concatenate([lm[:, :2].min(0), lm[:, :2].max(0)])
        return cls(box, float(score), float(presence), handedness, float(handedness_score), lm, world_landmarks)

    def to_dict(self) -> dict:
        return {
            "box": [round(float(v), 1) for v in self.box],
            "score": round(self.score, 4),
            "presence": round(self.presence, 4),
            "handedness": self.handedness,
            "handedness_score": round(self.handedness_score, 4),
            "landmarks": np.round(self.landmarks, 1).tolist(),
            "person": self.person,
        }


def sigmoid(x):
    """The logistic function (model logits to scores, soft thresholds). Clipped at ±80, where it is
    0 or 1 to float32's precision, so that exp never overflows (float32 overflows past 88)."""
    return 1 / (1 + np.exp(-np.clip(x, -80, 80)))


def box_iou(a, b) -> float:
    """Intersection over union of two x0, y0, x1, y1 boxes (arrays or sequences)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    inter = np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None).prod()
    union = (a[2:] - a[:2]).prod() + (b[2:] - b[:2]).prod() - inter
    return float(inter / union) if union > 0 else 0.0


def box_cover(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller of two x0, y0, x1, y1 boxes (1: one lies inside the other)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    inter = np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None).prod()
    smaller = min((a[2:] - a[:2]).prod(), (b[2:] - b[:2]).prod())
    return float(inter / smaller) if smaller > 0 else 0.0


def deduplicate(hands: list[Hand], *, iou: float = 0.5, keep: Sequence[Hand] = ()) -> list[Hand]:
    """One hand seen twice (two palms, two crops) gives two near-identical hands: after the `keep`
    hands, take `hands` by score, dropping any whose box overlaps a taken one by more than `iou`."""
    kept = list(keep)
    for hand in sorted(hands, key=lambda h: -h.score):
        if all(box_iou(hand.box, other.box) <= iou for other in kept):
            kept.append(hand)
    return kept
