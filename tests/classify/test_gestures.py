"""The sign vocabulary on generated hands."""

from __future__ import annotations

import pytest
from poses import posed_hand

from gesture_audit.classify.fingers import finger_states
from gesture_audit.classify.gestures import GESTURES, PATTERNS, Gesture, classify_gesture


def read(hand) -> Gesture:
    return classify_gesture(hand, finger_states(hand))


def test_vocabulary_names_are_stable():
    # Names are written to findings.jsonl and election files: never rename or drop one.
    assert list(GESTURES) == [
        "fist",
        "one",
        "v",
        "l",
        "telepon",
        "three",
        "three_thumb",
        "ok_three",
        "metal",
        "horns",
        "four",
        "five",
        "thumb_up",
        "thumb_down",
        "finger_heart",
        "other",
    ]
    assert set(PATTERNS.values()) <= set(GESTURES)


@pytest.mark.parametrize(
    "pattern,name",
    [
        ("00000", "fist"),
        ("01000", "one"),
        ("01100", "v"),
        ("11000", "l"),
        ("10001", "telepon"),
        ("01110", "three"),
        ("11100", "three_thumb"),
        ("11001", "metal"),
        ("01001", "horns"),
        ("01111", "four"),
        ("11111", "five"),
        ("01101", "other"),
        ("00100", "other"),
    ],
)
@pytest.mark.parametrize(
    "handedness,facing,roll", [("right", "palm", 0), ("left", "back", 0), ("right", "back", 150), ("left", "palm", -70)]
)
def test_sign_from_pattern(pattern, name, handedness, facing, roll):
    gesture = read(posed_hand(pattern, handedness=handedness, facing=facing, roll=roll))
    assert gesture.name == name
    assert gesture.confidence > 0.8


@pytest.mark.parametrize("roll", [180, 160, -170])
def test_v_pointing_down_is_still_v(roll):
    assert read(posed_hand("01100", roll=roll)).name == "v"


def test_v_with_fingers_together():
    assert read(posed_hand("01100", together=True)).name == "v"
    assert read(posed_hand("01100", together=True, facing="back", roll=180)).name == "v"


@pytest.mark.parametrize("facing", ["palm", "back"])
def test_ok_three_is_surest_with_the_circle(facing):
    circle = read(posed_hand("00111", contact=1, facing=facing))
    assert circle.name == "ok_three" and circle.confidence > 0.9
    # the thumb over the curled fingers, clear of the index tip: three up all the same, less sure
    hand = posed_hand("00111", thumb="over", facing=facing)
    states = finger_states(hand)
    assert states.pattern == "00111" and states.touching is None
    no_circle = classify_gesture(hand, states)
    assert no_circle.name == "ok_three" and no_circle.confidence < circle.confidence


@pytest.mark.parametrize(
    "roll,name",
    [(-90, "thumb_up"), (90, "thumb_down"), (-60, "thumb_up"), (120, "thumb_down"), (0, "other"), (180, "other")],
)
@pytest.mark.parametrize("handedness", ["left", "right"])
def test_thumb_signs_by_direction_in_the_image(roll, name, handedness):
    # the thumb of an upright right hand points to the image's right (left hand: left); a
    # positive roll turns the hand clockwise in the image
    roll = roll if handedness == "right" else -roll
    assert read(posed_hand("10000", handedness=handedness, roll=roll)).name == name


def test_leaning_thumbs_up_is_less_sure():
    upright = read(posed_hand("10000", roll=-90))
    leaning = read(posed_hand("10000", roll=-40))
    assert leaning.name == upright.name == "thumb_up"
    assert leaning.confidence < upright.confidence


@pytest.mark.parametrize(
    "handedness,facing,roll",
    [("right", "palm", 0), ("left", "back", 30), ("right", "back", -45), ("left", "palm", 180)],
)
def test_finger_heart(handedness, facing, roll):
    gesture = read(posed_hand("00000", heart=True, handedness=handedness, facing=facing, roll=roll))
    assert gesture.name == "finger_heart"
    assert 0.5 <= gesture.confidence <= 0.9


@pytest.mark.parametrize("thumb", ["over", "across"])
def test_a_fist_is_not_a_finger_heart(thumb):
    assert read(posed_hand("00000", thumb=thumb)).name == "fist"


def test_unknown_gesture_name_is_refused():
    with pytest.raises(ValueError, match="unknown gesture"):
        Gesture("peace", 0.9)
    assert Gesture("v", 0.9).description == "V sign"
