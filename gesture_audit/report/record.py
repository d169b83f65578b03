"""scan.json: what a scan looked at, so that `gesture-audit report DIR` can find the photos again.

Rows in findings.jsonl name files relative to their scan root; the record maps each root's label
back to where it is on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from gesture_audit.archives import SEP, Member, member_at
from gesture_audit.remote import RemoteFile, is_uri
from gesture_audit.results import SCHEMA_VERSION

RECORD = "scan.json"


class ScanStateError(ValueError):
    """scan.json exists but cannot be read (damaged): the message says how to start over."""


@dataclass
class ScanRoot:
    """A folder (or single file) given to `scan`. `label` prefixes its rows when there are several."""

    label: str
    path: str  # absolute, as given on the command line (symlinks not resolved), or a URI (s3://...)
    is_file: bool = False


@dataclass
class ScanRecord:
    roots: list[ScanRoot]
    election: dict = field(default_factory=dict)  # {"name", "source"} of the election judged under
    version: str = ""
    started: str = ""
    finished: str | None = None
    options: dict = field(default_factory=dict)
    id: str = ""  # random, kept by --resume: report.html keys the reviewers' decisions by it
    schema: int = SCHEMA_VERSION  # the findings.jsonl form this scan writes (results.SCHEMA_VERSION); 1 when absent

    @property
    def scan_id(self) -> str:
        """`id`, or for a scan.json written before ids existed, one derived from its roots and start."""
        if self.id:
            return self.id
        seed = json.dumps([[r.label, r.path] for r in self.roots] + [self.started])
        return hashlib.sha256(seed.encode()).hexdigest()[:16]

    @property
    def prefixed(self) -> bool:
        """Whether row paths start with their root's label (they do when there are several roots)."""
        return len(self.roots) > 1

    def row_path(self, root: ScanRoot, relative: str) -> str:
        """The findings.jsonl `path` of a file at `relative` (forward slashes) under `root`."""
        parts = [root.label] if self.prefixed else []
        if relative:
            parts.append(relative)
        return "/".join(parts) or root.label

    def source(self, row_path: str) -> Path | Member | RemoteFile | None:
        """The file on disk a row's path names (or the archive member: `a.zip!/dir/photo.jpg`, or
        the object under a URI root), or None if no root matches."""
        head, sep, inner = row_path.partition(SEP)
        while sep:
            archive = self._on_disk(head)
            if isinstance(archive, Path) and archive.is_file():
                return member_at(str(archive), inner)
            more, sep, inner = inner.partition(SEP)
            head += SEP + more
        return self._on_disk(row_path)

    def _on_disk(self, row_path: str) -> Path | RemoteFile | None:
        for root in self.roots:
            if self.prefixed:
                head, _, rest = row_path.partition("/")
                if head != root.label:
                    continue
            else:
                rest = row_path
            uri = is_uri(root.path)
            if root.is_file:
                return RemoteFile(root.path, "") if uri else Path(root.path)
            relative = PurePosixPath(rest)
            if not rest or relative.is_absolute() or ".." in relative.parts:
                return None
            if uri:
                return RemoteFile(root.path, rest)
            return Path(root.path).joinpath(*relative.parts)
        return None

    def save(self, directory: str | os.PathLike) -> None:
        path = Path(directory) / RECORD
        tmp = path.with_name(RECORD + ".tmp")
        # ASCII with \u escapes: a folder name that is not UTF-8 (its bytes as surrogates) survives
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="ascii")
        os.replace(tmp, path)

    @classmethod
    def load(cls, directory: str | os.PathLike) -> ScanRecord | None:
        path = Path(directory) / RECORD
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["roots"] = [ScanRoot(**r) for r in data.get("roots", [])]
            known = cls.__dataclass_fields__
            return cls(**{"schema": 1, **{k: v for k, v in data.items() if k in known}})
        except (ValueError, TypeError, AttributeError) as e:  # torn, edited, or not this program's
            raise ScanStateError(
                f"{path} is damaged ({type(e).__name__}: {str(e)[:80]}); --resume and report need it to find "
                f"the photos. To start over, move {path.parent} aside or delete it and scan again without "
                "--resume (or choose another --out)"
            ) from None
