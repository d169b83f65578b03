"""Model files and ONNX Runtime sessions.

Models load only from `gesture_audit/models/`, shipped inside the package (or `GESTURE_AUDIT_MODELS`,
or an explicit directory). Every file's sha256 is checked against its `manifest.json`: once per
install, not at every start. A file that passed is stamped in the user's cache
(`$XDG_CACHE_HOME/gesture-audit/verified-models.json`) with its device, inode, size, mtime and
ctime; a later process trusts the stamp only while all five are unchanged. Any write to the file,
or a file put in its place, changes the ctime (which no user call can set back) or the inode, so
such a file is hashed again and refused. Nothing is ever downloaded.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent / "models"
_verified: set[Path] = set()
STAMPS = "verified-models.json"
# ONNX Runtime's CPU arena keeps the largest buffers any batch shape ever needed, per shape, for the
# life of the session: with batches of varying sizes (palm tiles, person crops) a long scan grew to
# gigabytes (benchmarks/README.md, "Memory"). Off: buffers are freed after each call.
CPU_ARENA = False
_lock = threading.Lock()


class ModelError(RuntimeError):
    """A model file is missing or is not the file the manifest describes."""


def models_dir(override: str | os.PathLike | None = None) -> Path:
    return Path(override or os.environ.get("GESTURE_AUDIT_MODELS") or DEFAULT_DIR)


def model_path(name: str, directory: str | os.PathLike | None = None) -> Path:
    """Path of a verified model file; raises ModelError if it is missing or altered."""
    root = models_dir(directory)
    path = (root / name).resolve()
    with _lock:
        if path in _verified:
            return path
        manifest_file = root / "manifest.json"
        if not manifest_file.is_file():
            raise ModelError(f"no manifest.json in {root}: point GESTURE_AUDIT_MODELS at the models folder")
        entry = json.loads(manifest_file.read_text())["files"].get(name)
        if entry is None:
            raise ModelError(f"{name} is not listed in {manifest_file}")
        if not path.is_file():
            raise ModelError(f"model file {path} is missing (see models/README.md to rebuild it)")
        stamp = _stamp(path)
        if _stamps().get(str(path)) != [entry["sha256"], *stamp]:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != entry["sha256"]:
                raise ModelError(f"{path} has sha256 {digest[:12]}…, manifest expects {entry['sha256'][:12]}…: "
                                 "the file is damaged or was replaced; rebuild it with models/convert.py")
            _save_stamp(str(path), [digest, *stamp])
        _verified.add(path)
    return path


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _stamp_file() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gesture-audit" / STAMPS


def _stamps() -> dict:
    """Files already hashed: path -> [sha256, device, inode, size, mtime_ns, ctime_ns]; {} if unreadable."""
    try:
        stamps = json.loads(_stamp_file().read_text())
    except (OSError, ValueError):
        return {}
    return stamps if isinstance(stamps, dict) else {}


def _save_stamp(path: str, stamp: list) -> None:
    """Best effort (a read-only home just means hashing at every start); written whole and renamed,
    so that processes starting together never read half a file."""
    target = _stamp_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{STAMPS}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps(_stamps() | {path: stamp}))
        os.replace(tmp, target)
    except OSError:
        pass


# The most images one session.run sees: a group photo's pass sends 70+ tiles at once, and ONNX Runtime's
# activations grow with the batch (a 1.9 GB peak in a 2 000-photo scan); fixed chunks bound them.
# Peak RSS on 21 large scenes: 1.88 GB whole, 1.15 GB in chunks of 16, 0.78 GB in chunks of 4.
MAX_RUN_BATCH = 4


def run_batched(session, input_name: str, batch, max_batch: int | None = None) -> list:
    """`session.run(None, {input_name: batch})` in chunks of at most `max_batch` (default
    MAX_RUN_BATCH) along the batch axis, outputs concatenated: the same answer with memory bounded by
    the chunk, not by the batch."""
    import numpy as np

    max_batch = max_batch or MAX_RUN_BATCH
    if len(batch) <= max_batch:
        return session.run(None, {input_name: batch})
    parts = [session.run(None, {input_name: batch[k:k + max_batch]}) for k in range(0, len(batch), max_batch)]
    return [np.concatenate(outputs) for outputs in zip(*parts)]


def in_chunks(step: Callable[[list], list], items: list, size: int | None = None) -> list:
    """`step(items)` on chunks of at most `size` (default MAX_RUN_BATCH) items, results concatenated:
    a model's preprocess -> infer -> postprocess one chunk at a time, so that the float inputs of a
    batch's group-photo tiles (192² × 3 floats, 0.44 MB each, tens per photo) never exist at once:
    the peak no longer depends on how many costly photos share a batch."""
    size = size or MAX_RUN_BATCH
    return [result for k in range(0, len(items), size) for result in step(items[k:k + size])]


# glibc's malloc keeps freed memory for reuse: it raises its mmap threshold to the largest block
# freed (up to 32 MiB), so photo-sized arrays come from the heap after the first one, and the heap
# of every thread's arena then grows: a scan's RSS rose with the photos it met and the service's
# with its requests (benchmarks/README.md, "Memory"). A fixed threshold keeps blocks of 1 MiB and more
# (images, tiles, model tensors) in mmaps that go back to the system when freed; `release_memory`
# returns the smaller freed pages after each batch.
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h


@functools.cache
def _glibc():
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None  # not musl
    except OSError:
        return None


def bound_heap() -> bool:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD for this process (the CLI does this at start-up,
    for every command; a long-running program using the API may too). False where the C
    library is not glibc (nothing changes)."""
    libc = _glibc()
    return bool(libc and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_memory() -> None:
    """Give freed heap pages back to the system (glibc's malloc_trim; nothing elsewhere). Called
    after each judged batch: 0.2 ms measured after a batch of 8 scene photos, against the batch's seconds."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def create_session(name: str, *, directory=None, threads: int = 0, providers: list[str] | None = None):
    """An ONNX Runtime session for a verified model. `threads=0` lets ORT choose (all cores)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle ORT threads sleep instead of spinning: the decode threads and the judgement share these
    # cores, and spinning took their time (40 dev photos on 2 cores, other work running:
    # 11.7 -> 20.0 photos/s).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = CPU_ARENA
    options.enable_mem_pattern = CPU_ARENA  # memory patterns are planned per shape, in the arena
    wanted = providers or ["CPUExecutionProvider"]
    usable = [p for p in wanted if p in ort.get_available_providers()] or ["CPUExecutionProvider"]
    if missing := [p for p in wanted if p not in usable]:
        warnings.warn(f"{', '.join(missing)} not available in this onnxruntime build "
                      f"(for CUDA: pip install onnxruntime-gpu); {name} runs on {', '.join(usable)}", stacklevel=2)
    return ort.InferenceSession(str(model_path(name, directory)), options, providers=usable)
