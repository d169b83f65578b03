"""The sign a hand makes, named from a fixed vocabulary.

The names are stable: they appear in findings.jsonl and in the election configs, so a name is
never changed or reused. Each sign is defined by its finger pattern (thumb..pinky, 1 = extended)
plus, where the pattern alone is not enough, a little geometry:

| name         | pattern | also needs                                  | domain reading (BKN list)        |
|--------------|---------|---------------------------------------------|----------------------------------|
| fist         | 00000   |                                             | allowed                          |
| one          | 01000   |                                             | 1                                |
| v            | 01100   | (spread or together, up or pointing down)   | 2, V / peace                     |
| l            | 11000   |                                             | 2 (thumb + index, also read 7)   |
| telepon      | 10001   |                                             | 2 (thumb + pinky)                |
| three        | 01110   |                                             | 3                                |
| three_thumb  | 11100   |                                             | 3                                |
| ok_three     | 00111   | (less sure without thumb and index touching)| 3 (OK circle)                    |
| metal        | 11001   |                                             | 3 (03 Ganjar–Mahfud, 2024)       |
| horns        | 01001   |                                             | metal without the thumb          |
| four         | 01111   |                                             | 4                                |
| five         | 11111   |                                             | 5 / open palm                    |
| thumb_up     | 10000   | thumb pointing up in the (upright) image    | 01 in 2019 ("salam jempol")      |
| thumb_down   | 10000   | thumb pointing down                         |                                  |
| finger_heart | -       | thumb tip crossing the bent index, others folded | support sign                |
| other        | any other pattern (ASL 7, 8, ...), a sideways thumb                          |

Direction matters only for the thumb signs, and only up/down in the image; everything else is
read in the hand's own frame, so a V pointing down is still `v`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gesture_audit.classify.fingers import FingerStates, finger_reach, finger_states, palm_frame
from gesture_audit.detect.core import Hand
from gesture_audit.i18n import N_

# Descriptions are Messages: reasons quote them in the reader's language.
GESTURES: dict[str, str] = {
    "fist": N_("fist"),
    "one": N_("index finger"),
    "v": N_("V sign"),
    "l": N_("L sign"),
    "telepon": N_("telepon sign"),
    "three": N_("three fingers"),
    "three_thumb": N_("three fingers with the thumb"),
    "ok_three": N_("OK sign with three fingers up"),
    "metal": N_("metal sign"),
    "horns": N_("horns sign"),
    "four": N_("four fingers"),
    "five": N_("open palm"),
    "thumb_up": N_("thumbs-up"),
    "thumb_down": N_("thumbs-down"),
    "finger_heart": N_("finger heart"),
    "other": N_("no known sign"),
}

# The fingers (thumb..pinky, 1 = extended) of each sign that has a number or a meaning of its own:
# the one vocabulary the classifier reads and the renderer (synth) draws. The last three need more
# than their pattern to tell apart (see `classify_gesture`); the others are read from it alone.
FINGERS: dict[str, str] = {
    "fist": "00000",
    "one": "01000",
    "v": "01100",
    "l": "11000",
    "telepon": "10001",
    "three": "01110",
    "three_thumb": "11100",
    "ok_three": "00111",  # thumb tip on index tip (a circle), middle + ring + pinky up
    "metal": "11001",
    "horns": "01001",
    "four": "01111",
    "five": "11111",
    "thumb_up": "10000",
    "thumb_down": "10000",
    "finger_heart": "11000",  # thumb and index tips crossed, the others folded
}
PATTERNS: dict[str, str] = {
    pattern: name for name, pattern in FINGERS.items() if name not in ("thumb_up", "thumb_down", "finger_heart")
}

# A thumb within this angle of straight up (down) in the image is a thumbs-up (-down).
THUMB_VERTICAL_DEG = 60.0
# 00111 without the thumb and index tips seen touching: confidence factor.
NO_CIRCLE = 0.8
# Finger heart: the thumb tip lies on the index finger's middle or last bone, this close (palm lengths).
HEART_CONTACT = 0.3
# ... and the index is bent mostly at its knuckle: tip to knuckle at least this fraction of its length.
HEART_INDEX_OPEN = 0.7


@dataclass(frozen=True)
class Gesture:
    """A named sign (see GESTURES) and how sure the reading is (0-1)."""

    name: str
    confidence: float

    def __post_init__(self) -> None:
        if self.name not in GESTURES:
            raise ValueError(f"unknown gesture {self.name!r}; known: {', '.join(GESTURES)}")

    @property
    def description(self) -> str:
        return GESTURES[self.name]


@dataclass(frozen=True)
class ClassifiedHand:
    """A hand as the classify stage reads it: its finger states and the sign they make."""

    hand: Hand
    fingers: FingerStates
    gesture: Gesture


def classify_hand(hand: Hand) -> ClassifiedHand:
    """The classify stage for one hand: fingers, then the named sign."""
    states = finger_states(hand)
    return ClassifiedHand(hand, states, classify_gesture(hand, states))


def classify_gesture(hand, states: FingerStates) -> Gesture:
    """Name the sign `hand` makes, given its finger states (from `finger_states(hand)`)."""
    confidence = float(np.min(states.confidence))
    heart = _finger_heart(hand, states)
    if heart is not None:
        return Gesture("finger_heart", heart)
    pattern = states.pattern
    if pattern == "10000":
        return _thumb_sign(hand, confidence)
    name = PATTERNS.get(pattern, "other")
    if name == "ok_three" and states.touching != 1:
        # middle, ring and pinky up but no circle seen: still three up, read less surely
        confidence *= NO_CIRCLE
    return Gesture(name, confidence)


def _thumb_sign(hand, confidence: float) -> Gesture:
    """thumb_up / thumb_down by the thumb's direction in the image, else other (sideways)."""
    lm = np.asarray(hand.landmarks, dtype=np.float64)
    direction = lm[4, :2] - lm[2, :2]
    norm = np.linalg.norm(direction)
    if norm < 1e-9:
        return Gesture("other", confidence)
    up = -direction[1] / norm  # image y grows downwards
    limit = np.cos(np.radians(THUMB_VERTICAL_DEG))
    if abs(up) < limit:
        return Gesture("other", confidence)
    # confidence falls off as the thumb leans towards the horizontal
    lean = (abs(up) - limit) / (1 - limit)
    return Gesture("thumb_up" if up > 0 else "thumb_down", confidence * (0.7 + 0.3 * lean))


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Distance from p to segment ab, and where the closest point lies along it (0 = a, 1 = b)."""
    ab = b - a
    t = float(np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + t * ab))), t


def _finger_heart(hand, states: FingerStates) -> float | None:
    """Confidence of a Korean finger heart, or None.

    Middle, ring and pinky are folded, the index is bent but not curled into the palm, and the
    thumb tip lies across the index finger's middle or last bone (pad to side), short of its tip:
    in an OK circle or an O the tips meet end to end instead. The thumb stays on the index side
    of the hand, clear of the middle finger: a fist's thumb also lies on the index's middle bone,
    but reaches across the palm onto the middle finger.
    """
    if states.extended[2:].any():
        return None
    try:
        frame = palm_frame(hand.landmarks)
        world = palm_frame(hand.world_landmarks)
    except ValueError:  # collapsed landmarks
        return None
    if not -0.2 < finger_reach(frame)[0] < 0.8:
        return None
    bones = sum(np.linalg.norm(world[b] - world[a]) for a, b in ((5, 6), (6, 7), (7, 8)))
    if np.linalg.norm(world[8] - world[5]) < HEART_INDEX_OPEN * bones:
        return None  # index curled into the palm: a fist
    tip = frame[4]
    distance, along, start = min(_segment_distance(tip, frame[a], frame[b]) + (a,) for a, b in ((6, 7), (7, 8)))
    if distance > HEART_CONTACT or (start == 7 and along > 0.85):
        return None
    middle = min(_segment_distance(tip, frame[a], frame[b])[0] for a, b in ((10, 11), (11, 12)))
    if middle < max(HEART_CONTACT, 1.5 * distance):
        return None
    if tip[0] < frame[5, 0] - 0.1 or tip[1] < frame[5, 1]:
        return None  # tucked across the palm, or not reaching past the index knuckle
    closeness = 1 - distance / HEART_CONTACT
    return float(min(states.confidence[2:].min(), 0.5 + 0.4 * closeness))
