"""Evidence of a hidden second hand: the found hand's own skin colour around it.

A hand folded round another (one person's hands clasped, a handshake whose other hand the palm
detector misses) has the other hand's skin right beside and under it, where a hand held up alone
has background. `skin_beside` measures that: the share of the area around the hand (its box widened
by MARGIN palm lengths) that has the hand's own colour, leaving out the hand itself (its landmarks'
hull, widened) and its own wrist and forearm. A face or a skin-coloured wall beside the hand counts
too: it is evidence for the judge to weigh, not a verdict.
"""

from __future__ import annotations

import cv2
import numpy as np

from gesture_audit.detect.core import CHAINS, WRIST, Hand

# The area around the hand: its box widened by this many palm lengths (wrist to middle knuckle).
MARGIN = 0.5
# Measured with the palm this many pixels long: a hand in a 4000 px photo costs no more than one in
# a 320 px render.
PALM_PX = 24
# A pixel has the hand's colour within this CIELAB distance (lightness weighted half: the other
# hand lies in its own shade); about the spread of one skin tone across a rendered hand's palm.
TOLERANCE = 12.0
# The knuckles at the base of the index, middle, ring and little fingers (MediaPipe's topology).
INDEX, MIDDLE, RING, LITTLE = (chain[0] for chain in CHAINS[1:])
# The hand itself: its landmarks' hull widened by this share of the palm length (fingers are wider
# than their landmark lines); the forearm: this wide (palm lengths) and this long from the wrist.
HULL_PAD = 0.25
FOREARM_WIDTH = (1.2, 1.6)
FOREARM_LENGTH = 4.0


def skin_beside(image: np.ndarray, hand: Hand) -> float:
    """The share (0-1) of the area around `hand` in `image` (RGB uint8) with the hand's own colour,
    the hand, its wrist and forearm left out."""
    lm = hand.landmarks[:, :2].astype(np.float64)
    palm = float(np.linalg.norm(lm[MIDDLE] - lm[WRIST]))
    if palm < 2:
        return 0.0
    x0, y0 = (max(0, int(v)) for v in hand.box[:2] - MARGIN * palm)
    x1 = min(image.shape[1], int(hand.box[2] + MARGIN * palm) + 1)
    y1 = min(image.shape[0], int(hand.box[3] + MARGIN * palm) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0.0
    scale = min(1.0, PALM_PX / palm)
    w, h = max(2, round((x1 - x0) * scale)), max(2, round((y1 - y0) * scale))
    lab = cv2.cvtColor(cv2.resize(image[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2LAB).astype(
        np.float32
    )
    points = (lm - [x0, y0]) * [w / (x1 - x0), h / (y1 - y0)]
    p = palm * w / (x1 - x0)
    own = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(own, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    wrist = points[WRIST]
    along = (wrist - points[MIDDLE]) / max(float(np.linalg.norm(wrist - points[MIDDLE])), 1e-6)
    across = np.array([-along[1], along[0]])
    near, far = (width / 2 * p * across for width in FOREARM_WIDTH)
    forearm = [
        wrist + near,
        wrist - near,
        wrist - far + FOREARM_LENGTH * p * along,
        wrist + far + FOREARM_LENGTH * p * along,
    ]
    cv2.fillConvexPoly(own, np.round(forearm).astype(np.int32), 1)
    pad = max(1, round(HULL_PAD * p))
    own = cv2.dilate(own, np.ones((2 * pad + 1, 2 * pad + 1), np.uint8))
    around = own == 0
    if not around.any():
        return 0.0
    # the hand's colour: the median of 3 x 3 patches at four points of its palm
    palm_points = [
        (wrist + points[MIDDLE]) / 2,
        (wrist + points[INDEX] + points[LITTLE]) / 3,
        (wrist + points[MIDDLE] + points[RING]) / 3,
        (wrist * 2 + points[INDEX] + points[MIDDLE]) / 4,
    ]
    patches = []
    for x, y in palm_points:
        cx, cy = int(np.clip(x, 0, w - 1)), int(np.clip(y, 0, h - 1))
        patches.append(lab[max(0, cy - 1) : cy + 2, max(0, cx - 1) : cx + 2].reshape(-1, 3))
    colour = np.median(np.concatenate(patches), axis=0)
    weights = np.array([0.25, 1.0, 1.0], np.float32)
    distance = np.sqrt((((lab - colour) ** 2) * weights).sum(-1))
    return float(((distance < TOLERANCE) & around).sum() / around.sum())
