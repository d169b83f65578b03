"""Engine + judgement on renders of the poses whose reading is ambiguous: never a flag on the wrong pair.

Each pose of `synth.gestures.THUMB_POSES` that can point at another pair when one finger is misread
(a one with the thumb resting along the index: 1 or 2; a four with the thumb across the palm: 4 or
5; a three seen from the back: 3 or 4) is rendered PER_POSE times (fixed seeds, 320×240, cycling the
skin tones) and judged under an election where every number 1-6 is a pair (the Pilkada template), so
that each misreading would move the ballot: a hand read on another pair goes to review, naming its
own number as the other reading. Handshakes and gripping hands (`synth.render_clasp`) must not be
flagged at all, and rarely go to review; a sign held beside another person's hand still flags; a
reading that would not flag on its own counts only as likely as the hand is not gripping (the
finger head's P(grip)), while a sure sign keeps its flag. About 45 s on two cores, mostly rendering.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from gesture_audit.classify.gestures import classify_hand
from gesture_audit.detect.core import box_cover
from gesture_audit.judge.election import load_election
from gesture_audit.judge.verdict import BESIDE, CLASP, CLEARLY_RAISED, GRIP, SKIN_GRIP, judge
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


@pytest.fixture(scope="module")
def ambiguous_hands(engine):
    """The hands the engine finds in each ambiguous pose's renders (rendered and detected once)."""
    return {pose: engine.detect_hands([_render(pose, i).image for i in range(PER_POSE)]) for pose in AMBIGUOUS}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("pose", list(AMBIGUOUS))
def test_an_ambiguous_pose_is_never_flagged_on_another_pair(ambiguous_hands, pilkada, pose):
    verdicts = [judge(hands, pilkada) for hands in ambiguous_hands[pose]]
    number = AMBIGUOUS[pose]
    misread = [v for v in verdicts if v.ballots != [number]]
    assert not [v.reasons for v in misread if v.verdict == "flag"]
    # a hand read on another pair names the pose's own number as its other reading ("4 or 3: the
    # little finger may be folded"), or is no sign at all (so on these six; of the benchmark's 24
    # three-from-the-back renders, 2 others go to review as a 5 and as "4 or 5")
    assert all(v.verdict == "clear" or f" or {number} (" in v.reasons[0] for v in misread), [v.reasons for v in misread]
    # and the pose is still read as its own number, not merely kept from flags: on 24 renders per
    # pose (benchmarks/thumb.py) 21, 23 and 16 of 24 pointed at the right pair; floor 2 of 6.
    assert sum(v.ballots == [number] for v in verdicts) >= 2


@pytest.fixture(scope="module")
def clasps(engine):
    """Handshakes then grips, PER_POSE of each (fixed seed): the renders and the hands found."""
    rng = np.random.default_rng(7)
    renders = [render_clasp(rng, SIZE, kind=kind) for kind in CLASPS for _ in range(PER_POSE)]
    return renders, engine.detect_hands([r.image for r in renders])


@pytest.mark.timeout(300)
def test_handshakes_and_gripping_hands_are_not_flagged(clasps):
    election = load_election()
    renders, found = clasps
    assert all(r.kind == "negative" and len(r.hands) == 2 for r in renders)
    verdicts = [judge(hands, election) for hands in found]
    assert not [v.reasons for v in verdicts if v.verdict == "flag"]
    # and few go to review: in benchmarks/thumb.py 0 of 200 handshakes and 0 of 200 grips (seeds
    # 140/141, benchmarks/README.md; 12 grips before a hidden hand's skin counted); these 12 renders
    # give at most 1
    reviewed = [v.reasons for v in verdicts if v.verdict == "review"]
    assert len(reviewed) <= 1, reviewed


@pytest.mark.timeout(300)
def test_a_hidden_hand_shows_as_skin_beside_the_found_one(clasps, ambiguous_hands):
    # A grip's found hand has the other hand's skin round it; a hand held up alone mostly has
    # background (a face or a person behind it counts too: 1 in 10 rendered finger hearts).
    renders, found = clasps
    gripping = [h.beside for r, hands in zip(renders, found) if r.hands[0]["clasp"] == "grip" for h in hands]
    alone = [h.beside for pose in AMBIGUOUS for hands in ambiguous_hands[pose] for h in hands]
    assert gripping and alone
    # benchmarks/README.md: 99 % of the grips' found hands on the tuning seeds reach BESIDE; floor 4 of 6
    assert sum(b >= BESIDE for b in gripping) >= 4, gripping
    # these 18 lone renders: 16 below 0.02, one 0.073 and one 0.115 (its own forearm bent at the wrist)
    assert sum(b >= BESIDE for b in alone) <= 3, alone


def _held(hands, grip: float, beside: float):
    """The hands as the classify stage reads them, with P(grip) `grip` and `beside` set."""
    return [dataclasses.replace(c, hand=dataclasses.replace(c.hand, beside=beside)) for c in _gripping(hands, grip)]


@pytest.mark.timeout(300)
def test_a_hand_holding_a_hidden_hand_counts_only_when_it_would_flag_on_its_own(engine, ambiguous_hands, pilkada):
    # The ambiguous renders' own hands with a second hand's skin round them (beside BESIDE) and the
    # finger head leaning to a grip (SKIN_GRIP): a reading under review (its pair unsure) is a hand
    # holding the other, clear, and says so; with either cue just short nothing changes; a sure
    # sign keeps its flag.
    reviewed = 0
    for hands in (h for pose in AMBIGUOUS for h in ambiguous_hands[pose]):
        plain = judge(_held(hands, SKIN_GRIP, 0.0), pilkada)
        held = judge(_held(hands, SKIN_GRIP, BESIDE), pilkada)
        for short in (_held(hands, SKIN_GRIP, BESIDE - 0.01), _held(hands, SKIN_GRIP - 0.01, BESIDE)):
            grip = float(short[0].fingers.grip)
            assert judge(short, pilkada).reasons == judge(_held(hands, grip, 0.0), pilkada).reasons
        if plain.verdict == "review" and all(r.confidence < CLEARLY_RAISED for r in plain.hands):
            reviewed += 1
            assert held.verdict == "clear", held.reasons
            assert "holds another hand" in held.reasons[0], held.reasons
        elif plain.verdict == "flag":
            assert held.verdict == "flag" and held.risk == pytest.approx(plain.risk), held.reasons
    assert reviewed >= 2  # 9 of the 18 go to review (see the test below)
    ((v,),) = engine.detect_hands(
        [render_hand(gesture="v", rng=np.random.default_rng(11), size=SIZE, rotation=0.0).image]
    )
    held = judge(_held([v], GRIP - 0.01, 1.0), load_election())
    assert held.verdict == "flag" and held.ballots == [2], held.reasons


@pytest.mark.timeout(300)
def test_a_sign_beside_another_persons_hand_still_flags(engine):
    # A V and another person's open hand, each found by the engine on its own render, then the open
    # hand moved beside the V so that their boxes touch: overlapping 0.1 of the smaller box they are
    # two hands side by side and the V flags 02; overlapping by CLASP they hold each other.
    election = load_election()
    rng = np.random.default_rng(11)
    renders = [render_hand(gesture=g, rng=rng, size=SIZE, rotation=0.0) for g in ("v", "five")]
    (v,), (other,) = engine.detect_hands([r.image for r in renders])
    assert judge([v], election).verdict == "flag"

    def beside(into: float):
        # the open hand moved level with the V, its left edge `into` of its width inside the V's box
        shift = np.array([v.box[2] - into * (other.box[2] - other.box[0]) - other.box[0], v.box[1] - other.box[1], 0.0])
        moved = dataclasses.replace(other, box=other.box + np.tile(shift[:2], 2), landmarks=other.landmarks + shift)
        return box_cover(v.box, moved.box), judge([v, moved], election)

    cover, side_by_side = beside(0.1)
    assert 0 < cover < CLASP
    assert side_by_side.verdict == "flag" and side_by_side.ballots == [2], side_by_side.reasons
    cover, held = beside(0.7)
    assert cover >= CLASP and held.verdict != "flag"


def _gripping(hands, grip: float):
    """The hands as the classify stage reads them, with the finger head's P(grip) set to `grip`."""
    out = []
    for h in hands:
        c = classify_hand(h)
        out.append(dataclasses.replace(c, fingers=dataclasses.replace(c.fingers, grip=grip)))
    return out


@pytest.mark.timeout(300)
def test_a_hand_that_may_grip_counts_only_when_it_would_flag_on_its_own(engine, ambiguous_hands, pilkada):
    # The renders' own hands, judged with the finger head's P(grip) at 0 and just under GRIP (the
    # bar above which a hand holds something): a reading under review (these poses' "1 or 2",
    # "4 or 5", "3 or 4") counts only as likely as the hand is not gripping, so its risk falls by
    # the factor 1 - P(grip) (before the review cap) and some go clear; a sure sign keeps its flag.
    grip = GRIP - 0.01
    reviewed = cleared = 0
    for hands in (h for pose in AMBIGUOUS for h in ambiguous_hands[pose]):
        plain, held = judge(_gripping(hands, 0.0), pilkada), judge(_gripping(hands, grip), pilkada)
        if plain.verdict == "review":
            reviewed += 1
            cleared += held.verdict == "clear"
            assert held.verdict in ("review", "clear") and held.risk < plain.risk
        elif plain.verdict == "flag":
            assert held.verdict == "flag" and held.risk == pytest.approx(plain.risk), held.reasons
    # of the 18 renders 9 go to review at P(grip) 0 (the head's own gives 0.04-0.32 on them), 6 of
    # them clear at 0.49 (a doubt's either-reading below 0.35 / 0.51 = 0.69); floors 2 and 1
    assert reviewed >= 2
    assert cleared >= 1
    # a V held up, read surely (flag 02 with any grip below GRIP)
    ((v,),) = engine.detect_hands(
        [render_hand(gesture="v", rng=np.random.default_rng(11), size=SIZE, rotation=0.0).image]
    )
    held = judge(_gripping([v], grip), load_election())
    assert held.verdict == "flag" and held.ballots == [2], held.reasons
