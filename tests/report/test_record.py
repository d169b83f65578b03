"""scan.json maps row paths back to the photos on disk."""

from __future__ import annotations

from pathlib import Path

from gesture_audit.report.record import ScanRecord, ScanRoot


def test_one_root_rows_are_relative(tmp_path):
    record = ScanRecord(roots=[ScanRoot("fotos", str(tmp_path / "fotos"))])
    assert record.row_path(record.roots[0], "a/b.jpg") == "a/b.jpg"
    assert record.source("a/b.jpg") == tmp_path / "fotos" / "a" / "b.jpg"
    assert record.source("../etc/passwd") is None


def test_several_roots_rows_start_with_the_label(tmp_path):
    record = ScanRecord(
        roots=[
            ScanRoot("fotos", str(tmp_path / "x" / "fotos")),
            ScanRoot("fotos-2", str(tmp_path / "y" / "fotos")),
            ScanRoot("one.jpg", str(tmp_path / "one.jpg"), is_file=True),
        ]
    )
    assert record.row_path(record.roots[1], "a.jpg") == "fotos-2/a.jpg"
    assert record.row_path(record.roots[2], "") == "one.jpg"
    assert record.source("fotos-2/a.jpg") == tmp_path / "y" / "fotos" / "a.jpg"
    assert record.source("fotos/a.jpg") == tmp_path / "x" / "fotos" / "a.jpg"
    assert record.source("one.jpg") == tmp_path / "one.jpg"
    assert record.source("other/a.jpg") is None


def test_save_load(tmp_path):
    record = ScanRecord(roots=[ScanRoot("f", "/data/f")], election={"source": "default"}, started="now")
    record.save(tmp_path)
    assert ScanRecord.load(tmp_path) == record
    assert ScanRecord.load(tmp_path / "missing") is None
    assert isinstance(ScanRecord.load(tmp_path).roots[0], ScanRoot)
    assert Path(tmp_path / "scan.json").read_text().endswith("\n")
