"""Finger states on landmarks generated from a kinematic hand (tests/poses.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from poses import pose, posed_hand

from gesture_audit.classify.fingers import FingerStates, finger_states, palm_frame
from gesture_audit.detect.core import Hand

# Every pattern the domain cares about, plus the ASL digits 7 and 8.
PATTERNS = [
    "00000",
    "01000",
    "01100",
    "11000",
    "10001",
    "01110",
    "11100",
    "11001",
    "01001",
    "01111",
    "11111",
    "10000",
    "01101",
    "01011",
    "00100",
    "00011",
]
VIEWS = list(itertools.product(("left", "right"), ("palm", "back"), (0, 60, 135, 180, -90)))


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("handedness,facing,roll", VIEWS)
def test_pattern_read_from_every_view(pattern, handedness, facing, roll):
    hand = posed_hand(pattern, handedness=handedness, facing=facing, roll=roll)
    states = finger_states(hand)
    assert states.pattern == pattern
    assert states.count == pattern.count("1")
    assert (states.confidence > 0.8).all(), states.confidence


@pytest.mark.parametrize("pattern", ["01100", "11111", "10001", "01110", "00000"])
@pytest.mark.parametrize("pitch,yaw", [(40, 0), (-40, 0), (0, 45), (0, -45), (30, 30)])
def test_pattern_survives_tilting_the_hand(pattern, pitch, yaw):
    assert finger_states(posed_hand(pattern, pitch=pitch, yaw=yaw, roll=20)).pattern == pattern


def test_confidences_do_not_depend_on_view_or_size():
    base = finger_states(posed_hand("11001")).confidence
    for handedness, facing, roll in VIEWS:
        for size in (40.0, 900.0):
            other = posed_hand("11001", handedness=handedness, facing=facing, roll=roll, size_px=size)
            np.testing.assert_allclose(finger_states(other).confidence, base, atol=1e-4)


def test_palm_frame_is_the_same_for_mirrored_and_turned_hands():
    a = palm_frame(posed_hand("01100").world_landmarks)
    b = palm_frame(posed_hand("01100", handedness="left", facing="back", roll=77).world_landmarks)
    np.testing.assert_allclose(a[:, :2], b[:, :2], atol=1e-5)  # in-palm coordinates agree
    np.testing.assert_allclose(np.abs(a[:, 2]), np.abs(b[:, 2]), atol=1e-5)  # depth up to its sign
    assert a[9, 1] == pytest.approx(1.0)  # lengths in palm lengths


def test_degenerate_hand_raises_in_the_frame_but_reads_as_unknown():
    with pytest.raises(ValueError, match="degenerate"):
        palm_frame(np.zeros((21, 3)))
    collapsed = Hand.from_landmarks(
        np.full((21, 3), 5.0), np.zeros((21, 3)), score=0.9, presence=0.9, handedness="left", handedness_score=0.9
    )
    states = finger_states(collapsed)
    assert states.pattern == "00000" and (states.confidence == 0.5).all()
    from gesture_audit.classify.gestures import classify_gesture

    assert classify_gesture(collapsed, states).confidence == 0.5


@pytest.mark.parametrize("pattern,contact", [("00111", 1), ("01011", 2), ("01101", 3), ("01110", 4)])
@pytest.mark.parametrize("roll", [0, 90, 180])
def test_thumb_touching_a_fingertip_folds_both(pattern, contact, roll):
    """The OK circle and ASL 6-9: the finger that meets the thumb counts as folded, and so does the thumb."""
    states = finger_states(posed_hand(pattern, contact=contact, roll=roll, facing="back"))
    assert states.pattern == pattern
    assert states.touching == contact


def test_straight_looking_pinky_held_by_the_thumb_is_folded():
    """MediaPipe's "index+middle+ring read as four": the pinky drawn straight but under the thumb tip."""
    points = pose("01111")
    points[4] = points[20] + np.array([2.0, 0.0, 2.0])  # thumb tip on the pinky tip
    points[3] = (points[2] + points[4]) / 2 + np.array([6.0, 0.0, 6.0])
    hand = Hand.from_landmarks(points * 3, points / 1000, score=1, presence=1, handedness="right", handedness_score=1)
    states = finger_states(hand)
    assert states.pattern == "01110"
    assert states.touching == 4


def test_short_pinky_near_a_tucked_thumb_stays_extended():
    """A thumb folded across the palm ends near the pinky's base, not its tip: four fingers stay four."""
    assert finger_states(posed_hand("01111", thumb="across")).pattern == "01111"


@pytest.mark.parametrize("thumb,expected", [("out", "1"), ("side", "1"), ("across", "0"), ("over", "0")])
def test_thumb_is_read_from_where_its_tip_is(thumb, expected):
    # open hand (four fingers up) and closed hand (fist) with each thumb placement
    assert finger_states(posed_hand("01111", thumb=thumb)).pattern[0] == expected
    if thumb != "out":  # an open-hand thumb does not fit a fist's geometry
        assert finger_states(posed_hand("00000", thumb=thumb)).pattern[0] == expected


def test_half_folded_finger_is_unsure():
    """A finger bent about halfway is read either way, but never with high confidence."""
    states = finger_states(posed_hand("01100", bend={1: (25.0, 40.0, 20.0)}))
    assert states.confidence[1] < 0.7
    assert states.confidence[2:].min() > 0.9


def test_straight_and_folded_fingers_are_sure():
    states = finger_states(posed_hand("01100"))
    assert states.confidence.min() > 0.9


def test_noise_of_a_few_millimetres_does_not_change_the_reading():
    rng = np.random.default_rng(3)
    for pattern in ("01100", "11111", "01000", "11001"):
        for _ in range(10):
            hand = posed_hand(pattern, noise_mm=2.0, rng=rng, roll=rng.uniform(-180, 180))
            assert finger_states(hand).pattern == pattern


def test_finger_states_from_pattern_and_to_dict():
    states = FingerStates.from_pattern("01100", confidence=0.9)
    assert states.pattern == "01100" and states.count == 2
    assert states.to_dict() == {"pattern": "01100", "confidence": [0.9] * 5}
    with pytest.raises(ValueError, match="five 0/1"):
        FingerStates.from_pattern("0110")
    with pytest.raises(ValueError, match="five 0/1"):
        FingerStates.from_pattern("01102")
