"""Which person a hand belongs to: the face whose body the hand's arm most plausibly joins.

A hand raised to show a number is held beside or above the head or in front of the chest, so its
wrist lies within a few face widths of the face, and its forearm runs from the wrist down towards
that person's shoulder. `assign_persons` scores every hand-face pair on those cues, in units of
the face's width (so the rule holds at any distance from the camera), and ties each hand to the
best face that is within reach, with at most two hands per person.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gesture_audit.detect.core import Hand
from gesture_audit.detect.faces import Face

# Where a wrist can be, relative to the face centre, in face widths (x sideways, y down).
REACH_X = 3.5
REACH_UP = 3.0
REACH_DOWN = 4.5
# Typical wrist of a raised hand: beside the face, about one face width below its centre
# (measured on the dev scenes: |dx| 1.1, dy 1.0 at the median).
TYPICAL = np.array([1.2, 1.0], np.float32)
SHOULDER = np.array([0.9, 1.4], np.float32)  # each shoulder, from the face centre
# Beyond this a hand is left unassigned rather than given to a neighbour: on mosaics of dev scenes,
# 95 % of true pairs cost under 1.2 and 95 % of wrong ones over 1.25; at 2.0 a hand whose own face
# is hidden goes to a neighbour one time in twenty.
MAX_COST = 2.0


def assign_persons(hands: Sequence[Hand], faces: Sequence[Face]) -> None:
    """Set `hand.person` to the index in `faces` of the person showing each hand, or None.

    None means no face is within reach of the hand (its person's face is hidden, or too far).
    Each face takes at most two hands; the most plausible pairs are tied first.
    """
    for hand in hands:
        hand.person = None
    if not hands or not faces:
        return
    cost = np.array([[_cost(hand, face) for face in faces] for hand in hands])
    taken = np.zeros(len(faces), int)
    done = np.zeros(len(hands), bool)
    for flat in np.argsort(cost, axis=None):
        i, j = divmod(int(flat), len(faces))
        if not np.isfinite(cost[i, j]):
            break
        if done[i] or taken[j] >= 2:
            continue
        hands[i].person = j
        done[i] = True
        taken[j] += 1


def _cost(hand: Hand, face: Face) -> float:
    """How implausible it is that `hand` belongs to `face` (inf: out of reach)."""
    width = float(face.box[2] - face.box[0])
    if width <= 0:
        return np.inf
    centre = (face.box[:2] + face.box[2:]) / 2
    wrist, middle = hand.landmarks[0, :2], hand.landmarks[9, :2]
    dx, dy = (wrist - centre) / width
    if abs(dx) > REACH_X or not -REACH_UP <= dy <= REACH_DOWN:
        return np.inf
    # Distance from where a raised hand's wrist usually is, on the hand's own side of the face.
    place = np.hypot(abs(dx) - TYPICAL[0], dy - TYPICAL[1])
    # A hand far smaller or larger than its face is someone else's (nearer or further away).
    size = abs(np.log(max(float(np.linalg.norm(wrist - middle)), 1e-3) / width / 0.6))
    # A hand raised above the shoulder hangs on a forearm that runs from the wrist (away from
    # the fingers) down towards the shoulder on its side; below the shoulder the elbow can be
    # anywhere, and the cue says nothing.
    along = 0.0
    if dy < SHOULDER[1]:
        forearm = wrist - middle
        shoulder = centre + np.array([np.sign(dx) or 1.0, 1.0], np.float32) * SHOULDER * width
        to_shoulder = shoulder - wrist
        norm = np.linalg.norm(forearm) * np.linalg.norm(to_shoulder)
        along = 1.0 - float(forearm @ to_shoulder / norm) if norm > 0 else 0.0
    cost = float(place + 0.7 * max(size - 0.7, 0.0) + 0.5 * along)
    return cost if cost <= MAX_COST else np.inf
