"""Benchmarks: each script measures one claim and writes its raw results to benchmarks/results/."""

from __future__ import annotations

import os
import platform
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The labelled dev photos, beside the repository (never committed): the corpora are made from them.
DEV = REPO.parent / "shared" / "data" / "dev"



def machine() -> dict:
    """What every results file records: the CPU model and the ISA flags inference speed depends on
    (avx2, avx512, vnni, amx, fma), cores, load, and the Python and ONNX Runtime versions."""
    model, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        model = platform.processor()
    import onnxruntime

    isa = sorted(f for f in flags if f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni",
                                           "amx_tile", "amx_int8", "amx_bf16"))
    return {"machine": platform.node(), "cpu": model, "isa": isa, "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg(), "python": platform.python_version(),
            "onnxruntime": onnxruntime.__version__}
