"""Engine + judgement on renders of the poses whose reading is ambiguous: never a flag on the wrong pair.

Each pose of `synth.gestures.THUMB_POSES` that can point at another pair when one finger is misread
(a one with the thumb resting along the index: 1 or 2; a four with the thumb across the palm: 4 or
5; a three seen from the back: 3 or 4, still failing) is rendered PER_POSE times (fixed seeds, 320×240, cycling the
skin tones) and judged under an election where every number 1-6 is a pair (the Pilkada template), so
that each misreading would move the ballot. Handshakes and gripping hands (`synth.render_clasp`)
must not be flagged at all, and rarely go to review. About 25 s on two cores, mostly rendering.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gesture_audit.judge.election import load_election
from gesture_audit.judge.verdict import judge
from gesture_audit.synth import SKIN_TONES, render_hand
from gesture_audit.synth.core import CLASPS, render_clasp
from gesture_audit.synth.gestures import THUMB_POSES

PILKADA = Path(__file__).resolve().parents[2] / "samples" / "elections" / "pilkada-template.toml"
AMBIGUOUS = {"one_thumb_resting": 1, "four_thumb_across": 4, "three_back": 3}  # pose -> its number
PER_POSE = 6
SIZE = (320, 240)


@pytest.fixture(scope="module")
def pilkada():
    return load_election(PILKADA)


def _render(name: str, i: int):
    gesture, thumb, facing, turn = THUMB_POSES[name]
    rng = np.random.default_rng(2000 + 10 * list(THUMB_POSES).index(name) + i)
    tone = list(SKIN_TONES)[i % len(SKIN_TONES)]
    return render_hand(
        gesture=gesture,
        rng=rng,
        size=SIZE,
        skin=tone,
        thumb=thumb,
        facing=facing,
        turn=None if turn is None else float(rng.uniform(*turn)),
    )


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "pose",
    [
        "one_thumb_resting",
        "four_thumb_across",
        # Not solved: seen from the back, the landmark model draws the folded little finger of a three
        # straight, and the reading is a sure four (0.90 on one of these six; benchmarks/README.md).
        pytest.param(
            "three_back", marks=pytest.mark.xfail(strict=True, reason="a three from the back reads as a sure four")
        ),
    ],
)
def test_an_ambiguous_pose_is_never_flagged_on_another_pair(engine, pilkada, pose):
    images = [_render(pose, i).image for i in range(PER_POSE)]
    verdicts = [judge(hands, pilkada) for hands in engine.detect_hands(images)]
    wrong = [v.reasons for v in verdicts if v.verdict == "flag" and v.ballots != [AMBIGUOUS[pose]]]
    assert not wrong
    # and the pose is still read as its own number, not merely kept from flags: on 24 renders per
    # pose (benchmarks/thumb.py) 21, 23 and 17 of 24 pointed at the right pair; floor 2 of 6.
    assert sum(v.ballots == [AMBIGUOUS[pose]] for v in verdicts) >= 2


@pytest.mark.timeout(300)
def test_handshakes_and_gripping_hands_are_not_flagged(engine):
    election = load_election()
    rng = np.random.default_rng(7)
    renders = [render_clasp(rng, SIZE, kind=kind) for kind in CLASPS for _ in range(PER_POSE)]
    assert all(r.kind == "negative" and len(r.hands) == 2 for r in renders)
    verdicts = [judge(hands, election) for hands in engine.detect_hands([r.image for r in renders])]
    assert not [v.reasons for v in verdicts if v.verdict == "flag"]
    # and few go to review: 2 of 60 in benchmarks/thumb.py, 11 of 60 before the grip head; these
    # 12 renders give 2 (a lone half-hidden hand read as a three, another as a finger heart)
    reviewed = [v.reasons for v in verdicts if v.verdict == "review"]
    assert len(reviewed) <= 2, reviewed
