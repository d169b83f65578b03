"""The gesture vocabulary the renderer knows, and the joint angles that show each one."""

from __future__ import annotations

import numpy as np

from gesture_audit.classify.gestures import FINGERS
from gesture_audit.synth.skeleton import (
    FINGER_RADIUS,
    SPREAD_FOLDED,
    SPREAD_OPEN,
    THUMB_RADIUS,
    HandShape,
    Pose,
    finger_joints,
    segment_frames,
    solve_thumb,
)

# Stable names -> fingers (thumb..pinky, 1 = extended): the classifier's vocabulary, and "wave" (an
# open palm, tilted). The first name listed for a pattern is the one `--fingers` renders.
GESTURES: dict[str, str] = {**FINGERS, "wave": "11111"}

# How each gesture is held before the random rotation: "upright" (wrist down, fingers up),
# "thumb_up" / "thumb_down" (the extended thumb points up / down), "tilt" (upright, leaning),
# "circle" (turned toward the thumb so the OK circle shows), "heart" (turned the other way,
# the crossed thumb and index tips on top).
ORIENTATION: dict[str | None, str] = {  # looked up with a gesture name, or None for bare fingers
    "thumb_up": "thumb_up",
    "thumb_down": "thumb_down",
    "wave": "tilt",
    "ok_three": "circle",
    "finger_heart": "heart",
}
# How often a gesture is shown with the back of the hand to the camera; the OK circle is shown
# palm forward, so that the circle faces the viewer.
BACK_SHARE: dict[str | None, float] = {"ok_three": 0.05}  # by gesture name, or None: the default
BACK_SHARE_DEFAULT = 0.2

# Hard poses, mostly of the thumb (the thumb benchmark, `benchmarks/thumb.py`): name -> (gesture, thumb placement,
# facing, yaw range in degrees turned toward the thumb side; None: the renderer's usual draw). The
# truth is the gesture's pattern: a resting or tucked thumb is folded, a thumbs-up seen from the side
# or from behind is still extended.
THUMB_POSES: dict[str, tuple[str, str | None, str | None, tuple[float, float] | None]] = {
    "one_thumb_resting": ("one", "rest", None, None),  # along the side of the index finger
    "fist_thumb_tucked": ("fist", "tuck", None, None),  # along the side of the fist
    "four_thumb_across": ("four", None, None, None),  # folded across the palm (four's usual thumb)
    "thumb_up_side": ("thumb_up", None, "palm", (55.0, 80.0)),  # seen from the side
    "thumb_up_behind": ("thumb_up", None, "back", None),  # the back of the hand to the camera
    "ok_circle": ("ok_three", None, None, None),
    "l_thumb_out": ("l", None, None, None),  # the control: a thumb that is up, beside a raised index
    "three_back": ("three", None, "back", None),  # three seen from the back of the hand (read as four)
}


def check_fingers(fingers: str) -> str:
    """`fingers` if it is five characters of 0/1, else ValueError."""
    if not isinstance(fingers, str) or len(fingers) != 5 or set(fingers) - {"0", "1"}:
        raise ValueError(f"fingers must be 5 characters of 0/1 (thumb..pinky), not {fingers!r}")
    return fingers


def gesture_for(fingers: str) -> str | None:
    """The vocabulary's name for a finger pattern, or None when it has none."""
    return next((name for name, pattern in GESTURES.items() if pattern == fingers), None)


def resolve(fingers: str | None, gesture: str | None) -> tuple[str, str | None]:
    """(fingers, gesture) from either; raises ValueError for unknown names or mismatches."""
    if gesture is not None:
        if gesture not in GESTURES:
            raise ValueError(f"unknown gesture {gesture!r}; known: {', '.join(GESTURES)}")
        if fingers is not None and check_fingers(fingers) != GESTURES[gesture]:
            raise ValueError(f"gesture {gesture!r} shows {GESTURES[gesture]}, not {fingers}")
        return GESTURES[gesture], gesture
    if fingers is None:
        raise ValueError("give fingers or gesture")
    fingers = check_fingers(fingers)
    return fingers, gesture_for(fingers)


def pose_for(
    fingers: str, gesture: str | None, shape: HandShape, rng: np.random.Generator, thumb: str | None = None
) -> Pose:
    """Joint angles showing `fingers` (and the gesture's particular form), with natural variation.
    `thumb` "rest" / "tuck" lays a folded thumb along the side of the index finger / the fist."""
    up = [c == "1" for c in fingers]
    flex = np.zeros((4, 3))
    spread = np.zeros(4)
    fan = rng.uniform(0.5, 1.3) if gesture != "wave" else rng.uniform(1.0, 1.5)
    for f in range(4):
        if up[f + 1]:
            flex[f] = rng.uniform([-6.0, 0.0, 0.0], [12.0, 14.0, 10.0])
            spread[f] = SPREAD_OPEN[f] * fan + rng.normal(0.0, 2.0)
        else:
            flex[f] = rng.uniform([78.0, 92.0, 48.0], [94.0, 108.0, 68.0])
            spread[f] = SPREAD_FOLDED[f] + rng.normal(0.0, 1.5)
    if gesture == "v" or (fingers[1:] == "1100"):
        spread[:2] = [rng.uniform(6, 14), rng.uniform(-10, -3)]
    if gesture == "ok_three":
        flex[0] = rng.uniform([42.0, 50.0, 22.0], [55.0, 65.0, 35.0])
        spread[0] = rng.uniform(-2.0, 4.0)
    if gesture == "finger_heart":
        # The index bends mostly at its knuckle, to point out of the palm, and a little at its
        # middle joints: a hook the thumb can reach, its tip not curled back into the palm.
        flex[0] = rng.uniform([64.0, 24.0, 4.0], [78.0, 40.0, 14.0])
        spread[0] = rng.uniform(-2.0, 5.0)
    if up[3] and not up[4]:
        # Beside a straight ring finger the little finger cannot fold fully at its knuckle (their
        # tendons are linked); it stays in line with its metacarpal rather than tucking under the
        # ring finger. MediaPipe found 97 % of 420 threes posed so, 94 % with the full fold.
        flex[3, 0] *= 0.8
        spread[3] -= 7.0
    arch = 0.45 * (not up[3]) + 0.55 * (not up[4])
    pose = Pose(flex, spread, np.zeros(5), arch)
    pose.thumb = _thumb(fingers, gesture, pose, shape, rng, thumb)
    return pose


def _thumb(
    fingers: str,
    gesture: str | None,
    pose: Pose,
    shape: HandShape,
    rng: np.random.Generator,
    placement: str | None = None,
) -> np.ndarray:
    def finger(f: int) -> np.ndarray:
        return finger_joints(f, pose.flex[f], pose.spread[f], shape, pose.arch)

    if placement in ("rest", "tuck"):
        # The folded thumb lies along the thumb side of the index finger, its pad against it: of a
        # raised index, beside its first bone; of a fist, beside the curled index's middle joint.
        if fingers[0] == "1":
            raise ValueError(f"thumb placement {placement!r} is a folded thumb, not in {fingers}")
        index = finger(0)
        radial = np.array([np.cos(np.radians(pose.spread[0])), -np.sin(np.radians(pose.spread[0])), 0.0])
        side = (FINGER_RADIUS[0, 1] + THUMB_RADIUS[3]) * 0.85 * shape.size
        on = index[0] + rng.uniform(0.35, 0.6) * (index[1] - index[0]) if placement == "rest" else index[1]
        target = on + side * radial + np.array([0.0, 0.0, rng.uniform(2.0, 8.0)]) * shape.size
        return solve_thumb(target, rng.uniform([0, 15, 10, 10, 5], [20, 35, 40, 30, 25]), shape)
    if placement is not None:
        raise ValueError(f"unknown thumb placement {placement!r}; known: rest, tuck")

    if gesture == "ok_three":
        tip = finger(0)[3]
        prior = rng.uniform([30, 45, 45, 5, 5], [45, 60, 65, 20, 20])
        return solve_thumb(tip + [2.0, -1.0, 1.0], prior, shape)
    if gesture == "finger_heart":
        # The nearly straight thumb lies along the thumb side of the index's middle phalanx, its
        # pad against the index and its tip just past the index's back: the two cross near the
        # index's last joint, the tips splaying apart above the crossing (the "heart").
        index = finger(0)
        dorsal = -segment_frames(pose)[1, 1]
        radial = np.array([np.cos(np.radians(pose.spread[0])), -np.sin(np.radians(pose.spread[0])), 0.0])
        side = (FINGER_RADIUS[0, 1] + THUMB_RADIUS[3]) * 0.8 * shape.size
        target = 0.45 * index[1] + 0.55 * index[2] + side * radial + 3.0 * shape.size * dorsal
        return solve_thumb(target, rng.uniform([20, 35, 40, 5, 0], [35, 50, 60, 20, 12]), shape)
    if fingers[0] == "1":
        if gesture in ("l", "telepon"):  # the metacarpal abducts ~60 degrees, the rest is hyperextension
            low, high = [55, 0, 30, -8, -15], [70, 15, 60, 3, 0]
        elif gesture in ("thumb_up", "thumb_down"):
            low, high = [35, 10, 30, 0, -5], [60, 30, 60, 12, 15]
        else:
            low, high = [45, 5, 30, 0, -5], [66, 22, 60, 15, 20]
        return rng.uniform(low, high)
    # A folded thumb lies across the folded fingers, over the middle phalanx it holds down;
    # with every finger up it lies across the palm toward the little finger's base.
    folded = [f for f in range(4) if fingers[f + 1] == "0"]
    if not folded:
        target = np.array([-22.0 * shape.width, 58.0, 9.0 + THUMB_RADIUS[3]]) * shape.size
        return solve_thumb(target, rng.uniform([15, 15, 0, 30, 15], [30, 30, 20, 50, 30]), shape)
    prior = rng.uniform([5, 30, 35, 25, 15], [25, 50, 55, 45, 35])
    f = folded[1] if folded[0] == 0 and len(folded) > 1 else folded[0]
    pts = finger(f)
    reach = (FINGER_RADIUS[f, 1] + THUMB_RADIUS[3]) * 0.9 * shape.size
    target = 0.5 * (pts[1] + pts[2]) + [2.0, 0.0, reach]
    return solve_thumb(target, prior, shape)
