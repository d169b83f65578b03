"""`scan --ray` against the local scan: the same photos, the same cores, in one run.

    python -m benchmarks.distributed                  # 320 dev photos, 3 interleaved repeats
    python -m benchmarks.distributed --n 400 --repeats 5

Contenders, interleaved (local, ray-1, ray-2, local, ...) so that drifting load on a shared
machine hits all alike; each is the whole `gesture-audit scan` command in its own process into a
fresh folder (start-up, models, findings.jsonl, report and evidence included):
  local   `scan`, ONNX Runtime on all cores, `--workers` = cores
  ray-1   `scan --ray ADDRESS --actors 1 --actor-cpus CORES`: one actor holding all cores
  ray-2   `scan --ray ADDRESS --actors 2 --actor-cpus CORES/2`: two actors with half the cores each
The Ray instance (`ray.init`, num_cpus = cores, in this process) is started once before the runs,
as a cluster is already running when `--ray auto` connects to it; its start-up is recorded apart. Also
checked: every row of every Ray scan equals the local row of the same path (hands, verdict, risk,
reasons). Writes benchmarks/results/distributed-<date>-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import benchmarks
from benchmarks import write_results

REPO = Path(__file__).resolve().parents[1]
DEV = benchmarks.DEV


def make_corpus(n: int, out: Path) -> int:
    """n labelled dev photos (every set, in label order, cycling when n is larger), under new names."""
    rows = [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["set"] != "faces"]
    out.mkdir(parents=True, exist_ok=True)
    step = max(1, len(rows) // n)
    for i in range(n):
        src = DEV / rows[(i * step) % len(rows)]["path"]
        shutil.copyfile(src, out / f"{i:05d}{src.suffix.lower()}")
    return n


def scan(folder: Path, out: Path, batch: int, cores: int, *ray: str) -> None:
    """`gesture-audit scan` in its own process, as a user runs it (imports and models included)."""
    cmd = [
        sys.executable,
        "-m",
        "gesture_audit",
        "scan",
        str(folder),
        "--out",
        str(out),
        "--batch",
        str(batch),
        "--workers",
        str(cores),
        *ray,
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=3600)


def rows(out: Path) -> dict[str, dict]:
    return {r["path"]: r for r in map(json.loads, (out / "findings.jsonl").read_text().splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=320)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()

    import onnxruntime
    import ray

    cores = os.cpu_count() or 1
    machine = benchmarks.machine()  # with the load average before the runs
    work = Path(tempfile.mkdtemp(prefix="ga-bench-ray-"))
    temp = tempfile.mkdtemp(prefix="/tmp/ga-ray-")
    try:
        folder = work / "photos"
        n = make_corpus(args.n, folder)
        started = time.perf_counter()
        ray.init(
            num_cpus=cores,
            include_dashboard=False,
            object_store_memory=200 * 1024 * 1024,
            _temp_dir=temp,
            log_to_driver=False,
        )
        ray_start = time.perf_counter() - started
        address = ray.get_runtime_context().gcs_address
        contenders = {
            "local": lambda out: scan(folder, out, args.batch, cores),
            "ray-1": lambda out: scan(
                folder, out, args.batch, cores, "--ray", address, "--actors", "1", "--actor-cpus", str(cores)
            ),
            "ray-2": lambda out: scan(
                folder, out, args.batch, cores, "--ray", address, "--actors", "2", "--actor-cpus", str(cores / 2)
            ),
        }
        seconds: dict[str, list[float]] = {name: [] for name in contenders}
        differing: dict[str, list[str]] = {name: [] for name in contenders if name != "local"}
        for r in range(args.repeats):
            outs = {}
            for name, run in contenders.items():  # interleaved
                outs[name] = work / f"{name}-{r}"
                t = time.perf_counter()
                run(outs[name])
                seconds[name].append(time.perf_counter() - t)
                print(f"repeat {r + 1}: {name} {seconds[name][-1]:.1f} s", flush=True)
            local = rows(outs["local"])
            for name in differing:
                got = rows(outs[name])
                assert sorted(got) == sorted(local) and len(got) == n
                differing[name] += [p for p in local if got[p] != local[p]]
        ray.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(temp, ignore_errors=True)

    median = {name: statistics.median(s) for name, s in seconds.items()}
    record = {
        "date": date.today().isoformat(),
        "machine": platform.node(),
        "cpu": machine,
        "load_average_after": os.getloadavg(),
        "shared_machine": True,
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "ray": ray.__version__,
        "photos": n,
        "batch": args.batch,
        "repeats": args.repeats,
        "threads": {
            "local": f"ONNX Runtime {cores}, decode {cores}",
            "ray-1": f"1 actor x ONNX Runtime {cores}, decode {cores}",
            "ray-2": f"2 actors x ONNX Runtime {max(1, round(cores / 2))}, decode {cores}",
        },
        "ray_init_s": round(ray_start, 2),
        "seconds": {k: [round(x, 2) for x in v] for k, v in seconds.items()},
        "median_s": {k: round(v, 2) for k, v in median.items()},
        "photos_per_s": {k: round(n / v, 2) for k, v in median.items()},
        "overhead_vs_local": {k: round(median[k] / median["local"] - 1, 3) for k in differing},
        "rows_differing_from_local": differing,
    }
    path = write_results("distributed", record)
    print(json.dumps({k: record[k] for k in ("median_s", "photos_per_s", "overhead_vs_local", "ray_init_s")}))
    print(f"rows differing from local: {sum(map(len, differing.values()))}; written {path}")


if __name__ == "__main__":
    main()
