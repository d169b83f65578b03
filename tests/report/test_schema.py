"""The committed JSON Schema of a findings.jsonl line: itself valid, and strict where it matters."""

from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator

from gesture_audit.report.schema import SCHEMA_PATH, findings_schema, validation_errors
from gesture_audit.results import Finding

HAND = {
    "box": [10.0, 20.0, 110.0, 160.0],
    "score": 0.97,
    "handedness": "right",
    "landmarks": [[10.0 + i, 20.0 + i, -1.5] for i in range(21)],
    "fingers": "01100",
    "count": 2,
    "gesture": "v",
    "ballot": 2,
    "confidence": 0.93,
}
OK = Finding(
    path="kegiatan/a.jpg",
    sha256="0" * 64,
    width=800,
    height=600,
    hands=[HAND],
    verdict="flag",
    risk=0.93,
    reasons=["right hand shows 2 (V sign), confidence 0.93"],
).to_dict()
ERROR = Finding.failed(
    "kegiatan/b.jpg", "empty file (0 bytes)", sha256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
).to_dict()


def test_schema_is_packaged_and_valid():
    assert SCHEMA_PATH.is_file() and SCHEMA_PATH.parent.name == "report"
    Draft202012Validator.check_schema(findings_schema())


@pytest.mark.parametrize(
    "line",
    [
        OK,
        ERROR,
        {**OK, "faces": [{"box": [0, 0, 5, 5], "score": 0.9, "candidate": "Prabowo", "ballot": 2, "distance": 0.41}]},
        {**OK, "hands": [{**HAND, "person": 3, "ballot": None, "gesture": None}]},
        {**OK, "verdict": "clear", "risk": 0.0, "hands": [], "reasons": []},
        {**OK, "some_future_key": [1, 2]},
    ],
)
def test_valid_lines(line):
    assert validation_errors(line) == []


def _without(d, key):
    d = copy.deepcopy(d)
    del d[key]
    return d


@pytest.mark.parametrize(
    "line, where",
    [
        (_without(OK, "sha256"), "(line)"),
        ({**OK, "status": "maybe"}, "status"),
        ({**OK, "verdict": "bad"}, "verdict"),
        ({**OK, "risk": 1.5}, "risk"),
        ({**OK, "sha256": "XYZ"}, "sha256"),
        ({**OK, "verdict": None}, "verdict"),  # an ok row has a verdict
        ({**ERROR, "error": None}, "error"),  # an error row says why
        ({**ERROR, "verdict": "clear"}, "verdict"),
        ({**OK, "hands": [{**HAND, "fingers": "0110"}]}, "hands/0/fingers"),
        ({**OK, "hands": [{**HAND, "landmarks": HAND["landmarks"][:20]}]}, "hands/0/landmarks"),
        ({**OK, "hands": [{**HAND, "handedness": "both"}]}, "hands/0/handedness"),
        ({**OK, "hands": [_without(HAND, "ballot")]}, "hands/0"),
    ],
)
def test_invalid_lines(line, where):
    errors = validation_errors(line)
    assert errors and any(e.startswith(where) for e in errors), errors
