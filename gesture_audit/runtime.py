"""Model files and ONNX Runtime sessions.

Models load only from `gesture_audit/models/`, shipped inside the package (or `GESTURE_AUDIT_MODELS`,
or an explicit directory). Every file's sha256 is checked against its `manifest.json` once per process.
Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent / "models"
_verified: set[Path] = set()
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
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry["sha256"]:
            raise ModelError(f"{path} has sha256 {digest[:12]}…, manifest expects {entry['sha256'][:12]}…: "
                             "the file is damaged or was replaced; rebuild it with models/convert.py")
        _verified.add(path)
    return path


def available_providers() -> list[str]:
    import onnxruntime as ort

    return ort.get_available_providers()


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
    wanted = providers or ["CPUExecutionProvider"]
    usable = [p for p in wanted if p in ort.get_available_providers()] or ["CPUExecutionProvider"]
    if missing := [p for p in wanted if p not in usable]:
        warnings.warn(f"{', '.join(missing)} not available in this onnxruntime build "
                      f"(for CUDA: pip install onnxruntime-gpu); {name} runs on {', '.join(usable)}", stacklevel=2)
    return ort.InferenceSession(str(model_path(name, directory)), options, providers=usable)
