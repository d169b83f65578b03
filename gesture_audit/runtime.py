"""Model files and inference sessions: ONNX Runtime or OpenVINO, fp32, bf16 or int8.

Models load only from `gesture_audit/models/`, shipped inside the package (or `GESTURE_AUDIT_MODELS`,
or an explicit directory). Every file's sha256 is checked against its `manifest.json`: once per
install, not at every start. A file that passed is stamped in the user's cache
(`$XDG_CACHE_HOME/gesture-audit/verified-models.json`) with its device, inode, size, mtime and
ctime; a later process trusts the stamp only while all five are unchanged. Any write to the file,
or a file put in its place, changes the ctime (which no user call can set back) or the inode, so
such a file is hashed again and refused. Nothing is ever downloaded.

`choose(runtime, precision)` resolves "auto" by the CPU's features (`cpu_features()`) and the measured
profiles (`PROFILES`), and falls back, with one warning, from a runtime that is not installed or a
precision the CPU or the runtime cannot run. `create_session(name, runtime=, precision=)` is the one
place a model becomes a session: the detect models call `session.run(None, {input: batch})` (on at
most MAX_RUN_BATCH items: `in_chunks`) and `session.get_inputs()[0].name` whichever runtime is under them.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import platform
import sys
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: stamps written without a lock (one may be lost: hashed again)
    fcntl = None  # type: ignore[assignment]

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
                raise ModelError(
                    f"{path} has sha256 {digest[:12]}…, manifest expects {entry['sha256'][:12]}…: "
                    "the file is damaged or was replaced; rebuild it with models/convert.py"
                )
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
    so that processes starting together never read half a file, and read, changed and written under
    a lock on `STAMPS.lock`: installs sharing one cache stamping at once lost each other's stamps
    (6 processes, 48 stamps: 35 lost), and a lost stamp means hashing again, and writing into the
    user's cache, at the next start."""
    target = _stamp_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.with_name(STAMPS + ".lock"), "a") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            tmp = target.with_name(f"{STAMPS}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(json.dumps(_stamps() | {path: stamp}))
            os.replace(tmp, target)
    except OSError:
        pass


# The most images one session.run sees: a group photo's pass sends 70+ tiles at once, and ONNX Runtime's
# activations grow with the batch (a 1.9 GB peak in a 2 000-photo scan); fixed chunks bound them.
# Peak RSS on 21 large scenes: 1.88 GB whole, 1.15 GB in chunks of 16, 0.78 GB in chunks of 4.
MAX_RUN_BATCH = 4


def in_chunks(step: Callable[[list], list], items: list, size: int | None = None) -> list:
    """`step(items)` on chunks of at most `size` (default MAX_RUN_BATCH) items, results concatenated:
    a model's preprocess -> infer -> postprocess one chunk at a time, so that the float inputs of a
    batch's group-photo tiles (192² × 3 floats, 0.44 MB each, tens per photo) never exist at once:
    the peak no longer depends on how many costly photos share a batch."""
    size = size or MAX_RUN_BATCH
    return [result for k in range(0, len(items), size) for result in step(items[k : k + size])]


# glibc's malloc keeps freed memory for reuse: it raises its mmap threshold to the largest block
# freed (up to 32 MiB), so photo-sized arrays come from the heap after the first one, and the heap
# of every thread's arena then grows: a scan's RSS rose with the photos it met and the service's
# with its requests (benchmarks/README.md, "Memory"). HEAP is what `bound_heap` sets (mallopt), and
# `release_memory` returns freed pages every TRIM_EVERY batches (0: never). At most 2 arenas (not 8
# per core) and a trim after each batch: a scan of 200 scene photos peaks at 275 MB (glibc's
# defaults: 333 MB) for 3.3 s of system CPU (defaults: 1.3 s), and 2 000 photos at 294 MB. The 1 MiB
# mmap threshold used before peaked at 235 MB but cost 15.6 s of system CPU, every photo-sized buffer
# mapped and zero-filled anew (benchmarks/README.md, "Heap settings", medians of 2 runs).
HEAP: dict[str, int] = {"arena_max": 2}
TRIM_EVERY = 1
_MALLOPT = {"trim_threshold": -1, "top_pad": -2, "mmap_threshold": -3, "arena_max": -8}  # glibc's malloc.h
_batches = itertools.count(1)  # next() on it is atomic in CPython: the lanes share it without a lock


@functools.cache
def _glibc():
    import ctypes

    if not sys.platform.startswith("linux"):
        return None
    try:
        # The C library already loaded into this process, by its glibc soname: no ctypes.util.find_library,
        # which runs `ldconfig -p` in a subprocess (and opens /dev/null for writing) at every start.
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None  # not musl
    except OSError:
        return None


def bound_heap() -> bool:
    """Set glibc's malloc parameters to HEAP for this process (the CLI does this at start-up, for
    every command; a long-running program using the API may too). False where the C library is not
    glibc (nothing changes)."""
    libc = _glibc()
    return bool(libc) and all(libc.mallopt(_MALLOPT[name], value) for name, value in HEAP.items())


def release_memory() -> None:
    """Give freed heap pages back to the system (glibc's malloc_trim; nothing elsewhere), every
    TRIM_EVERY calls. Called after each judged batch: 0.2 ms measured after a batch of 8 scene
    photos, against the batch's seconds."""
    libc = _glibc()
    if libc is not None and TRIM_EVERY and next(_batches) % TRIM_EVERY == 0:
        libc.malloc_trim(0)


RUNTIMES = ("onnxruntime", "openvino")
PRECISIONS = ("fp32", "bf16", "int8")
# The ISA flags inference speed depends on (what `cpu_features` reports and every results file records).
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")

# The profiles `auto` may pick, per CPU class, fastest first. A profile is listed only if it passed the
# accuracy guard on that class of CPU: `gesture-audit eval` on the dev set within 0.5 points of ONNX
# Runtime fp32 on every set (hand recall, fingers, count), landmarks close to fp32's (median px).
# Source: `python -m benchmarks.runtimes` (benchmarks/results/runtimes-*.json, benchmarks/README.md,
# "Runtimes"). A class nobody has measured yet gets what was measured on the classes below it.
# avx2 (AMD EPYC, 2 cores, 2026-11-30, runtimes-2026-11-30-vm*.json): OpenVINO f32 gives ONNX Runtime's
# figures on the whole dev set (landmarks 0.002 px apart) but ran 1.7-5x slower per model; int8 (either
# runtime, 60 photos a set) dropped up to 3.3 points (asl_digits fingers) and is not offered.
# avx512_vnni (AMD EPYC, 2 cores, 2026-12-02, runtimes-2026-12-02-vm-s10-guard-int8-vnni.json): ONNX Runtime
# int8 (60 photos a set) dropped up to 1.7 points (asl_digits fingers, epsrc count; landmarks 1.7 px median from
# fp32) and is not offered either; the other profiles not measured there yet. No AMX CPU has been measured yet.
PROFILES: dict[str, list[tuple[str, str]]] = {
    "avx2": [("onnxruntime", "fp32"), ("openvino", "fp32")],
}


@functools.cache
def cpu_features() -> dict:
    """The CPU model, its inference-relevant ISA flags (`ISA_FLAGS` it has) and its class: "amx",
    "avx512_vnni", "avx2" or "other". Read from /proc/cpuinfo (Linux); elsewhere flags are empty."""
    model, flags = "", set[str]()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = sorted(f for f in flags if f in ISA_FLAGS)
    kind = (
        "amx"
        if "amx_int8" in flags
        else "avx512_vnni"
        if "avx512_vnni" in flags
        else "avx2"
        if "avx2" in flags
        else "other"
    )
    return {"cpu": model or platform.processor(), "isa": isa, "class": kind}


def bf16_native(features: dict | None = None) -> bool:
    """Whether the CPU computes in bf16 (AMX or AVX512-BF16); elsewhere bf16 only emulates, slower."""
    isa = (features or cpu_features())["isa"]
    return "amx_bf16" in isa or "avx512_bf16" in isa


def installed_runtimes() -> dict[str, str | None]:
    """Each runtime's version, None where its package is not installed."""
    return {name: runtime_version(name) if _installed(name) else None for name in RUNTIMES}


def runtime_version(name: str) -> str | None:
    """A runtime's version from its distribution's metadata, without importing it: importing openvino
    writes usage statistics under ~/intel, which a scan must not do when it runs ONNX Runtime."""
    from importlib import metadata

    for dist in (name, f"{name}-gpu"):  # onnxruntime-gpu installs the onnxruntime module
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


@dataclass(frozen=True)
class Choice:
    """The runtime and precision a process runs its models on, and why."""

    runtime: str
    precision: str
    reason: str

    def to_dict(self) -> dict:
        return {
            "runtime": self.runtime,
            "precision": self.precision,
            "reason": self.reason,
            "version": runtime_version(self.runtime),
            "cpu": cpu_features(),
        }


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """A fallback is said once per process (the CLI resolves first, each Engine again after it)."""
    with _lock:
        if message in _warned:
            return
        _warned.add(message)
    warnings.warn(message, stacklevel=3)


def _installed(name: str) -> bool:
    """Whether `name` can be imported, found without importing it (see runtime_version)."""
    from importlib.util import find_spec

    try:
        return find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def choose(runtime: str = "auto", precision: str = "auto", *, features: dict | None = None) -> Choice:
    """Resolve `runtime` ("auto" | RUNTIMES) and `precision` ("auto" | PRECISIONS) for this machine.
    Raises ValueError for an unknown name; warns (once per process) and falls back (to ONNX Runtime, to fp32) where
    the request cannot run here."""
    if runtime not in ("auto", *RUNTIMES):
        raise ValueError(f"runtime must be auto, {', '.join(RUNTIMES)}, not {runtime!r}")
    if precision not in ("auto", *PRECISIONS):
        raise ValueError(f"precision must be auto, {', '.join(PRECISIONS)}, not {precision!r}")
    features = features or cpu_features()
    if runtime != "auto" and not _installed(runtime):
        _warn_once(f"runtime {runtime} is not installed (pip install 'gesture-audit[{runtime}]'); using onnxruntime")
        runtime = "onnxruntime"
    if runtime == "auto" or precision == "auto":
        classes = ["amx", "avx512_vnni", "avx2"]
        ladder = classes[classes.index(features["class"]) :] if features["class"] in classes else []
        for kind in ladder:
            for r, p in PROFILES.get(kind, []):
                if runtime in ("auto", r) and precision in ("auto", p) and _installed(r):
                    why = (
                        f"the fastest profile that passed the accuracy guard on {kind} CPUs"
                        if runtime == "auto"
                        else f"the fastest {r} profile that passed the accuracy guard on {kind} CPUs"
                    ) + ("" if kind == features["class"] else f" (this CPU is {features['class']}, not measured yet)")
                    return Choice(r, p, why)
        runtime = "onnxruntime" if runtime == "auto" else runtime  # no guarded profile fits: the request as it is
        precision = "fp32" if precision == "auto" else precision
    if precision == "bf16" and (runtime != "openvino" or not bf16_native(features)):
        where = "ONNX Runtime's CPU provider" if runtime != "openvino" else "this CPU (no AMX or AVX512-BF16)"
        _warn_once(f"bf16 is not supported by {where}; using fp32")
        precision = "fp32"
    if (runtime, precision) not in [*PROFILES.get(features["class"], []), ("onnxruntime", "fp32")]:
        _warn_once(
            f"{runtime} {precision} has not passed the accuracy guard on {features['class']} CPUs "
            "(benchmarks/README.md, Runtimes): findings may differ from the fp32 reference"
        )
    return Choice(runtime, precision, "requested")


def model_file(name: str, precision: str, directory=None) -> str:
    """The file a model runs from at `precision`: `<stem>.int8.onnx` for int8 where the manifest lists
    one, else `name` itself (fp32 weights; bf16 is a compile setting, not a file)."""
    if precision != "int8":
        return name
    int8 = name.removesuffix(".onnx") + ".int8.onnx"
    manifest = models_dir(directory) / "manifest.json"
    try:
        listed = int8 in json.loads(manifest.read_text())["files"]
    except (OSError, ValueError, KeyError):
        listed = False
    return int8 if listed else name


class OpenVINOSession:
    """An OpenVINO CPU model compiled from the same ONNX file, with the part of ONNX Runtime's
    `InferenceSession` interface the models use: `get_inputs()`, `get_outputs()` (`.name` each) and
    `run(None, {name: array})` -> outputs in the graph's order. Thread-safe: one infer request per
    thread."""

    @dataclass(frozen=True)
    class Arg:
        name: str

    def __init__(self, path: str, *, threads: int = 0, precision: str = "fp32"):
        import openvino as ov

        core = ov.Core()
        config: dict[str, str | int] = {
            "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = core.compile_model(core.read_model(path), "CPU", config)
        self._inputs = [self.Arg(port.get_any_name()) for port in self.compiled.inputs]
        self._outputs = [self.Arg(port.get_any_name()) for port in self.compiled.outputs]
        self._local = threading.local()

    def get_inputs(self) -> list:
        return self._inputs

    def get_outputs(self) -> list:
        return self._outputs

    def run(self, output_names, feed: dict) -> list:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        result = request.infer(feed)  # copies the outputs (share_outputs=False)
        return [result[port] for port in self.compiled.outputs]


def create_session(
    name: str,
    *,
    directory=None,
    threads: int = 0,
    providers: list[str] | None = None,
    runtime: str = "onnxruntime",
    precision: str = "fp32",
):
    """A session for a verified model on a resolved `runtime` and `precision` (see `choose`);
    `threads=0` lets the runtime choose (all cores). `providers` are ONNX Runtime's (CUDA, TensorRT)."""
    path = str(model_path(model_file(name, precision, directory), directory))
    if runtime == "openvino":
        return OpenVINOSession(path, threads=threads, precision=precision)
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
    # Default: CUDA where this build has it (onnxruntime-gpu; ORT itself retries on the CPU when no GPU
    # answers), else the CPU. TensorRT only when asked: it builds an engine per input shape (minutes).
    wanted = providers or [
        p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()
    ]
    usable = [p for p in wanted if p in ort.get_available_providers()] or ["CPUExecutionProvider"]
    if missing := [p for p in wanted if p not in usable]:
        warnings.warn(
            f"{', '.join(missing)} not available in this onnxruntime build "
            f"(for CUDA: pip install onnxruntime-gpu); {name} runs on {', '.join(usable)}",
            stacklevel=2,
        )
    return ort.InferenceSession(path, options, providers=usable)
