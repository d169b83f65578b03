"""findings.jsonl survives any stop: torn last line, NUL padding, duplicated rows."""

from __future__ import annotations

import json

from gesture_audit.audit import Finding
from gesture_audit.report.jsonl import FindingsWriter, dumps, iter_findings, repair_findings


def rows(n: int) -> list[Finding]:
    return [Finding(path=f"a/{i}.jpg", sha256=f"{i:064x}", width=4, height=3, verdict="clear", risk=0.0)
            for i in range(n)]


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
    f = Finding(path="x.jpg", sha256="c" * 64, width=2, height=2, verdict="flag", risk=0.9,
                reasons=["r"], hands=[{"ballot": 2, "person": 0}], faces=[{"box": [0, 0, 1, 1], "score": 0.9}])
    d = f.to_dict()
    assert Finding.from_dict(d) == f
    assert Finding.from_dict({**d, "from_a_newer_version": 1}) == f
    assert "faces" not in Finding(path="y", sha256=None).to_dict()
    assert f.ballots == [2]
