"""Archives read in place: every member listed once with its row path, the dangerous ones refused
with a reason, damaged archives an ArchiveError (never a crash). Archives are made here, holding
the committed rendered sample photos."""

from __future__ import annotations

import io
import pickle
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from gesture_audit import archives
from gesture_audit.archives import ArchiveError, Member, list_archive, member_at

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
PHOTO = (SAMPLES / "v_7_00000.jpg").read_bytes()
OTHER = (SAMPLES / "fist_7_00000.jpg").read_bytes()


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def windows_zip(path: Path) -> None:
    """A zip as Windows' own zip writes it: the name in code page 437 (é = 0x82), no UTF-8 flag."""
    data = zip_bytes({"Foto rapat X.jpg": PHOTO, "plain.jpg": OTHER})
    path.write_bytes(data.replace(b"Foto rapat X.jpg", b"Foto rapat \x82.jpg"))  # both headers


def encrypted(data: bytes, name: bytes) -> bytes:
    """The zip with member `name` marked encrypted (the flag zipfile cannot write) in both its
    local and central headers: such a member is never opened, whatever its bytes are."""
    out = bytearray(data)
    start = 0
    while (at := data.find(name, start)) >= 0:
        for signature, back, flags in ((b"PK\x03\x04", 30, 6), (b"PK\x01\x02", 46, 8)):
            if data[at - back : at - back + 4] == signature:
                out[at - back + flags] |= 0x1
        start = at + 1
    return bytes(out)


def rows(listed) -> dict[str, str | None]:
    return {e.row: e.error for e in listed}


def test_non_utf8_names_nested_and_refused_members(tmp_path):
    inner = zip_bytes({"c.jpg": OTHER})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("dir/photo.jpg", PHOTO)
        z.writestr("b.zip", inner)
        z.writestr("../../etc/evil.jpg", PHOTO)
        z.writestr("C:/Windows/evil.jpg", PHOTO)
        z.writestr("bomb.bmp", b"\0" * (8 * 1024 * 1024))  # 8 MB of zeros deflate to ~8 kB: ratio ~1000
        link = zipfile.ZipInfo("link.jpg")
        link.create_system, link.external_attr = 3, 0o120777 << 16
        z.writestr(link, "dir/photo.jpg")
        z.writestr("locked.jpg", PHOTO)
        z.writestr("empty-dir/", b"")
    (tmp_path / "a.zip").write_bytes(encrypted(buf.getvalue(), b"locked.jpg"))
    listed = list_archive(str(tmp_path / "a.zip"), "wa/a.zip")
    got = rows(listed)
    assert list(got) == [
        "wa/a.zip!/dir/photo.jpg",
        "wa/a.zip!/b.zip!/c.jpg",
        "wa/a.zip!/../../etc/evil.jpg",
        "wa/a.zip!/C:/Windows/evil.jpg",
        "wa/a.zip!/bomb.bmp",
        "wa/a.zip!/link.jpg",
        "wa/a.zip!/locked.jpg",
    ]
    assert got["wa/a.zip!/dir/photo.jpg"] is None and got["wa/a.zip!/b.zip!/c.jpg"] is None
    assert "path traversal" in got["wa/a.zip!/../../etc/evil.jpg"]
    assert "path traversal" in got["wa/a.zip!/C:/Windows/evil.jpg"]
    assert "compression ratio" in got["wa/a.zip!/bomb.bmp"] and "bomb" in got["wa/a.zip!/bomb.bmp"]
    assert "symbolic link" in got["wa/a.zip!/link.jpg"]
    assert "encrypted" in got["wa/a.zip!/locked.jpg"]
    readable = {e.row: e.member for e in listed if e.member}
    assert readable["wa/a.zip!/dir/photo.jpg"].read_bytes() == PHOTO
    nested = readable["wa/a.zip!/b.zip!/c.jpg"]
    assert nested.read_bytes() == OTHER
    # A descriptor, not an open file: it travels to another process and reads the same there.
    assert pickle.loads(pickle.dumps(nested)).read_bytes() == OTHER
    assert member_at(str(tmp_path / "a.zip"), "b.zip!/c.jpg") == nested
    assert member_at(str(tmp_path / "a.zip"), "missing.jpg") is None

    windows_zip(tmp_path / "win.zip")
    listed = list_archive(str(tmp_path / "win.zip"), "win.zip")
    assert [e.row for e in listed] == ["win.zip!/Foto rapat é.jpg", "win.zip!/plain.jpg"]
    assert listed[0].member.read_bytes() == PHOTO


def test_tar_and_7z(tmp_path):
    py7zr = pytest.importorskip("py7zr")
    with tarfile.open(tmp_path / "t.tar.gz", "w:gz") as t:
        for name, data in (("x/p.jpg", PHOTO), ("x/inner.zip", zip_bytes({"q.jpg": OTHER}))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for kind, name in ((tarfile.SYMTYPE, "sym.jpg"), (tarfile.LNKTYPE, "hard.jpg"), (tarfile.FIFOTYPE, "fifo")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, "x/p.jpg"
            t.addfile(info)
    got = rows(list_archive(str(tmp_path / "t.tar.gz"), "t.tar.gz"))
    assert got["t.tar.gz!/x/p.jpg"] is None and got["t.tar.gz!/x/inner.zip!/q.jpg"] is None
    assert "symbolic link" in got["t.tar.gz!/sym.jpg"] and "hard link" in got["t.tar.gz!/hard.jpg"]
    assert "not a regular file" in got["t.tar.gz!/fifo"]

    with py7zr.SevenZipFile(tmp_path / "s.7z", "w") as z:
        z.writestr(PHOTO, "q/p.jpg")
        z.writestr(zip_bytes({"c.jpg": OTHER}), "n.zip")
    listed = list_archive(str(tmp_path / "s.7z"), "s.7z")
    assert [e.row for e in listed] == ["s.7z!/q/p.jpg", "s.7z!/n.zip!/c.jpg"]
    assert [e.member.read_bytes() for e in listed] == [PHOTO, OTHER]

    with py7zr.SevenZipFile(tmp_path / "locked.7z", "w", password="rahasia") as z:
        z.writestr(PHOTO, "p.jpg")
    assert rows(list_archive(str(tmp_path / "locked.7z"), "locked.7z")) == {
        "locked.7z!/p.jpg": "encrypted (password-protected); not opened"
    }
    with py7zr.SevenZipFile(tmp_path / "hidden.7z", "w", password="rahasia", header_encryption=True) as z:
        z.writestr(PHOTO, "p.jpg")
    with pytest.raises(ArchiveError, match="encrypted"):
        list_archive(str(tmp_path / "hidden.7z"), "hidden.7z")


@pytest.mark.parametrize("kind", ["tar.gz", "7z"])
def test_read_ahead_gives_each_member_its_own_bytes(tmp_path, monkeypatch, kind):
    """Compressed tar and 7z members are read several in one pass; whatever the order of the
    calls (the decoding threads interleave), each gets its own bytes."""
    photos = {f"p{k:02d}.jpg": p.read_bytes() + bytes([k]) for k, p in enumerate(sorted(SAMPLES.glob("*.jpg")))}
    path = tmp_path / f"many.{kind}"
    if kind == "7z":
        py7zr = pytest.importorskip("py7zr")
        with py7zr.SevenZipFile(path, "w") as z:
            for name, data in photos.items():
                z.writestr(data, name)
    else:
        with tarfile.open(path, "w:gz") as t:
            for name, data in photos.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(archives, "READ_AHEAD", 3 * len(PHOTO))  # a few members a pass, and evictions
    listed = list_archive(str(path), path.name)
    order = list(range(len(listed)))
    for k in [*order[::3], *order[::-1]]:
        assert listed[k].member.read_bytes() == photos[listed[k].member.name]


def test_nesting_limit_and_duplicates(tmp_path):
    data = zip_bytes({"deep.jpg": PHOTO})
    for level in (2, 1):  # three archives deep (MAX_DEPTH) is read; a fourth is refused
        data = zip_bytes({f"l{level}.zip": data})
    (tmp_path / "ok.zip").write_bytes(data)
    assert rows(list_archive(str(tmp_path / "ok.zip"), "ok.zip")) == {"ok.zip!/l1.zip!/l2.zip!/deep.jpg": None}
    (tmp_path / "deep.zip").write_bytes(zip_bytes({"l0.zip": data}))
    got = rows(list_archive(str(tmp_path / "deep.zip"), "deep.zip"))
    assert list(got) == ["deep.zip!/l0.zip!/l1.zip!/l2.zip"] and "nested 4 deep" in next(iter(got.values()))

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("same.jpg", PHOTO)
        with pytest.warns(UserWarning, match="Duplicate name"):
            z.writestr("same.jpg", OTHER)
    (tmp_path / "dup.zip").write_bytes(buf.getvalue())
    skipped = Counter()
    listed = list_archive(str(tmp_path / "dup.zip"), "dup.zip", skipped=skipped)
    assert [e.row for e in listed] == ["dup.zip!/same.jpg"] and listed[0].member.read_bytes() == PHOTO
    assert sum(skipped.values()) == 1


def test_archive_bombs_refused_whole(tmp_path, monkeypatch):
    (tmp_path / "many.zip").write_bytes(zip_bytes({f"{i}.jpg": b"x" for i in range(20)}))
    monkeypatch.setattr(archives, "MAX_MEMBERS", 10)  # the real limit, 100 000, is costly to build
    with pytest.raises(ArchiveError, match="20 members, over the limit of 10"):
        list_archive(str(tmp_path / "many.zip"), "many.zip")
    (tmp_path / "big.zip").write_bytes(zip_bytes({"p.jpg": PHOTO, "q.jpg": OTHER}))
    monkeypatch.setattr(archives, "MAX_TOTAL", len(PHOTO))  # the real limit is 16 GB
    with pytest.raises(ArchiveError, match="uncompressed, over the limit"):
        list_archive(str(tmp_path / "big.zip"), "big.zip")
    monkeypatch.undo()
    # A tar.gz has no per-member sizes: its overall ratio counts.
    with tarfile.open(tmp_path / "z.tar.gz", "w:gz") as t:
        info = tarfile.TarInfo("zeros.bmp")
        info.size = 8 * 1024 * 1024
        t.addfile(info, io.BytesIO(b"\0" * info.size))
    with pytest.raises(ArchiveError, match="compression ratio"):
        list_archive(str(tmp_path / "z.tar.gz"), "z.tar.gz")


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("truncated.zip", zip_bytes({"p.jpg": PHOTO})[:5000], "damaged zip"),
        ("garbage.zip", b"PK\x03\x04" + b"\0" * 100, "damaged zip"),
        ("notes.tar.gz", b"just some text\n", "not an archive"),
        ("broken.tar.gz", b"\x1f\x8b\x08\x00" + b"\x01" * 50, "damaged tar"),
        ("broken.7z", b"7z\xbc\xaf\x27\x1c" + b"\0" * 40, "damaged 7z"),
        ("empty.7z", b"", "not an archive"),
    ],
)
def test_damaged_archives_raise_archive_error(tmp_path, name, data, words):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ArchiveError, match=words):
        list_archive(str(tmp_path / name), name)


def test_member_damaged_after_listing(tmp_path):
    """A member whose bytes fail their CRC is an ArchiveError when read, not a crash."""
    data = bytearray(zip_bytes({"p.jpg": PHOTO}, zipfile.ZIP_STORED))
    data[100] ^= 0xFF  # inside the stored photo
    (tmp_path / "crc.zip").write_bytes(bytes(data))
    member = Member(str(tmp_path / "crc.zip"), ((0, "p.jpg"),))
    with pytest.raises(ArchiveError, match="damaged zip"):
        member.read_bytes()
