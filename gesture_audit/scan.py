"""Scanning folders: every file under the roots gets exactly one row in DIR/findings.jsonl.

    plan = plan_scan(["photos/"], "audit-out", resume=True)  # ScanUsageError for bad arguments
    counts = run_scan(plan, Auditor(), list(walk(plan)))     # one row per file not yet done
    finish_scan(plan, counts)

The walk is recursive and in name order. Symbolic links are followed, but every folder and file
is visited once, by its identity on disk (device, inode): a link back up the tree (a loop) or a
second way to a file already listed is skipped, so each file has one row. Named pipes, sockets
and devices are never opened; they get an error row. Files that are not photos (`load.is_photo`:
notes, videos, JSON/HTML that is no export's metadata) get a "skipped" row. `include`/`exclude`
globs leave files out of the scan altogether (no row; counted in `plan.excluded`). Nothing is
written inside the roots, and DIR may not lie inside one of them.

Archives (zip, tar, 7z; see `gesture_audit.archives`) are walked like folders, in place: each
member gets its own row, `archive.zip!/dir/photo.jpg`, and is read into memory when checked.
A root may also be an object-store URI (`s3://bucket/prefix`, `gs://...`; see `gesture_audit.remote`):
its objects are listed in name order and read into memory when checked; archives there are not opened.
Social-media exports (see `gesture_audit.exports`) tie each photo to its post; the export's own
metadata files are read for that and counted as skipped, not listed.
"""

from __future__ import annotations

import errno
import fcntl
import fnmatch
import os
import stat
import uuid
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Protocol

from gesture_audit import __version__
from gesture_audit.archives import ArchiveError, Member, is_archive, list_archive
from gesture_audit.audit import Input
from gesture_audit.exports import find_posts
from gesture_audit.i18n import N_
from gesture_audit.judge.captions import with_post
from gesture_audit.judge.election import Election
from gesture_audit.load import SPECIAL_FILES, is_photo
from gesture_audit.remote import RemoteFile, is_object, is_uri, list_uri, local_path
from gesture_audit.report.jsonl import FINDINGS, FindingsWriter, repair_findings
from gesture_audit.report.record import ScanRecord, ScanRoot
from gesture_audit.results import Finding, path_form

LOCK = "scan.lock"


class ScanUsageError(ValueError):
    """The scan cannot start with these arguments (the CLI exits with status 2)."""


class ScanBusyError(RuntimeError):
    """Another scan is writing to the same --out folder (the CLI exits with status 3)."""


@dataclass
class ScanFile:
    """A file to account for: `path` is its row's path (as the file system names it: `path_form`
    writes it to findings.jsonl); `source` the file on disk, the archive member or the object in an
    object store; `error` is set for what cannot be read, `skipped` for what is not a photo; `post`
    the social-media post it belongs to."""

    path: str
    source: Path | Member | RemoteFile
    error: str | None = None
    post: dict | None = None
    skipped: str | None = None


@dataclass
class ScanPlan:
    out: Path
    record: ScanRecord
    done: dict[str, str]  # files already in findings.jsonl (an earlier, stopped run): disk_path -> Finding.outcome
    repaired: int = 0  # lines dropped while repairing findings.jsonl
    skipped: Counter = field(default_factory=Counter)  # not listed: links to what was listed, export metadata
    include: tuple[str, ...] = ()  # globs: only files matching one are scanned (all when empty)
    exclude: tuple[str, ...] = ()  # globs: files and folders matching one are left out
    excluded: int = 0  # files and folders left out by include/exclude
    lock: IO | None = None  # DIR/scan.lock, held (flock) from plan_scan until release() or the process ends

    def release(self) -> None:
        """Let another scan use DIR (after the report is drawn)."""
        if self.lock is not None:
            self.lock.close()
            self.lock = None

    def wanted(self, relative: str, folder: bool = False) -> bool:
        """Whether the file (or folder) at `relative` under its root passes the globs. A glob with no
        "/" matches the name, one with "/" the relative path ("*" crosses folders); case is ignored
        (cameras write .JPG)."""

        def match(pattern: str) -> bool:
            target = relative if "/" in pattern else relative.rsplit("/", 1)[-1]
            return fnmatch.fnmatchcase(target.lower(), pattern.lower())

        if any(match(p) for p in self.exclude):
            return False
        return folder or not self.include or any(match(p) for p in self.include)


def _lock(out: Path) -> IO:
    """An exclusive lock on DIR: a second scan into it stops at once instead of mixing its rows in.
    The kernel drops the lock when the process ends, however it ends, so a stale file blocks nothing."""
    fh = open(out / LOCK, "a+", encoding="utf-8")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip()[:40] or "another process"
        fh.close()
        raise ScanBusyError(
            f"another scan ({holder}) is writing to {out}: wait for it to finish, or choose another --out folder"
        ) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}\n")
    fh.flush()
    return fh


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _inside(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def scan_roots(paths: Sequence[str | os.PathLike]) -> list[ScanRoot]:
    """The roots of a scan, each with a unique label (its name, "-2", "-3" ... when names repeat).
    A root is a path on this machine or a URI (`s3://bucket/prefix`, see `gesture_audit.remote`)."""
    if not paths:
        raise ScanUsageError(N_("give at least one folder or file to scan"))
    roots: list[ScanRoot] = []
    reals: list[tuple[str, str]] = []
    for given in paths:
        path = os.fspath(given)
        if is_uri(path):
            real, is_file = _uri_root(path)
        else:
            path = os.path.abspath(path)
            if not os.path.exists(path):
                raise ScanUsageError(N_("{path}: no such file or folder", path=str(given)))
            real, is_file = os.path.realpath(path), os.path.isfile(path)
        for other_path, other_real in reals:
            if _inside(real, other_real) or _inside(other_real, real):
                raise ScanUsageError(
                    N_("{path} and {other} overlap: give only the outer folder", path=str(given), other=other_path)
                )
        reals.append((path, real))
        name = os.path.basename(real.rstrip(os.sep)) or "root"
        label, n = name, 1
        while label in {r.label for r in roots}:
            n += 1
            label = f"{name}-{n}"
        roots.append(ScanRoot(label=label, path=path, is_file=is_file))
    return roots


def _uri_root(uri: str) -> tuple[str, bool]:
    """A URI root's place (scheme://path, or the path on disk for file://) and whether it is one file."""
    try:
        single = is_object(uri)
    except FileNotFoundError:
        raise ScanUsageError(N_("{uri}: nothing there", uri=uri)) from None
    except (OSError, ValueError) as e:
        raise ScanUsageError(N_("{uri}: cannot be listed ({why})", uri=uri, why=str(e))) from None
    where = local_path(uri) or uri.split("?", 1)[0].rstrip("/")
    return where, single


def plan_scan(
    paths: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    resume: bool = False,
    election: dict | None = None,
    options: dict | None = None,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> ScanPlan:
    """Check the arguments, prepare DIR, and (with `resume`) repair and read what is already done.

    Raises ScanUsageError: a root is missing or roots overlap, DIR lies inside a root, DIR holds
    findings and `resume` is off, or `resume` is on but DIR holds a scan of other roots;
    ScanBusyError: another scan holds DIR's lock; ScanStateError: DIR's scan.json is damaged.
    On success DIR is locked until `plan.release()`.
    """
    roots = scan_roots(paths)
    out = Path(os.path.abspath(os.fspath(out)))
    out_real = os.path.realpath(out)
    for root in roots:
        on_disk = local_path(root.path) if is_uri(root.path) else root.path
        if on_disk is None:
            continue
        if not root.is_file and _inside(out_real, os.path.realpath(on_disk)):
            raise ScanUsageError(
                N_(
                    "--out {out} is inside the scanned folder {root}: nothing may be "
                    "written there; choose a folder outside it",
                    out=str(out),
                    root=root.path,
                )
            )
        if root.is_file and out_real == os.path.realpath(on_disk):
            raise ScanUsageError(N_("--out {out} is one of the files to scan", out=str(out)))
    if out.exists() and not out.is_dir():
        raise ScanUsageError(N_("--out {out} exists and is not a folder", out=str(out)))
    out.mkdir(parents=True, exist_ok=True)
    lock = _lock(out)
    try:
        plan = _plan(roots, out, resume, election, options, lock)
    except BaseException:
        lock.close()
        raise
    plan.include, plan.exclude = tuple(include), tuple(exclude)
    return plan


def _plan(
    roots: list[ScanRoot], out: Path, resume: bool, election: dict | None, options: dict | None, lock: IO
) -> ScanPlan:
    findings = out / FINDINGS
    has_rows = findings.is_file() and findings.stat().st_size > 0
    record = ScanRecord(
        roots=roots,
        election=election or {},
        version=__version__,
        started=_now(),
        options=options or {},
        id=uuid.uuid4().hex[:16],
    )
    if has_rows and not resume:
        raise ScanUsageError(
            N_(
                "{findings} already holds findings: pass --resume to finish that scan, or choose another --out folder",
                findings=str(findings),
            )
        )
    done: dict[str, str] = {}
    repaired = 0
    if resume:
        previous = ScanRecord.load(out)
        if previous is not None:
            if [(r.label, r.path) for r in previous.roots] != [(r.label, r.path) for r in roots]:
                was = " ".join(r.path for r in previous.roots)
                raise ScanUsageError(
                    N_(
                        "{out} holds a scan of {was}: --resume needs the same folders, in the same order",
                        out=str(out),
                        was=was,
                    )
                )
            if election and previous.election and previous.election.get("source") != election.get("source"):
                raise ScanUsageError(
                    N_(
                        "{out} was scanned under election {source}: --resume needs the same --election",
                        out=str(out),
                        source=previous.election.get("source"),
                    )
                )
            profile, was = record.options.get("profile", "default"), previous.options.get("profile", "default")
            if profile != was:
                raise ScanUsageError(
                    N_(
                        "{out} was scanned with the {was} profile: --resume needs the same (add or drop --fast)",
                        out=str(out),
                        was=was,
                    )
                )
            record.started = previous.started or record.started
            record.id = previous.scan_id
        done, repaired = repair_findings(findings)
    record.save(out)
    return ScanPlan(out=out, record=record, done=done, repaired=repaired, lock=lock)


def walk(plan: ScanPlan) -> Iterator[ScanFile]:
    """Every file under the plan's roots, once, in name order, archive members included; DIR
    itself is never entered. Photos of social-media exports carry their post; the exports' own
    metadata files are left out (counted in `plan.skipped`).

    The real trees come first; symbolic links are followed afterwards, so that a file reached
    both directly and through a link is listed under its own path, and a link to somewhere
    already listed (a loop, a shortcut) adds nothing.
    """
    files = list(_walk(plan))  # whole: an export's metadata may come after its photos
    posts, metadata = find_posts((f.path, f.source) for f in files if f.error is None)
    for item in files:
        if item.path in metadata:
            plan.skipped["export metadata file"] += 1
            continue
        post = posts.get(item.path)
        item.post = post.to_dict() if post else None
        yield item


def _walk(plan: ScanPlan) -> Iterator[ScanFile]:
    seen: set[tuple[int, int]] = set()
    try:
        st = os.stat(plan.out)
        seen.add((st.st_dev, st.st_ino))
    except OSError:
        pass
    links: deque[tuple[ScanRoot, str, str]] = deque()
    for root in plan.record.roots:  # a root may itself be a link: followed like one, but first
        if is_uri(root.path):
            yield from _objects(plan, root)
        else:
            yield from _follow(plan, root, root.path, "", seen, links)
    while links:
        yield from _follow(plan, *links.popleft(), seen, links)


def _follow(plan: ScanPlan, root: ScanRoot, path: str, rel: str, seen: set, links: deque) -> Iterator[ScanFile]:
    """The file or folder at `path` (stat followed through links), if not seen before."""
    row = plan.record.row_path(root, rel)
    try:
        st = os.stat(path)
    except OSError as e:
        if os.path.islink(path):
            why = "a symbolic link loop" if e.errno == errno.ELOOP else "a broken symbolic link (its target is missing)"
        else:
            why = f"cannot read its metadata ({e.strerror or e})"
        yield ScanFile(row, Path(path), why)
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        plan.skipped["folder link" if stat.S_ISDIR(st.st_mode) else "file link"] += 1
        return
    if rel and not plan.wanted(rel, folder=stat.S_ISDIR(st.st_mode)):  # a root is scanned as given
        plan.excluded += 1
        return
    seen.add(key)
    if stat.S_ISDIR(st.st_mode):
        yield from _tree(plan, root, path, rel, seen, links)
    elif stat.S_ISREG(st.st_mode):
        yield from _file(plan, row, path)
    else:
        yield _special(row, path, st.st_mode)


def _file(plan: ScanPlan, row: str, path: str) -> Iterator[ScanFile]:
    """A regular file: one row (a skipped one if it is not a photo), or an archive's members (one
    row for the archive if it is refused)."""
    if not is_archive(path):
        yield _regular(row, path)
        return
    try:
        members = list_archive(path, row, skipped=plan.skipped)
    except (ArchiveError, OSError) as e:
        yield ScanFile(
            row, Path(path), f"cannot open this archive: {e.strerror or e}" if isinstance(e, OSError) else str(e)
        )
        return
    for m in members:
        yield ScanFile(m.row, m.member or Path(path), m.error)


def _regular(row: str, path: str | RemoteFile) -> ScanFile:
    source = path if isinstance(path, RemoteFile) else Path(path)
    if is_photo(path):
        return ScanFile(row, source)
    suffix = os.path.splitext(source.name)[1]
    return ScanFile(row, source, skipped=f"not a photo ({f'a {suffix} file' if suffix else 'no image content'})")


def _objects(plan: ScanPlan, root: ScanRoot) -> Iterator[ScanFile]:
    """The files under a URI root, in name order, read later by whoever checks them."""
    try:
        files = list_uri(root.path)
    except (OSError, ValueError) as e:
        yield ScanFile(plan.record.row_path(root, ""), RemoteFile(root.path, ""), f"cannot list it ({e})")
        return
    left_out: set[str] = set()  # folders the globs leave out, each counted once as a local scan does
    for obj in files:
        rel = obj.relative
        folders = ["/".join(rel.split("/")[:k]) for k in range(1, rel.count("/") + 1)]
        if any(f in left_out for f in folders):
            continue
        unwanted = next((f for f in folders if not plan.wanted(f, folder=True)), None)
        if unwanted is not None or (rel and not plan.wanted(rel)):
            left_out.add(unwanted or rel)
            plan.excluded += 1
            continue
        row = plan.record.row_path(root, rel)
        if is_archive(obj.name):
            yield ScanFile(
                row, obj, "an archive in an object store: not opened (copy it, or mount the store, to scan its members)"
            )
        else:
            yield _regular(row, obj)


def _special(row: str, path: str, mode: int) -> ScanFile:
    kind = SPECIAL_FILES.get(stat.S_IFMT(mode), "not a regular file")
    return ScanFile(row, Path(path), f"not a regular file ({kind}); not opened")


def _tree(plan: ScanPlan, root: ScanRoot, top: str, top_rel: str, seen: set, links: deque) -> Iterator[ScanFile]:
    """The real files under folder `top`; links met on the way are queued on `links`."""
    # An explicit stack rather than recursion: folder depth is up to whoever made the folders.
    stack: list[tuple[str, str]] = [(top, top_rel)]
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            yield ScanFile(
                plan.record.row_path(root, rel + "/" if rel else ""),
                Path(folder),
                f"cannot list this folder ({e.strerror or e})",
            )
            continue
        subfolders = []
        for entry in entries:
            name = f"{rel}/{entry.name}" if rel else entry.name
            try:
                if entry.is_symlink():
                    links.append((root, entry.path, name))
                elif entry.is_dir(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    if (st.st_dev, st.st_ino) in seen:
                        continue
                    if not plan.wanted(name, folder=True):  # not marked seen: a link may still lead in
                        plan.excluded += 1
                        continue
                    seen.add((st.st_dev, st.st_ino))
                    subfolders.append((entry.path, name))
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    key = (st.st_dev, st.st_ino)  # as os.stat gives it for a link to this file
                    if key in seen:
                        continue
                    if not plan.wanted(name):
                        plan.excluded += 1
                        continue
                    seen.add(key)
                    yield from _file(plan, plan.record.row_path(root, name), entry.path)
                else:
                    yield _special(
                        plan.record.row_path(root, name), entry.path, entry.stat(follow_symlinks=False).st_mode
                    )
            except OSError as e:
                yield ScanFile(
                    plan.record.row_path(root, name), Path(entry.path), f"cannot read its metadata ({e.strerror or e})"
                )
        stack.extend(reversed(subfolders))


class Checker(Protocol):
    """What `run_scan` needs of an auditor: `audit.Auditor`, or `distributed.RayAuditor` on a cluster."""

    @property
    def election(self) -> Election: ...

    def check_many(self, sources: Iterable[Input], batch: int = 8) -> Generator[Finding, None, None]: ...


def run_scan(
    plan: ScanPlan,
    auditor: Checker,
    files: list[ScanFile],
    *,
    batch: int = 8,
    on_finding: Callable[[Finding], None] | None = None,
) -> Counter:
    """Check the `files` not already done and append their rows to DIR/findings.jsonl.

    Returns the outcome counts of the rows written (flag / review / clear / error / skipped). Rows are
    written in the order of `files`, each flushed at once; stopping at any point loses at most the rows
    not yet written, which `plan_scan(..., resume=True)` then leaves to do.
    """
    todo = [f for f in files if f.path not in plan.done]
    counts: Counter = Counter()
    readable = [f for f in todo if f.error is None and f.skipped is None]
    results = auditor.check_many((f.source for f in readable), batch=batch)
    with FindingsWriter(plan.out / FINDINGS) as sink:
        try:
            for item in todo:
                if item.error is not None:
                    finding = Finding.failed(None, item.error)
                elif item.skipped is not None:
                    finding = Finding.skip(None, item.skipped)
                else:
                    finding = next(results)
                finding.path, finding.path_hex = path_form(item.path)
                if item.post is not None:
                    with_post(finding, item.post, auditor.election)
                sink.append(finding)
                counts[finding.outcome] += 1
                if on_finding:
                    on_finding(finding)
        finally:
            results.close()
    return counts


def finish_scan(plan: ScanPlan, counts: Counter) -> None:
    """Record in scan.json that the scan ran to its end, with the outcomes of all its files
    (`counts` of this run's rows, as `run_scan` returns them, plus those done before)."""
    total = Counter(plan.done.values())
    total.update(counts)
    plan.record.finished = _now()
    plan.record.options["counts"] = dict(total)
    plan.record.save(plan.out)
