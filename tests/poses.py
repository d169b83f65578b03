"""Landmarks of a hand in a chosen pose, from a small kinematic model (no image involved).

A test helper (not part of the package), for the tests and for seeing what the classifier expects of
each sign: `posed_hand("01100")` is a
`Hand` showing a V, as the hand engine would report it, turned however asked (in-plane roll, tilt,
left or right hand, palm or back to the camera).

The model is in millimetres in the hand's own frame for a right hand: wrist at the origin, +y
towards the fingers, +x towards the thumb, +z out of the palm. A left hand is its mirror image.
"""

from __future__ import annotations

import numpy as np

from gesture_audit.detect.core import CHAINS, Hand

# Knuckles (MCP) of index..pinky and their bone lengths (proximal, middle, distal), mm.
KNUCKLES = np.array([[22.0, 85.0, 0.0], [3.0, 88.0, 0.0], [-14.0, 83.0, 0.0], [-29.0, 74.0, 0.0]])
BONES = np.array([[40.0, 24.0, 21.0], [45.0, 28.0, 23.0], [42.0, 27.0, 22.0], [33.0, 19.0, 20.0]])
SPREAD_DEG = np.array([8.0, 0.0, -8.0, -16.0])  # fan of straight fingers, + towards the thumb
THUMB_BASE = np.array([20.0, 25.0, 5.0])  # CMC
# Flexion (MCP, PIP, DIP) in degrees of a straight and of a folded finger.
STRAIGHT = (5.0, 5.0, 5.0)
FOLDED = (85.0, 100.0, 60.0)
# Thumb joints (MCP, IP, tip) for the ways it is held.
THUMB = {
    "out": np.array([[40.0, 55.0, 12.0], [58.0, 80.0, 14.0], [72.0, 100.0, 14.0]]),  # open hand, L, ...
    "side": np.array([[40.0, 40.0, 10.0], [62.0, 48.0, 10.0], [85.0, 52.0, 8.0]]),  # thumbs-up over a fist
    "across": np.array([[35.0, 45.0, 18.0], [20.0, 60.0, 32.0], [0.0, 66.0, 36.0]]),  # tucked over the palm
    "over": np.array([[35.0, 45.0, 20.0], [24.0, 66.0, 40.0], [4.0, 78.0, 50.0]]),  # over curled fingers
    "resting": np.array([[38.0, 48.0, 12.0], [38.0, 68.0, 10.0], [30.0, 88.0, 8.0]]),  # along the index's side
    "halfway": np.array([[38.0, 48.0, 12.0], [48.0, 66.0, 11.0], [50.0, 85.0, 10.0]]),  # between resting and out
    "lifting": np.array([[38.0, 48.0, 14.0], [40.5, 55.0, 19.5], [35.0, 62.0, 25.0]]),  # off an open palm
}
THUMB_MCP_REACHING = np.array([38.0, 48.0, 14.0])  # thumb MCP when the tip reaches for a finger


def finger_chain(finger: int, flex_deg, spread_deg: float) -> np.ndarray:
    """(4, 3) knuckle, middle joint, last joint, tip of finger 0 (index) .. 3 (pinky)."""
    spread = np.radians(spread_deg)
    along = np.array([np.sin(spread), np.cos(spread), 0.0])
    out = np.array([0.0, 0.0, 1.0])
    points = [KNUCKLES[finger]]
    angle = 0.0
    for bone, flex in zip(BONES[finger], flex_deg):
        angle += np.radians(flex)
        points.append(points[-1] + bone * (np.cos(angle) * along + np.sin(angle) * out))
    return np.array(points)


def _thumb_to(tip: np.ndarray) -> np.ndarray:
    """Thumb MCP, IP and tip with the tip at `tip` and the IP bowed outwards between."""
    mcp = THUMB_MCP_REACHING
    ip = (mcp + tip) / 2 + np.array([8.0, -4.0, 4.0])
    return np.array([mcp, ip, tip])


def pose(
    pattern: str = "11111",
    *,
    contact: int | None = None,
    heart: bool = False,
    thumb: str | None = None,
    together: bool = False,
    bend: dict | None = None,
) -> np.ndarray:
    """(21, 3) mm, right hand, in the hand frame.

    pattern: thumb..pinky, 1 = straight. contact: finger 1-4 whose tip meets the thumb tip (an OK
    circle with 1, ASL 6-9 with 4-1); that finger and the thumb are curled to meet whatever the
    pattern says. heart: a Korean finger heart (pattern ignored). thumb: force a thumb placement
    from THUMB. together: straight fingers side by side instead of fanned. bend: finger 1-4 ->
    its (MCP, PIP, DIP) flexion in degrees, overriding the pattern (a half-folded finger).
    """
    if len(pattern) != 5 or set(pattern) - {"0", "1"}:
        raise ValueError(f"pattern must be five 0/1 characters, not {pattern!r}")
    points = np.zeros((21, 3))
    points[1] = THUMB_BASE
    for f in range(4):
        straight = pattern[f + 1] == "1"
        flex = STRAIGHT if straight else FOLDED
        if contact == f + 1:
            flex = (45.0, 55.0, 25.0)
        if heart:
            flex = (75.0, 30.0, 10.0) if f == 0 else FOLDED
        if bend and f + 1 in bend:
            flex = bend[f + 1]
        spread = SPREAD_DEG[f] * (0.25 if together else 1.0) if straight else -SPREAD_DEG[f] / 2
        points[list(CHAINS[f + 1])] = finger_chain(f, flex, spread)
    if heart:
        on_index = (points[6] + points[7]) / 2 + np.array([9.0, 0.0, 0.0])
        points[2:5] = _thumb_to(on_index)
    elif contact:
        points[2:5] = _thumb_to(points[4 + 4 * contact] + np.array([3.0, 0.0, 3.0]))
    else:
        fist = pattern[1:] == "0000"
        placement = thumb or (
            "out"
            if pattern[0] == "1" and not fist
            else "side"
            if pattern[0] == "1"
            else "over"
            if pattern[1:3] == "00"
            else "across"
        )
        points[2:5] = THUMB[placement]
    return points


def rotation(roll: float = 0.0, pitch: float = 0.0, yaw: float = 0.0) -> np.ndarray:
    """Rotation (degrees) about the camera's z (in the image plane), x (tilt) and y (turn)."""
    r, p, y = np.radians([roll, pitch, yaw])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    return rz @ rx @ ry


def posed_hand(
    pattern: str = "11111",
    *,
    handedness: str = "right",
    facing: str = "palm",
    roll: float = 0.0,
    pitch: float = 0.0,
    yaw: float = 0.0,
    size_px: float = 200.0,
    center=(320.0, 240.0),
    noise_mm: float = 0.0,
    rng: np.random.Generator | None = None,
    **shape,
) -> Hand:
    """A `Hand` as the engine would report it for a hand in this pose.

    Upright (roll 0) means fingers up in the image; `facing` is what the camera sees, "palm" or
    "back". `size_px` is the wrist-to-middle-knuckle length in pixels; `shape` goes to `pose`.
    Camera axes: x right, y down, z away from the camera (MediaPipe's: smaller z is closer).
    """
    if handedness not in ("left", "right") or facing not in ("palm", "back"):
        raise ValueError("handedness is 'left' or 'right', facing is 'palm' or 'back'")
    mm = pose(pattern, **shape)
    if noise_mm:
        mm = mm + (rng or np.random.default_rng(0)).normal(0.0, noise_mm, mm.shape)
    if handedness == "left":
        mm = mm * np.array([-1.0, 1.0, 1.0])
    # Hand frame -> camera, upright: fingers up (-y), the palm (+z, also after mirroring) towards
    # the camera (-z) when it faces it; a proper rotation either way.
    towards_camera = -1.0 if facing == "palm" else 1.0
    base = np.array([[towards_camera * -1.0, 0, 0], [0, -1.0, 0], [0, 0, towards_camera]])
    camera = mm @ (rotation(roll, pitch, yaw) @ base).T
    world = (camera - camera.mean(0)) / 1000.0
    scale = size_px / np.linalg.norm(mm[9] - mm[0])
    image = (camera - camera[0]) * scale + np.array([center[0], center[1], 0.0])
    return Hand.from_landmarks(image, world, score=0.99, presence=0.99, handedness=handedness, handedness_score=0.99)
