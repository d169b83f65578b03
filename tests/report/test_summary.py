"""summary.csv opens cleanly in a spreadsheet: BOM, every cell quoted, formulas neutralised."""

from __future__ import annotations

import csv

import pytest
from made import finding, hand_row

from gesture_audit.report.summary import COLUMNS, spreadsheet_safe, write_summary_csv
from gesture_audit.results import Finding


@pytest.mark.parametrize(
    "text, expected",
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("foto/ibu-dinas.jpg", "foto/ibu-dinas.jpg"),
        ("", ""),
        (None, ""),
        (3, "3"),
    ],
)
def test_spreadsheet_safe(text, expected):
    assert spreadsheet_safe(text) == expected


def test_csv_neutralises_formulas_and_keeps_unicode(tmp_path):
    findings = [
        finding(
            "=cmd|'/C calc'!A0.jpg",
            "flag",
            0.91,
            reasons=["=1+1", "right hand shows 2 (V sign), confidence 0.93"],
            hands=[hand_row(2), hand_row(3), hand_row(None)],
        ),
        Finding.failed(
            "kegiatan/Pelantikan “ASN” – Dinas.jpg", "truncated JPEG (the file ends before the image data does)"
        ),
        finding('@evil,"quoted"\nnewline.png', "review", 0.4, reasons=["-5"]),
    ]
    out = tmp_path / "summary.csv"
    assert write_summary_csv(out, findings) == 3
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    assert b"\r\n" in raw
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == COLUMNS
    body = [dict(zip(COLUMNS, r)) for r in rows[1:]]
    assert body[0]["path"] == "'=cmd|'/C calc'!A0.jpg"
    assert body[0]["reasons"] == "'=1+1; right hand shows 2 (V sign), confidence 0.93"
    assert body[0]["ballots"] == "2 3" and body[0]["hands"] == "3" and body[0]["risk"] == "0.91"
    assert body[1]["path"] == "kegiatan/Pelantikan “ASN” – Dinas.jpg"
    assert body[1]["verdict"] == "error" and body[1]["error"].startswith("truncated JPEG")
    assert body[2]["path"] == '\'@evil,"quoted"\nnewline.png'
    assert body[2]["reasons"] == "'-5"
    # Every cell quoted, so no spreadsheet splits or reinterprets one.
    for line in raw.decode("utf-8-sig").split("\r\n")[:2]:
        assert line.startswith('"') and line.endswith('"')
    for row in body:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))
