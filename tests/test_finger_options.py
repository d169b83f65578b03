"""benchmarks.finger_options: a reading is scored on the hands found and on every labelled hand (a
missed hand wrong), the two figures issue 20's acceptance and `gesture-audit eval` use."""

from __future__ import annotations

import numpy as np

from benchmarks.finger_options import rule_p, score
from gesture_audit.synth import render_hand


def test_a_missed_hand_counts_against_all_labelled_hands_only(engine):
    r = render_hand(gesture="v", rng=np.random.default_rng(7), size=(320, 240))
    (hand,) = engine.detect_hands([r.image])[0]
    assert r.hands[0]["fingers"] == "01100"
    rows = [
        {"set": "s", "fingers": "01100", "count": 2, "hand": hand},
        {"set": "s", "fingers": "01100", "count": 2, "hand": None},  # the engine missed it
        {"set": "s", "fingers": None, "count": 2, "hand": hand},  # labelled with a count only
    ]
    t = score(rows, lambda row: rule_p(row["hand"])[0])["s"]
    assert (t["hands"], t["found"]) == (3, 2)
    assert (t["count_found"], t["count_all"]) == (1.0, round(2 / 3, 4))
    assert (t["fingers_found"], t["fingers_all"]) == (1.0, 0.5)  # over the two hands labelled with fingers
    assert t["confusions"] == {}
    # a V where an L was shown moves the ballot: counted among the confusions
    wrong = score([{"set": "t", "fingers": "11000", "count": 2, "hand": hand}], lambda row: rule_p(row["hand"])[0])
    assert wrong["t"]["confusions"] == {"l->v": 1} and wrong["t"]["count_all"] == 1.0
