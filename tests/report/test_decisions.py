"""Review decisions files: what report.html exports (JSON and CSV) reads back, the later decision
on a photo wins, and a broken file says what is wrong."""

from __future__ import annotations

import json

import pytest

from gesture_audit.report.decisions import DECISIONS, DecisionsError, load_decisions, merge_decisions, read_decisions

A, B = "a" * 64, "b" * 64


def test_csv_as_the_page_exports_it(tmp_path):
    # The page's CSV: a byte-order mark, every cell quoted, CRLF, formulas neutralised with "'".
    path = tmp_path / "decisions.csv"
    path.write_bytes(
        (
            "\ufeffsha256,path,decision,reviewer,note,time\r\n"
            f'"{A}","foto/a.jpg","violation","Siti","\'=jelas, pose jari 2","2026-11-30T10:00:00Z"\r\n'
            f'"{B}","foto/b.jpg","","Budi","belum yakin","2026-11-30T10:01:00Z"\r\n'
        ).encode()
    )
    scan, decisions = read_decisions(path)
    assert scan is None
    assert [(d.sha256, d.decision, d.note) for d in decisions] == [
        (A, "violation", "=jelas, pose jari 2"),
        (B, None, "belum yakin"),
    ]


def test_merge_keeps_the_later_decision(tmp_path):
    first = tmp_path / "first.json"
    first.write_text(
        json.dumps(
            {
                "scan": "s1",
                "decisions": [
                    {
                        "sha256": A,
                        "path": "a.jpg",
                        "decision": "violation",
                        "reviewer": "Siti",
                        "note": "",
                        "time": "2026-11-30T10:00:00Z",
                    },
                    {
                        "sha256": B,
                        "path": "b.jpg",
                        "decision": "violation",
                        "reviewer": "Siti",
                        "note": "",
                        "time": "2026-11-30T10:00:00Z",
                    },
                ],
            }
        )
    )
    later = tmp_path / "later.json"
    later.write_text(
        json.dumps(
            {
                "scan": "s1",
                "decisions": [
                    {
                        "sha256": B,
                        "path": "b.jpg",
                        "decision": "not_violation",
                        "reviewer": "Budi",
                        "note": "melambai",
                        "time": "2026-11-30T11:00:00Z",
                    }
                ],
            }
        )
    )
    out = tmp_path / "out"
    out.mkdir()
    merge_decisions(out, "s1", read_decisions(later)[1])
    merged = merge_decisions(out, "s1", read_decisions(first)[1])  # older file second: B stays Budi's
    assert merged[B].decision == "not_violation" and merged[A].decision == "violation"
    assert load_decisions(out) == merged
    assert json.loads((out / DECISIONS).read_text())["scan"] == "s1"


@pytest.mark.parametrize(
    "name, body, words",
    [
        ("d.json", "{not json", "not JSON"),
        ("d.json", '{"decisions": 3}', 'no "decisions" list'),
        ("d.json", '{"decisions": [{"decision": "violation"}]}', "without a sha256"),
        ("d.json", '{"decisions": [{"sha256": "x", "decision": "maybe"}]}', "is not one of"),
        ("d.csv", "path,decision\r\na.jpg,violation\r\n", "no sha256 column"),
    ],
)
def test_broken_files_say_why(tmp_path, name, body, words):
    path = tmp_path / name
    path.write_text(body)
    with pytest.raises(DecisionsError, match=words.replace("(", r"\(")):
        read_decisions(path)


def test_missing_file(tmp_path):
    with pytest.raises(DecisionsError, match="cannot be read"):
        read_decisions(tmp_path / "nothing.json")
