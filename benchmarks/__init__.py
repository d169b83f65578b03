"""Benchmarks: each script measures one claim and writes its raw results to benchmarks/results/."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The labelled dev photos, beside the repository (never committed): the corpora are made from them.
DEV = REPO.parent / "shared" / "data" / "dev"
RESULTS = REPO / "benchmarks" / "results"


def results_path(kind: str, date: str, tag: str = "") -> Path:
    """Where a benchmark writes its record: results/<kind>-<date>-<machine>[-<tag>].json (kind "" for
    the throughput suite's files, which begin with the date); the folder is made if missing."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS / ("-".join(part for part in (kind, date, platform.node() or "machine", tag) if part) + ".json")


def write_results(kind: str, record: dict, tag: str = "") -> Path:
    """Write a benchmark's record (a dict with its "date") as JSON to `results_path`; returns the path."""
    path = results_path(kind, record["date"], tag)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def machine() -> dict:
    """What every results file records: the CPU model and the ISA flags inference speed depends on
    (avx2, avx512, vnni, amx, fma; read by `gesture_audit.runtime.cpu_features`), cores, load, and the
    Python, ONNX Runtime and OpenVINO versions."""
    from gesture_audit.runtime import cpu_features, installed_runtimes

    features = cpu_features()
    return {
        "machine": platform.node(),
        "cpu": features["cpu"],
        "isa": features["isa"],
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        **installed_runtimes(),
    }
