"""benchmarks.landmark_views: the extra landmark passes (crop turned ±20°, wider) land back on the hand
in the image, and a hand is read again only where the gate says."""

from __future__ import annotations

import numpy as np

from benchmarks.landmark_views import SMALL, combine, views
from gesture_audit.synth import render_hand


def test_turned_views_map_back_onto_the_hand_and_are_combined_by_median(engine):
    r = render_hand(gesture="v", rng=np.random.default_rng(7), size=(320, 240))
    (hand,) = engine.detect_hands([r.image])[0]
    (seen,) = views(engine.landmarker, r.image, [hand])
    assert len(seen) == 3
    diagonal = float(np.linalg.norm(hand.box[2:] - hand.box[:2]))
    for turned in seen[:2]:
        # Median landmark 0.7-2.5 % of the box's diagonal from the first reading on V, L, five and one
        # renders; mapped back with the turn the wrong way round it lands 14-15 % away. 5 % between.
        off = np.median(np.linalg.norm(turned.points[:, :2] - hand.landmarks[:, :2], axis=1))
        assert off < 0.05 * diagonal
    both = combine(hand, seen, [0, 1], "all")
    expected = np.median(np.stack([hand.landmarks, seen[0].points, seen[1].points]), 0)
    assert np.allclose(both.landmarks, expected, atol=1e-4)
    assert both.presence == hand.presence and hand.landmarks is not both.landmarks  # the original kept
    assert min(hand.box[2:] - hand.box[:2]) >= SMALL  # a hand this size is left as read
    assert combine(hand, seen, [0, 1, 2], "small") is hand
