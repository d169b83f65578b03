"""Verdicts on generated hands: ballots, combining two hands, casual and unsure readings."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from poses import posed_hand

from gesture_audit.classify.fingers import FingerStates
from gesture_audit.classify.gestures import ClassifiedHand, classify_gesture
from gesture_audit.judge.election import PACKAGED, load_election
from gesture_audit.judge.verdict import judge, same_person

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "elections"
SCHEMA = Path(__file__).resolve().parents[2] / "gesture_audit" / "report" / "findings.schema.json"


@pytest.fixture(scope="module")
def pilpres():
    return load_election()


@pytest.fixture(scope="module")
def pilkada():
    return load_election(SAMPLES / "pilkada-template.toml")


def test_v_sign_flags_ballot_02(pilpres):
    v = judge([posed_hand("01100", handedness="right")], pilpres)
    assert v.verdict == "flag"
    assert 0.75 <= v.risk <= 1
    assert v.ballots == [2]
    assert v.reasons[0].startswith("right hand shows 2 (V sign), confidence 0.9")
    assert "ballot 02 Prabowo Subianto–Gibran Rakabuming Raka" in v.reasons[0]


@pytest.mark.parametrize(
    "pattern,ballot", [("01000", 1), ("11000", 2), ("10001", 2), ("01110", 3), ("11100", 3), ("11001", 3)]
)
def test_each_2024_sign_points_at_its_pair(pilpres, pattern, ballot):
    v = judge([posed_hand(pattern, roll=30, facing="back")], pilpres)  # tilted 30 degrees
    assert v.verdict == "flag" and v.ballots == [ballot]


def test_metal_is_03_in_2024_and_thumbs_up_01_in_2019(pilpres):
    assert judge([posed_hand("11001")], pilpres).ballots == [3]
    thumbs_up = posed_hand("10000", roll=-90)
    assert judge([thumbs_up], pilpres).verdict == "clear"
    v2019 = judge([thumbs_up], load_election("pilpres-2019"))
    assert v2019.ballots == [1] and v2019.verdict == "flag"


@pytest.mark.parametrize("handedness", ["left", "right"])
def test_index_finger_pointing_sideways_is_review(pilpres, handedness):
    up = judge([posed_hand("01000", handedness=handedness)], pilpres)
    sideways = judge([posed_hand("01000", handedness=handedness, roll=90)], pilpres)
    down = judge([posed_hand("01000", handedness=handedness, roll=180)], pilpres)
    assert up.verdict == "flag"
    assert sideways.verdict == down.verdict == "review"
    assert sideways.risk < up.risk
    assert "points sideways or down" in sideways.reasons[0]
    # a V pointing down is still a V
    assert judge([posed_hand("01100", handedness=handedness, roll=180)], pilpres).verdict == "flag"


@pytest.mark.parametrize("pattern", ["00000", "11111", "01111"])
def test_fist_and_numbers_without_a_pair_are_clear(pilpres, pattern):
    v = judge([posed_hand(pattern)], pilpres)
    assert v.verdict == "clear" and v.risk == 0.0 and v.ballots == []


def test_no_hands_is_clear(pilpres):
    v = judge([], pilpres)
    assert (v.verdict, v.risk, v.reasons, v.hands) == ("clear", 0.0, [], [])


def test_open_palm_is_review_not_flag(pilkada):
    """Pilkada with a pair 05: an open palm alone may be a wave."""
    v = judge([posed_hand("11111")], pilkada)
    assert v.verdict == "review"
    assert v.ballots == [5]
    assert "wave" in v.reasons[0]


def test_half_folded_finger_goes_to_review(pilpres):
    v = judge([posed_hand("01100", bend={1: (25.0, 40.0, 20.0)})], pilpres)
    assert v.verdict == "review"
    assert v.hands[0].confidence < pilpres.thresholds.min_confidence


def test_five_plus_one_is_six_in_a_six_pair_pilkada(pilkada):
    palm = posed_hand("11111", handedness="left", center=(300, 400))
    index = posed_hand("01000", handedness="right", center=(900, 400))
    v = judge([palm, index], pilkada)
    assert v.verdict == "flag"
    assert v.ballots == [6]
    assert [r.combined_with for r in v.hands] == [1, 0]
    assert v.reasons[0].startswith("two hands show 5 + 1 = 6 (open palm and index finger)")
    assert "ballot 06 Calon Bupati 6–Calon Wakil Bupati 6" in v.reasons[0]


def test_five_plus_one_is_read_apart_where_there_is_no_pair_six(pilpres):
    palm = posed_hand("11111", handedness="left", center=(300, 400))
    index = posed_hand("01000", handedness="right", center=(900, 400))
    v = judge([palm, index], pilpres)
    assert v.ballots == [1]
    assert all(r.combined_with is None for r in v.hands)


def test_hands_of_different_people_are_not_combined(pilkada):
    palm = posed_hand("11111", handedness="right", center=(100, 400), size_px=100)
    far = posed_hand("01000", handedness="left", center=(3000, 400), size_px=100)
    two_rights = posed_hand("01000", handedness="right", center=(400, 400), size_px=100)
    tiny = posed_hand("01000", handedness="left", center=(300, 400), size_px=30)
    for other in (far, two_rights, tiny):
        assert not same_person(palm, other)
        assert 6 not in judge([palm, other], pilkada).ballots
    assert same_person(palm, posed_hand("01000", handedness="left", center=(500, 400), size_px=100))


def test_combining_can_be_switched_off(tmp_path):
    path = tmp_path / "no-combine.toml"
    path.write_text(
        (SAMPLES / "pilkada-template.toml").read_text().replace("combine_hands = true", "combine_hands = false")
    )
    palm = posed_hand("11111", handedness="left", center=(300, 400))
    index = posed_hand("01000", handedness="right", center=(900, 400))
    assert judge([palm, index], load_election(path)).ballots == [1, 5]


def test_a_group_showing_one_number_raises_the_risk(pilpres):
    unsure = posed_hand("01100", bend={1: (12.0, 25.0, 12.0)})  # index a little bent
    one = judge([unsure], pilpres)
    three = judge([unsure, posed_hand("01100", center=(900, 300)), posed_hand("01100", center=(1500, 300))], pilpres)
    assert three.risk > one.risk
    assert three.risk <= 1.0


def test_finger_heart_is_review(pilpres):
    v = judge([posed_hand("00000", heart=True)], pilpres)
    assert v.verdict == "review"
    assert "finger heart" in v.reasons[0]


def test_thresholds_in_the_config_decide(tmp_path):
    path = tmp_path / "strict.toml"
    path.write_text((PACKAGED / "pilpres-2024.toml").read_text().replace("flag = 0.75", "flag = 0.99"))
    assert judge([posed_hand("01100")], load_election(path)).verdict == "review"


def test_hand_reading_is_a_findings_hand_object(pilpres):
    schema = json.loads(SCHEMA.read_text())
    hand_schema = {"$defs": schema["$defs"], "$ref": "#/$defs/hand"}
    v = judge([posed_hand("01100"), posed_hand("00000", center=(900, 300))], pilpres)
    for reading in v.hands:
        out = reading.to_dict()
        jsonschema.validate(out, hand_schema)
        json.dumps(out)
    first = v.hands[0].to_dict()
    assert first["fingers"] == "01100" and first["count"] == 2 and first["gesture"] == "v"
    assert first["ballot"] == 2 and 0.9 < first["confidence"] <= 1
    assert len(first["landmarks"]) == 21 and len(first["box"]) == 4
    assert v.hands[1].to_dict()["ballot"] is None
    assert v.to_dict()["verdict"] == "flag"


def test_reasons_name_the_person_in_a_group_photo():
    hand = posed_hand("01100")
    hand.person = 2
    verdict = judge([hand], load_election())
    assert verdict.reasons[0].startswith("person 3 (right hand) shows 2")


def test_a_resting_thumb_reads_one(pilpres):
    v = judge([posed_hand("01000", thumb="resting")], pilpres)
    assert v.hands[0].fingers.pattern == "01000"
    assert v.verdict == "flag" and v.ballots == [1]


@pytest.mark.parametrize("facing", ["palm", "back"])
def test_one_or_two_on_an_unsure_thumb_is_review_naming_both(pilpres, facing):
    v = judge([posed_hand("01000", thumb="halfway", facing=facing)], pilpres)
    reading = v.hands[0]
    assert reading.fingers.confidence[0] < 0.7  # the thumb halfway out is unsure
    assert v.verdict == "review"
    assert "shows 1 or 2 (index finger or L sign): the thumb may be" in v.reasons[0]
    assert "ballot 01 " in v.reasons[0] and "ballot 02 " in v.reasons[0]
    assert reading.to_dict()["other_reading"]["number"] in (1, 2)


def test_three_or_four_on_a_half_bent_little_finger_is_review(pilkada, pilpres):
    hand = posed_hand("01111", bend={4: (30.0, 40.0, 20.0)})  # the little finger half bent
    v = judge([hand], pilkada)
    assert v.hands[0].fingers.confidence[4] < 0.7
    assert v.verdict == "review"
    assert "shows 3 or 4" in v.reasons[0] and "the little finger may be raised" in v.reasons[0]
    # where 4 is no pair (2024) the three is judged as any unsure reading: not flagged
    in_2024 = judge([hand], pilpres)
    assert in_2024.hands[0].doubt is None and in_2024.verdict == "review"


def test_four_or_five_on_an_unsure_thumb_is_review_where_both_are_pairs(pilkada, pilpres):
    hand = posed_hand("01111", thumb="lifting")
    v = judge([hand], pilkada)
    assert v.hands[0].fingers.confidence[0] < 0.7
    assert v.verdict == "review" and "4 or 5" in v.reasons[0]
    assert judge([hand], pilpres).verdict == "clear"  # neither 4 nor 5 is a pair in 2024


def test_a_sure_reading_has_no_other_reading(pilpres):
    v = judge([posed_hand("01100")], pilpres)
    assert v.hands[0].doubt is None and "other_reading" not in v.hands[0].to_dict()


def test_hands_holding_each_other_are_not_signs(pilpres):
    # A grip: a hand whose index and middle fingers are half bent (a V read at 0.78) overlapping a
    # fist is no sign; apart from the fist the same hand flags 02.
    bent = (20.0, 30.0, 20.0)
    a = posed_hand("01100", center=(320, 240), size_px=120, bend={1: bent, 2: bent})
    fist = posed_hand("00000", center=(330, 20), size_px=120, handedness="left", roll=180)
    v = judge([a, fist], pilpres)
    assert all(r.clasped for r in v.hands)
    assert v.verdict == "clear" and v.ballots == []
    assert "holds another hand" in v.reasons[0]
    apart = judge([a, posed_hand("00000", center=(900, 20), size_px=120, handedness="left", roll=180)], pilpres)
    assert not apart.hands[0].clasped and apart.verdict == "flag"
    # a finger clearly raised out of a clasp: review, never a flag
    raised = judge([posed_hand("01100", center=(320, 240), size_px=120), fist], pilpres)
    assert raised.verdict == "review" and raised.ballots == [2]


def test_a_finger_heart_held_against_another_hand_is_no_sign(pilpres):
    # Folded hands often read as a finger heart (the thumb over the curled index): held against
    # another hand it is no support sign; on its own it still goes to review.
    heart = posed_hand("00000", heart=True, center=(320, 240), size_px=120)
    fist = posed_hand("00000", center=(330, 110), size_px=120, handedness="left", roll=180)
    held = judge([heart, fist], pilpres)
    assert held.hands[0].clasped and held.hands[0].gesture.name == "finger_heart"
    assert held.verdict == "clear"
    assert judge([heart], pilpres).verdict == "review"


def test_every_unsure_finger_is_read_both_ways(pilpres):
    # A V whose little finger is the least sure (flipped: no number) and whose thumb is unsure too
    # (flipped: three with the thumb, 03): the reason names 2 or 3, not just the first reading.
    hand = posed_hand("01100")
    states = FingerStates.from_pattern("01100", 0.95)
    states.confidence[[0, 4]] = 0.65, 0.55
    v = judge([ClassifiedHand(hand, states, classify_gesture(hand, states))], pilpres)
    assert v.verdict == "review" and v.hands[0].doubt is not None
    assert "shows 2 or 3 (V sign or three fingers with the thumb): the thumb may be raised" in v.reasons[0]
