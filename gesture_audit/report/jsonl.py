"""findings.jsonl: one JSON object per line, appended and flushed as results arrive.

A scan killed at any moment (Ctrl-C, SIGKILL, power loss) leaves at worst a torn last line, or on
some file systems a tail of NUL bytes; `repair_findings` cuts those off so that the file is valid
JSONL again and `--resume` can carry on where it stopped.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from gesture_audit.results import Finding

FINDINGS = "findings.jsonl"


def dumps(finding: Finding) -> str:
    return json.dumps(finding.to_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _parse(line: bytes) -> Finding | None:
    try:
        data = json.loads(line)
        return Finding.from_dict(data) if isinstance(data, dict) else None
    except (ValueError, TypeError):
        return None


def iter_findings(path: str | os.PathLike) -> Iterator[Finding]:
    """The findings in a findings.jsonl, skipping lines that are not whole findings (a torn tail)."""
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip(b" \t\r\n\0"):
                finding = _parse(line)
                if finding is not None:
                    yield finding


def repair_findings(path: str | os.PathLike) -> tuple[dict[str, str], int]:
    """Make findings.jsonl whole again after a crash; return the outcome of each file it holds
    (its verdict, "error" or "skipped") by `Finding.disk_path`, and how many lines were dropped.

    Kept: every line that parses as a finding, the last one for a path seen twice. Dropped: a torn
    last line, NUL padding, anything unparseable. The file is only rewritten (atomically, via a
    temporary file and rename) when something was dropped. Memory holds one short entry per file,
    not the findings.
    """
    path = Path(path)
    if not path.exists():
        return {}, 0
    keep: dict[str, tuple[int, str]] = {}  # path -> (line number, outcome)
    dropped = 0
    with open(path, "rb") as fh:
        for number, line in enumerate(fh):
            if not line.strip(b" \t\r\n\0"):
                dropped += bool(line.strip(b"\r\n"))
                continue
            finding = _parse(line) if line.endswith(b"\n") else None
            disk_path = None if finding is None else finding.disk_path
            if finding is None or disk_path is None:
                dropped += 1
                continue
            dropped += disk_path in keep
            keep[disk_path] = (number, finding.outcome)
    if dropped:
        wanted = {number for number, _ in keep.values()}
        tmp = path.with_name(path.name + ".repair")
        with open(path, "rb") as fh, open(tmp, "wb") as out:
            for number, line in enumerate(fh):
                if number in wanted:
                    out.write(line)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    return {p: outcome for p, (_, outcome) in keep.items()}, dropped


class FindingsWriter:
    """Appends findings to a findings.jsonl, one flushed line each.

        with FindingsWriter(out_dir / "findings.jsonl") as sink:
            sink.append(finding)

    Each line is written with a single write() and flushed, so a crash can tear at most the last
    one. The data is also fsync'ed every `sync_seconds` and on close, so a power loss costs at most
    that much work.
    """

    def __init__(self, path: str | os.PathLike, sync_seconds: float = 2.0):
        self.path = Path(path)
        self.sync_seconds = sync_seconds
        self._fh: TextIO | None = None
        self._synced = 0.0

    def __enter__(self) -> FindingsWriter:
        self._fh = open(self.path, "a", encoding="utf-8", newline="\n")
        self._synced = time.monotonic()
        return self

    def append(self, finding: Finding) -> None:
        if self._fh is None:
            raise RuntimeError("FindingsWriter.append outside its with block")
        self._fh.write(dumps(finding) + "\n")
        self._fh.flush()
        now = time.monotonic()
        if now - self._synced >= self.sync_seconds:
            os.fsync(self._fh.fileno())
            self._synced = now

    def __exit__(self, *exc) -> None:
        if self._fh is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
