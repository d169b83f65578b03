"""The scan path on a GPU: onnxruntime-gpu's CUDA and TensorRT execution providers, batch 1/8/32/128.

    pip install onnxruntime-gpu   # in place of onnxruntime, on the GPU machine
    python -m benchmarks.gpu --n 240 --workers 16

For each provider set and batch: photos/s of the whole check path (`Auditor.check_many`, decode by
`--workers` threads, default engine) on n dev scenes (benchmarks.throughput's "dev" corpus), and the
model-only rate (palm + landmark sessions on pre-made tensors of that batch): where the two part, the
limit has moved from the models to decoding and the Python around them. CPU (the CPU provider) is
measured beside them. Writes benchmarks/results/gpu-<date>-<machine>.json with the CPU model and
flags, the GPU (nvidia-smi), runtime versions, batches and workers.

Not yet run: no GPU machine was lent to the session that wrote it (benchmarks/README.md says so).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from benchmarks import RESULTS, machine
from benchmarks.throughput import make_corpus

PROVIDERS = {
    "cpu": ["CPUExecutionProvider"],
    "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
}


def gpu_name() -> str | None:
    try:
        return (
            subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None


def scan_rate(paths: list[Path], providers: list[str], batch: int, workers: int) -> dict:
    from gesture_audit.audit import Auditor
    from gesture_audit.detect.engine import EngineOptions

    auditor = Auditor(
        engine=EngineOptions(runtime="onnxruntime", precision="fp32", providers=providers), workers=workers
    )
    list(auditor.check_many(paths[:batch], batch=batch))  # warm-up: TensorRT builds its engines here
    start = time.perf_counter()
    findings = list(auditor.check_many(paths, batch=batch))
    seconds = time.perf_counter() - start
    return {
        "photos_per_s": round(len(paths) / seconds, 2),
        "seconds": round(seconds, 2),
        "hands": sum(len(f.hands) for f in findings),
        "providers_used": auditor.engine.palms.session.get_providers(),
    }


def model_rate(providers: list[str], batch: int, repeats: int = 5) -> dict:
    from gesture_audit.runtime import create_session

    palm = create_session("palm_detection_full.onnx", providers=providers)
    landmark = create_session("hand_landmark_full.onnx", providers=providers)
    rng = np.random.default_rng(0)
    x_palm = {palm.get_inputs()[0].name: rng.random((batch, 192, 192, 3), dtype=np.float32)}
    x_hand = {landmark.get_inputs()[0].name: rng.random((batch, 224, 224, 3), dtype=np.float32)}
    palm.run(None, x_palm), landmark.run(None, x_hand)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        palm.run(None, x_palm)
        landmark.run(None, x_hand)
        times.append(time.perf_counter() - start)
    return {"photos_per_s": round(batch / float(np.median(times)), 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=240)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--batches", default="1,8,32,128")
    parser.add_argument("--providers", default="cpu,cuda,tensorrt")
    args = parser.parse_args(argv)
    import onnxruntime as ort

    available = ort.get_available_providers()
    record = {
        "machine": machine(),
        "gpu": gpu_name(),
        "available_providers": available,
        "workers": args.workers,
        "n": args.n,
        "rows": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        make_corpus("dev", args.n, Path(tmp))
        paths = sorted(p for p in Path(tmp).iterdir() if p.name != "corpus.json")
        for key in args.providers.split(","):
            if PROVIDERS[key][0] not in available:
                print(f"{key}: {PROVIDERS[key][0]} not in this onnxruntime build, skipped", file=sys.stderr)
                continue
            for batch in map(int, args.batches.split(",")):
                row = {
                    "providers": key,
                    "batch": batch,
                    "scan": scan_rate(paths, PROVIDERS[key], batch, args.workers),
                    "models": model_rate(PROVIDERS[key], batch),
                }
                record["rows"].append(row)
                print(
                    f"{key:9} batch {batch:3}: scan {row['scan']['photos_per_s']:7.1f} photos/s, models "
                    f"{row['models']['photos_per_s']:8.1f}",
                    file=sys.stderr,
                )
    out = RESULTS / f"gpu-{date.today()}-{record['machine']['machine']}.json"
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
