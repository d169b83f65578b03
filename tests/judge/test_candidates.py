"""Candidate rules: face matches (built here, as the match stage reports them) with the hands' verdict."""

from __future__ import annotations

import pytest
from poses import posed_hand

from gesture_audit.identify.match import FaceMatch
from gesture_audit.judge.candidates import WITH_OTHERS, judge_candidates
from gesture_audit.judge.election import Thresholds, load_election
from gesture_audit.judge.verdict import judge

BOX = (100, 100, 200, 200)


def prabowo(distance: float = 0.38) -> FaceMatch:
    return FaceMatch(BOX, 0.9, "Prabowo Subianto", 2, distance, "Prabowo Subianto")


def gibran() -> FaceMatch:
    return FaceMatch(BOX, 0.9, "Gibran Rakabuming Raka", 2, 0.41, "Gibran Rakabuming Raka")


def stranger(distance: float | None = 0.83) -> FaceMatch:
    return FaceMatch(BOX, 0.8, None, None, distance, None if distance is None else "Prabowo Subianto")


def near(distance: float = 0.55) -> FaceMatch:
    return FaceMatch(BOX, 0.8, None, None, distance, "Anies Baswedan")


@pytest.fixture(scope="module")
def pilpres():
    return load_election()


@pytest.fixture(scope="module")
def no_hands(pilpres):
    return judge([], pilpres)


@pytest.fixture(scope="module")
def v_sign(pilpres):
    verdict = judge([posed_hand("01100", handedness="right")], pilpres)
    assert verdict.verdict == "flag" and verdict.ballots == [2]
    return verdict


@pytest.mark.parametrize(
    "faces",
    [[], [stranger()], [stranger(), stranger(0.7)], [stranger(None), stranger(None)]],
    ids=["no face", "a stranger", "two strangers", "matching off"],
)
def test_no_candidate_leaves_the_hands_verdict(no_hands, v_sign, faces):
    assert judge_candidates(no_hands, faces) is no_hands
    assert judge_candidates(v_sign, faces) is v_sign


@pytest.mark.parametrize(
    "faces, verdict, first_reason",
    [
        ([prabowo(), stranger(), stranger()], "flag", "candidate 02 Prabowo Subianto appears with 2 other people"),
        ([stranger(), prabowo()], "flag", "candidate 02 Prabowo Subianto appears with 1 other person"),
        ([prabowo()], "review", "candidate 02 Prabowo Subianto appears without anyone else: review"),
        (
            [prabowo(), gibran()],
            "review",
            "candidate 02 Prabowo Subianto and candidate 02 Gibran Rakabuming Raka appear without anyone else: review",
        ),
        (
            [prabowo(), gibran(), stranger()],
            "flag",
            "candidate 02 Prabowo Subianto appears with 1 other person (and with candidate 02 Gibran Rakabuming Raka)",
        ),
        ([prabowo(), prabowo(0.45)], "review", "candidate 02 Prabowo Subianto appears without anyone else"),
        (
            [near()],
            "review",
            "a face looks like candidate Anies Baswedan (distance 0.55, just past the match threshold)",
        ),
        ([near(), stranger()], "review", "a face looks like candidate Anies Baswedan"),
        (
            [FaceMatch((100, 100, 130, 130), 0.8, None, None, 0.55, "Anies Baswedan")],
            "review",
            "a face looks like candidate Anies Baswedan (distance 0.55, too small to tell)",
        ),
        ([prabowo(), near()], "flag", "candidate 02 Prabowo Subianto appears with 1 other person"),
    ],
    ids=[
        "with two others",
        "with one other",
        "alone",
        "running mates alone",
        "running mates with one other",
        "matched twice (a poster)",
        "near the threshold",
        "near, with a stranger",
        "near but too small",
        "with someone near another",
    ],
)
def test_rules_without_hands(no_hands, faces, verdict, first_reason):
    got = judge_candidates(no_hands, faces)
    assert got.verdict == verdict
    assert got.reasons[0].startswith(first_reason), got.reasons
    if verdict == "flag":
        assert got.risk == pytest.approx(WITH_OTHERS)
    else:
        assert Thresholds().review <= got.risk < Thresholds().flag
    assert no_hands.verdict == "clear" and no_hands.reasons == []  # the input is not changed


def test_a_ballot_sign_with_a_candidate_and_others_raises_the_risk(no_hands, v_sign):
    faces = [prabowo(), stranger()]
    posing = judge_candidates(no_hands, faces)
    both = judge_candidates(v_sign, faces)
    assert both.verdict == "flag"
    assert both.risk > max(posing.risk, v_sign.risk)
    assert both.reasons[0] == (
        "candidate 02 Prabowo Subianto appears with 1 other person (posing with a "
        "candidate in person); a hand shows ballot 02 (the candidate's own number)"
    )
    assert both.reasons[1:] == v_sign.reasons  # the hands' reasons follow
    assert both.hands is v_sign.hands


def test_a_flag_from_the_hands_stays_a_flag(v_sign):
    alone = judge_candidates(v_sign, [prabowo()])
    assert alone.verdict == "flag" and alone.risk == v_sign.risk
    assert alone.reasons[0].startswith("candidate 02 Prabowo Subianto appears without anyone else")


def test_the_risk_follows_the_election_thresholds(no_hands):
    strict = Thresholds(flag=0.9, review=0.5)
    posing = judge_candidates(no_hands, [prabowo(), stranger()], strict)
    assert posing.verdict == "flag" and posing.risk >= 0.9
    alone = judge_candidates(no_hands, [prabowo()], strict)
    assert alone.verdict == "review" and 0.5 <= alone.risk < 0.9


def test_a_candidate_without_a_ballot_number(no_hands):
    face = FaceMatch(BOX, 0.9, "Ketua KPU", None, 0.3, "Ketua KPU")
    reasons = judge_candidates(no_hands, [face, stranger()]).reasons
    assert reasons == ["candidate Ketua KPU appears with 1 other person (posing with a candidate in person)"]
