"""Procedural hand photos with ground truth, for tests, samples and robustness tables.

Numpy and OpenCV only: a 21-point skeleton in MediaPipe's topology posed per gesture, shaded 3D
capsules and a soft palm on a z-buffer, a forearm to the frame edge, a person and clutter behind.

    from gesture_audit.synth import render_hand
    r = render_hand(gesture="v", rng=np.random.default_rng(0))
    r.image, r.hands[0]["box"], r.label("v_000.jpg")
"""

from gesture_audit.synth.core import Render, render_empty, render_group, render_hand
from gesture_audit.synth.gestures import GESTURES
from gesture_audit.synth.surface import SKIN_TONES

__all__ = ["GESTURES", "SKIN_TONES", "Render", "render_empty", "render_group", "render_hand"]
