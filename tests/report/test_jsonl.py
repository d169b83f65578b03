"""findings.jsonl survives any stop: torn last line, NUL padding, duplicated rows."""

from __future__ import annotations

import json
from dataclasses import replace

from made import finding, hand_row

from gesture_audit.report.jsonl import FINDINGS, FindingsWriter, dumps, iter_findings, repair_findings
from gesture_audit.results import Finding


def rows(n: int) -> list[Finding]:
    return [finding(f"a/{i}.jpg") for i in range(n)]


def test_writer_appends_flushed_lines(tmp_path):
    path = tmp_path / "findings.jsonl"
    with FindingsWriter(path) as sink:
        sink.append(rows(1)[0])
        # Flushed at once: another reader sees the line before the writer closes.
        assert path.read_text().count("\n") == 1
        sink.append(rows(2)[1])
    assert [f.path for f in iter_findings(path)] == ["a/0.jpg", "a/1.jpg"]
    with FindingsWriter(path) as sink:  # appends, never truncates
        sink.append(rows(3)[2])
    assert len(path.read_text().splitlines()) == 3


def test_repair_cuts_a_torn_last_line(tmp_path):
    path = tmp_path / "findings.jsonl"
    whole = "".join(dumps(f) + "\n" for f in rows(3))
    torn = dumps(rows(4)[3])[:25]
    path.write_text(whole + torn)
    done, dropped = repair_findings(path)
    assert dropped == 1 and done == {"a/0.jpg": "clear", "a/1.jpg": "clear", "a/2.jpg": "clear"}
    assert path.read_text() == whole
    assert repair_findings(path) == (done, 0)  # idempotent


def test_repair_complete_json_without_newline_is_redone(tmp_path):
    # A line whose newline never reached the disk would glue the next row onto it: drop it.
    path = tmp_path / "findings.jsonl"
    path.write_text(dumps(rows(1)[0]) + "\n" + dumps(rows(2)[1]))
    done, dropped = repair_findings(path)
    assert list(done) == ["a/0.jpg"] and dropped == 1
    assert path.read_text().endswith("\n")


def test_repair_nul_tail_and_duplicates(tmp_path):
    path = tmp_path / "findings.jsonl"
    first, second = rows(2)
    again = Finding.from_dict({**first.to_dict(), "verdict": "flag", "risk": 0.9})
    path.write_bytes((dumps(first) + "\n" + dumps(second) + "\n" + dumps(again) + "\n").encode() + b"\0" * 300)
    done, dropped = repair_findings(path)
    assert dropped == 2
    assert done == {"a/1.jpg": "clear", "a/0.jpg": "flag"}  # the last row of a path wins
    lines = path.read_text().splitlines()
    assert [json.loads(line)["path"] for line in lines] == ["a/1.jpg", "a/0.jpg"]
    assert json.loads(lines[1])["risk"] == 0.9


def test_repair_keeps_error_rows_as_done(tmp_path):
    path = tmp_path / "findings.jsonl"
    path.write_text(dumps(Finding.failed("x.jpg", "empty file (0 bytes)")) + "\n")
    assert repair_findings(path) == ({"x.jpg": "error"}, 0)


def test_repair_missing_file(tmp_path):
    assert repair_findings(tmp_path / "none.jsonl") == ({}, 0)


def test_finding_round_trip_and_unknown_keys():
    f = finding(
        "x.jpg",
        "flag",
        0.9,
        reasons=["r"],
        faces=[{"box": [0, 0, 1, 1], "score": 0.9, "candidate": None, "ballot": None, "distance": None}],
        hands=[hand_row(person=0)],
    )
    d = f.to_dict()
    assert Finding.from_dict(d) == f
    assert Finding.from_dict({**d, "from_a_newer_version": 1}) == f
    assert "faces" not in Finding(path="y", sha256=None).to_dict()
    assert f.ballots == [2]


def test_a_findings_file_of_schema_1_still_reads(tmp_path):
    """A line as version 1 wrote it (no `schema` key, hands as plain objects) reads as typed results;
    keys of a newer version are kept on the hand; written again, the line says `"schema": 2`."""
    from gesture_audit.results import SCHEMA_VERSION, HandResult

    old = {
        "path": "a.jpg",
        "sha256": "a" * 64,
        "status": "ok",
        "error": None,
        "width": 640,
        "height": 480,
        "hands": [
            {
                "box": [1.0, 2.0, 30.0, 40.0],
                "score": 0.8,
                "presence": 0.97,
                "handedness": "left",
                "handedness_score": 0.9,
                "landmarks": [[1.0, 2.0, 0.0]] * 21,
                "person": None,
                "fingers": "01100",
                "finger_confidence": [0.9] * 5,
                "count": 2,
                "gesture": "v",
                "number": 2,
                "ballot": 2,
                "confidence": 0.91,
                "risk": 0.9,
                "thumb_model": "x",
            }
        ],
        "verdict": "flag",
        "risk": 0.9,
        "reasons": ["right hand shows 2"],
    }
    path = tmp_path / FINDINGS
    path.write_text(json.dumps(old) + "\n")
    (finding,) = iter_findings(path)
    assert finding.schema == 1 and SCHEMA_VERSION == 2
    hand = finding.hands[0]
    assert isinstance(hand, HandResult) and hand.ballot == 2 and hand.handedness == "left"
    assert hand.extra == {"thumb_model": "x"} and hand["thumb_model"] == "x"
    again = Finding.from_dict(json.loads(dumps(replace(finding, schema=SCHEMA_VERSION))))
    assert again == replace(finding, schema=SCHEMA_VERSION)
    written = json.loads(dumps(Finding(path="b.jpg", sha256=None)))
    assert written["schema"] == SCHEMA_VERSION
    assert {k: v for k, v in json.loads(dumps(finding)).items() if k != "schema"} == old
