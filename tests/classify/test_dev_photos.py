"""Engine + judgement on real labelled photos (the dev set beside the repo; skipped without it).

A fixed sample: the first two photos of every class, in label-file order, so nothing is picked
for passing. End to end: a hand the engine misses counts as wrong.
"""

from __future__ import annotations

from collections import Counter

import pytest

from gesture_audit.judge.election import load_election
from gesture_audit.judge.verdict import judge
from gesture_audit.load import load_image


def sample(labels: list[dict], sets: tuple[str, ...], per_class: int) -> list[dict]:
    taken: Counter = Counter()
    out = []
    for row in labels:
        cls = row["path"].split("/")[1]
        if row["set"] in sets and taken[(row["set"], cls)] < per_class:
            taken[(row["set"], cls)] += 1
            out.append(row)
    return out


@pytest.fixture(scope="module")
def judged(dev_root, dev_labels, engine):
    """(label row, verdict) for the sample, Pilpres 2024."""
    rows = sample(dev_labels, ("asl_digits", "hagrid", "mediapipe", "negatives"), 2)
    election = load_election()
    hands = engine.detect_hands([load_image(dev_root / r["path"]) for r in rows])
    return [(row, judge(found, election)) for row, found in zip(rows, hands)]


def largest(verdict):
    if not verdict.hands:
        return None
    return max(verdict.hands, key=lambda r: (r.hand.box[2] - r.hand.box[0]) * (r.hand.box[3] - r.hand.box[1]))


@pytest.mark.parametrize("dataset,minimum", [("asl_digits", 0.9), ("hagrid", 0.85)])
def test_finger_patterns_on_real_hands(judged, dataset, minimum):
    results = [
        (row["path"], row["hands"][0]["fingers"], largest(v))
        for row, v in judged
        if row["set"] == dataset and row["kind"] == "hand"
    ]
    right = [reading is not None and reading.fingers.pattern == fingers for _, fingers, reading in results]
    wrong = [(p, f, r.fingers.pattern if r else None) for (p, f, r), ok in zip(results, right) if not ok]
    assert len(results) >= 20
    assert sum(right) / len(right) >= minimum, wrong


def test_no_negative_photo_is_flagged(judged):
    negatives = [(row["path"], v) for row, v in judged if row["kind"] == "negative"]
    assert negatives
    assert [(p, v.reasons) for p, v in negatives if v.verdict == "flag"] == []


def test_thumbs_up_photo(judged):
    ((row, verdict),) = [(r, v) for r, v in judged if r["path"] == "mediapipe/hand_thumb_up.jpg"]
    reading = largest(verdict)
    assert reading.gesture.name == "thumb_up"
    assert verdict.verdict == "clear"  # no ballot for a thumbs-up in 2024
    assert load_election("pilpres-2019").number_for(reading.gesture.name) == 1


def test_peace_photos_flag_ballot_02(judged):
    peace = [v for r, v in judged if r["path"].startswith("hagrid/peace/")]
    assert peace
    for verdict in peace:
        assert verdict.verdict == "flag", verdict.reasons
        assert verdict.ballots == [2]
        assert "shows 2 (V sign)" in verdict.reasons[0]
