"""Archives scanned in place: zip, tar (plain, gz, bz2, xz) and 7z. Members are read into memory,
never written to disk.

    for entry in list_archive("/media/wa.zip", "wa.zip"):     # every member, each checked first
        entry.row       # "wa.zip!/WhatsApp Images/IMG-20240101-WA0001.jpg" (a findings.jsonl path)
        entry.member    # Member("/media/wa.zip", ((3, "WhatsApp Images/IMG-...jpg"),)), or None
        entry.error     # why the member is refused, or None
    data = entry.member.read_bytes()

A member's row path is its archive's row path, "!/", and its name inside the archive; a member of
a nested archive adds another "!/" (`a.zip!/b.zip!/c.jpg`). A `Member` is a plain descriptor (the
archive's path on disk and the chain of member indices and names down to the member), so it can be
pickled and handed to another process, and read again later (the report draws evidence from it).

Refused with a reason, never opened: encrypted members, links and devices, names that climb out of
the archive (`../`, absolute paths), members whose compression ratio is a bomb's, members too large
to hold in memory, archives nested deeper than `MAX_DEPTH`. Archives with more than `MAX_MEMBERS`
members or more than `MAX_TOTAL` bytes declared in all are refused whole. Zip names without the
UTF-8 flag are read as UTF-8 when they are valid UTF-8 (Linux, macOS tools), else as code page 437
(the zip format's default, what Windows' own zip writes for Western code pages).
"""

from __future__ import annotations

import functools
import io
import os
import stat
import struct
import tarfile
import threading
import zipfile
import zlib
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import PurePosixPath

# Limits. A bomb is judged by each member's ratio (a JPEG barely compresses; text does about 10:1;
# a flat BMP perhaps 50:1) once it is large enough to matter.
MAX_DEPTH = 3  # archives inside archives: a.zip!/b.zip!/c.zip!/photo.jpg and no deeper
MAX_MEMBERS = 100_000  # members of one archive
MAX_TOTAL = 16 * 1024**3  # bytes declared by all members of one archive
MAX_RATIO = 100  # uncompressed : compressed, for members above RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_MEMBER = 256 * 1024**2  # one member (a photo, or a nested archive) read into memory
READ_AHEAD = 64 * 1024**2  # members of a tar.gz or 7z read in one pass (see Member.read_bytes)

ARCHIVE_SUFFIXES = (".zip", ".7z", ".tar", ".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz")
SEP = "!/"

_ahead: OrderedDict[tuple, bytes] = OrderedDict()  # (container key, index) -> bytes read ahead
_ahead_locks: dict[tuple, threading.Lock] = {}  # one pass at a time per archive
_ahead_lock = threading.Lock()

_ZIP_UNICODE_PATH = 0x7075  # Info-ZIP's extra field with the UTF-8 name beside a legacy one
_ZIP_UTF8_FLAG = 0x800


class ArchiveError(ValueError):
    """An archive (or a member) cannot be read; the message says why, for the file's row."""


def is_archive(name: str) -> bool:
    """Whether a file is scanned as an archive, by its name."""
    return name.lower().endswith(ARCHIVE_SUFFIXES)


@dataclass(frozen=True)
class Member:
    """A file inside an archive: `archive` is the outermost archive's path on disk, `chain` the
    (index, name) of each member from the outermost archive down; the last is the file itself."""

    archive: str
    chain: tuple[tuple[int, str], ...]

    @property
    def name(self) -> str:
        """The member's name inside its own archive (its suffix says what it is)."""
        return self.chain[-1][1]

    def read_bytes(self, limit: int = MAX_MEMBER) -> bytes:
        """The member's bytes. Raises ArchiveError (damaged, changed since listed, over `limit`)
        or OSError (the archive cannot be read).

        A zip or plain tar member is read on its own. A tar.gz/bz2/xz or 7z member can only be
        reached by decompressing from the start, so the members after it are read in the same pass
        (up to READ_AHEAD bytes) and kept for their own calls: a scan reads such an archive about
        once per READ_AHEAD, not once per member.
        """
        stamp = _stamp(self.archive)
        key, index = (self.archive, self.chain[:-1], stamp), self.chain[-1][0]
        container = _container(self.archive, self.chain[:-1], stamp)
        if _kind(_head(container)) not in SEQUENTIAL:
            with _open(container) as archive:
                return archive.read(index, limit)
        with _ahead_lock:
            lock = _ahead_locks.setdefault(key, threading.Lock())
        with lock:  # one pass at a time: the next caller most likely finds its member read ahead
            with _ahead_lock:
                data = _ahead.pop((key, index), None)
            if data is not None:
                return data
            with _open(container) as archive:
                batch = archive.read_ahead(index, limit, READ_AHEAD)
            data = batch.pop(index)
            with _ahead_lock:
                _ahead.update(((key, i), b) for i, b in batch.items())
                while sum(map(len, _ahead.values())) > 2 * READ_AHEAD:  # members never asked for
                    _ahead.popitem(last=False)
            return data

    def __str__(self) -> str:
        return SEP.join([self.archive, *(name for _, name in self.chain)])


@dataclass
class Listed:
    """One member as the scan accounts for it: a `member` to read, or an `error` (refused)."""

    row: str
    member: Member | None
    error: str | None = None


def list_archive(path: str, row: str, *, skipped: Counter | None = None) -> list[Listed]:
    """Every file in the archive at `path` (on disk) whose row path is `row`, nested archives
    opened, in archive order. Directories are not listed; a second member of the same name is
    counted in `skipped` (it would be a second row of one path). Raises ArchiveError when the
    archive as a whole cannot be read or is refused (a bomb)."""
    return _list(path, (), row, skipped if skipped is not None else Counter())


def member_at(path: str, inner: str) -> Member | None:
    """The member of the archive at `path` whose row path is the archive's followed by `inner`
    (the part after the first "!/", e.g. "b.zip!/c.jpg"), or None."""
    try:
        return _members(path, _stamp(path)).get(SEP + inner)
    except (ArchiveError, OSError):
        return None


@functools.lru_cache(maxsize=8)
def _members(path: str, stamp: tuple[int, int]) -> dict[str, Member]:
    """An archive's readable members by row path (below the archive), listed once per report."""
    return {e.row: e.member for e in list_archive(path, "") if e.member is not None}


# -- reading ---------------------------------------------------------------------------------------


@dataclass
class _Entry:
    name: str  # as shown in the row path: "/" separated, decoded
    size: int  # declared uncompressed size
    packed: int | None  # compressed size, where the format keeps one per member
    is_dir: bool = False
    problem: str | None = None  # why it is never opened (encrypted, a link, a device)


def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=3)
def _container(path: str, chain: tuple[tuple[int, str], ...], stamp: tuple[int, int]) -> str | bytes:
    """The archive holding a member: the outer archive's path, or a nested archive's bytes
    (kept for the next members of the same nested archive; `stamp` drops it when the file changes)."""
    if not chain:
        return path
    container = _container(path, chain[:-1], stamp)
    with _open(container) as archive:
        return archive.read(chain[-1][0], MAX_MEMBER)


SEQUENTIAL = ("7z", "compressed tar")  # formats whose members are reached from the start only


def _head(source: str | bytes) -> bytes:
    if isinstance(source, bytes):
        return source[:270]
    with open(source, "rb") as fh:
        return fh.read(270)


def _kind(head: bytes) -> str | None:
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")):
        return "compressed tar"
    return "tar" if head[257:262] == b"ustar" else None


def _open(source: str | bytes) -> _Archive:
    """The archive at a path or in bytes, by its first bytes. Raises ArchiveError, OSError."""
    head = _head(source)
    kind = _kind(head)
    if kind is None:
        raise ArchiveError(
            "not an archive its name suggests (zip, tar or 7z); the file starts with "
            + (head[:8].hex(" ") or "nothing (empty file)")
        )
    fh = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    try:
        size = fh.seek(0, io.SEEK_END)
        fh.seek(0)
        return {"zip": _Zip, "7z": _SevenZip}.get(kind, _Tar)(fh, size)
    except BaseException:
        fh.close()
        raise


def _text(raw: bytes) -> str:
    """A name from an archive's bytes: UTF-8 when it is, else code page 437 (never fails)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp437")


class _Archive:
    def __init__(self, fh, size: int):
        self.fh, self.size = fh, size

    def entries(self) -> list[_Entry]:
        raise NotImplementedError

    def read(self, index: int, limit: int) -> bytes:
        raise NotImplementedError

    def read_ahead(self, index: int, limit: int, budget: int) -> dict[int, bytes]:
        """Member `index` and the readable files after it (not refused, not archives), up to
        `budget` bytes in all, in one pass."""
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.fh.close()


# What each library raises for a damaged archive (programming errors still propagate).
_DAMAGED = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    EOFError,
    zlib.error,
    struct.error,
    KeyError,
    IndexError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


def _damaged(kind: str, e: Exception) -> ArchiveError:
    return ArchiveError(f"damaged {kind} archive ({e})" if str(e) else f"damaged {kind} archive")


class _Zip(_Archive):
    def __init__(self, fh, size: int):
        super().__init__(fh, size)
        try:
            self.zf = zipfile.ZipFile(fh)
            self.infos = self.zf.infolist()
        except _DAMAGED as e:
            raise _damaged("zip", e) from e

    def entries(self) -> list[_Entry]:
        return [_Entry(_zip_name(i), i.file_size, i.compress_size, i.is_dir(), _zip_problem(i)) for i in self.infos]

    def read(self, index: int, limit: int) -> bytes:
        info = self.infos[index]
        if info.file_size > limit:
            raise ArchiveError(_too_large(info.file_size, limit))
        try:
            with self.zf.open(info) as fh:
                return fh.read(limit + 1)[:limit]  # zipfile stops at the declared size and checks the CRC
        except _DAMAGED as e:
            raise _damaged("zip", e) from e


def _zip_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & _ZIP_UTF8_FLAG:
        return info.filename
    extra = info.extra
    while len(extra) >= 4:  # an Info-ZIP Unicode Path field: version 1, crc32 of the legacy name, UTF-8 name
        kind, length = struct.unpack("<HH", extra[:4])
        if kind == _ZIP_UNICODE_PATH and length > 5 and extra[4] == 1:
            try:
                return extra[9 : 4 + length].decode("utf-8")
            except UnicodeDecodeError:
                break
        extra = extra[4 + length :]
    return _text(info.filename.encode("cp437"))  # zipfile decoded the raw bytes as cp437: undo that


def _zip_problem(info: zipfile.ZipInfo) -> str | None:
    if info.flag_bits & 0x1:
        return "encrypted (password-protected); not opened"
    kind = stat.S_IFMT(info.external_attr >> 16)  # Unix zips keep the file type here (0: unknown)
    if info.create_system == 3 and kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return (
            "a symbolic link inside the archive; not followed"
            if kind == stat.S_IFLNK
            else "not a regular file inside the archive; not opened"
        )
    return None


class _Tar(_Archive):
    def __init__(self, fh, size: int):
        super().__init__(fh, size)
        try:  # reads the first header only; members are listed as far as they are needed
            self.tf = tarfile.open(fileobj=fh, mode="r:*", encoding="utf-8", errors="surrogateescape")
        except _DAMAGED + (OSError,) as e:  # gzip raises BadGzipFile, an OSError
            raise _damaged("tar", e) from e

    def _member(self, index: int) -> tarfile.TarInfo:
        try:
            # TarFile.members, the list next() fills as it reads on, is missing from typeshed's stubs
            members: list[tarfile.TarInfo] = self.tf.members  # type: ignore[attr-defined]
            while len(members) <= index and self.tf.next() is not None:
                pass
        except _DAMAGED + (OSError,) as e:
            raise _damaged("tar", e) from e
        if index >= len(members):
            raise ArchiveError("damaged tar archive (it has fewer members than when it was listed)")
        return members[index]

    def entries(self) -> list[_Entry]:
        out = []
        try:
            members = self.tf.getmembers()
        except _DAMAGED + (OSError,) as e:
            raise _damaged("tar", e) from e
        for m in members:
            problem = None
            if m.issym() or m.islnk():
                problem = f"a {'symbolic' if m.issym() else 'hard'} link inside the archive; not followed"
            elif not (m.isreg() or m.isdir()):
                problem = "not a regular file inside the archive (a device or pipe); not opened"
            out.append(_Entry(_text(m.name.encode("utf-8", "surrogateescape")), m.size, None, m.isdir(), problem))
        return out

    def read_ahead(self, index: int, limit: int, budget: int) -> dict[int, bytes]:
        out = {index: self.read(index, limit)}
        total, i = len(out[index]), index + 1
        while True:  # forward through the one stream, listing members only as far as it reads
            try:
                m = self._member(i)
                if m.isreg() and m.size <= limit and not is_archive(m.name):
                    if total + m.size > budget:
                        break
                    out[i] = self.read(i, limit)
                    total += m.size
            except ArchiveError:
                break  # the end, or damage: that member's own row says so when it is read alone
            i += 1
        return out

    def read(self, index: int, limit: int) -> bytes:
        member = self._member(index)
        if member.size > limit:
            raise ArchiveError(_too_large(member.size, limit))
        try:
            fh = self.tf.extractfile(member)
            if fh is None:
                raise ArchiveError("not a regular file inside the archive")
            return fh.read(limit)
        except _DAMAGED + (OSError,) as e:
            raise _damaged("tar", e) from e


class _SevenZip(_Archive):
    def __init__(self, fh, size: int):
        super().__init__(fh, size)
        try:
            import py7zr
        except ImportError:
            raise ArchiveError(
                "7z archives need the optional py7zr package (pip install 'gesture-audit[archives]')"
            ) from None

        self.errors = _DAMAGED + (py7zr.exceptions.ArchiveError, py7zr.exceptions.Bad7zFile, OSError)
        try:
            self.z = py7zr.SevenZipFile(fh)
            self.infos = self.z.list()
            self.locked = self.z.needs_password()
        except py7zr.exceptions.PasswordRequired as e:
            raise ArchiveError("encrypted 7z archive (password-protected names); not opened") from e
        except self.errors as e:
            raise _damaged("7z", e) from e

    def entries(self) -> list[_Entry]:
        out = []
        for info in self.infos:
            problem = (
                "encrypted (password-protected); not opened"
                if self.locked and not info.is_directory
                else "a symbolic link inside the archive; not followed"
                if info.is_symlink
                else None
            )
            out.append(_Entry(info.filename, info.uncompressed or 0, info.compressed, info.is_directory, problem))
        return out

    def read(self, index: int, limit: int) -> bytes:
        return self._extract([index], limit)[index]

    def read_ahead(self, index: int, limit: int, budget: int) -> dict[int, bytes]:
        entries = self.entries()
        chosen, total = [index], entries[index].size
        for i in range(index + 1, len(entries)):
            e = entries[i]
            if e.is_dir or e.problem or is_archive(e.name) or e.size > limit:
                continue
            if total + e.size > budget:
                break
            chosen.append(i)
            total += e.size
        return self._extract(chosen, limit)

    def _extract(self, indices: list[int], limit: int) -> dict[int, bytes]:
        from py7zr.io import BytesIOFactory

        first = self.infos[indices[0]]
        if (first.uncompressed or 0) > limit:
            raise ArchiveError(_too_large(first.uncompressed, limit))
        names = {self.infos[i].filename: i for i in indices}
        factory = BytesIOFactory(limit)  # in memory: with a factory, py7zr writes nothing to disk
        try:
            self.z.reset()
            self.z.extract(targets=list(names), factory=factory)
        except self.errors as e:
            raise _damaged("7z", e) from e
        out = {}
        for name, i in names.items():
            if name in factory.products:
                product = factory.products[name]
                product.seek(0)
                out[i] = product.read()
        if indices[0] not in out:
            raise ArchiveError(f"damaged 7z archive ({first.filename} cannot be extracted)")
        return out

    def __exit__(self, *exc) -> None:
        self.z.close()
        super().__exit__(*exc)


def _size(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def _too_large(size: int, limit: int) -> str:
    return f"{_size(size)} inside the archive, over the limit of {_size(limit)} read from an archive"


# -- listing ---------------------------------------------------------------------------------------


def _safe_name(name: str) -> str | None:
    """The member's name with "/" separators, or None when it climbs out of the archive."""
    name = name.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in path.parts:
        return None
    return "/".join(p for p in path.parts if p != ".")


def _list(path: str, chain: tuple, row: str, skipped: Counter) -> list[Listed]:
    with _open(_container(path, chain, _stamp(path))) as archive:
        entries = archive.entries()
        if len(entries) > MAX_MEMBERS:
            raise ArchiveError(
                f"archive holds {len(entries)} members, over the limit of {MAX_MEMBERS} (an archive bomb?); not opened"
            )
        total = sum(e.size for e in entries)
        if total > MAX_TOTAL:
            raise ArchiveError(
                f"archive declares {_size(total)} uncompressed, over the limit of "
                f"{_size(MAX_TOTAL)} (an archive bomb?); not opened"
            )
        if isinstance(archive, _Tar) and total > RATIO_FLOOR and total > MAX_RATIO * archive.size:
            raise ArchiveError(
                f"archive compression ratio {total / archive.size:.0f}:1, over the limit of "
                f"{MAX_RATIO}:1 (an archive bomb?); not opened"
            )
    out: list[Listed] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.is_dir:
            continue
        name = _safe_name(entry.name)
        member_row = f"{row}{SEP}{entry.name if name is None else name}"
        if member_row in seen:
            skipped["second archive member of the same name"] += 1
            continue
        seen.add(member_row)
        if name is None:
            out.append(Listed(member_row, None, "its name points outside the archive (path traversal); not opened"))
            continue
        error = entry.problem or _refused(entry, name, len(chain))
        member = Member(path, chain + ((index, name),))
        if error is None and is_archive(name):
            try:
                out.extend(_list(path, member.chain, member_row, skipped))
                continue
            except ArchiveError as e:
                error = str(e)
        out.append(Listed(member_row, None if error else member, error))
    return out


def _refused(entry: _Entry, name: str, depth: int) -> str | None:
    if entry.packed and entry.size > RATIO_FLOOR and entry.size > MAX_RATIO * entry.packed:
        return (
            f"compression ratio {entry.size / entry.packed:.0f}:1 ({_size(entry.size)} from "
            f"{entry.packed / 1e3:.0f} kB), over the limit of {MAX_RATIO}:1 (an archive bomb?); not opened"
        )
    if entry.size > MAX_MEMBER:
        return _too_large(entry.size, MAX_MEMBER)
    if is_archive(name) and depth + 1 >= MAX_DEPTH:
        return f"an archive nested {depth + 2} deep, over the limit of {MAX_DEPTH}; not opened"
    return None
