"""`scan --ray` against the local scan: the same photos, the same cores, in one run.

    python -m benchmarks.distributed                  # 320 dev photos, 3 interleaved repeats
    python -m benchmarks.distributed --n 400 --repeats 5

Contenders, interleaved (local, ray-1, ray-2, local, ...) so that drifting load on a shared
machine hits all alike; each is a whole scan from the Python API into a fresh folder, models
loaded inside the timing (a local scan loads them in its process, a Ray scan in its actors):
  local   plan -> walk -> Auditor.check_many -> findings.jsonl (`gesture-audit scan`), ONNX Runtime
          on all cores, `--workers` = cores
  ray-1   `scan_on_ray` with one actor holding all cores (actor_cpus = cores)
  ray-2   two actors with half the cores each
The Ray instance (`ray.init`, num_cpus = cores) is started once before the runs, as a cluster is
already running when `--ray auto` connects to it; its start-up time is recorded separately. Also
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
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "data" / "dev"
RESULTS = REPO / "benchmarks" / "results"


def cpu() -> dict:
    """CPU model and the ISA extensions that matter to ONNX Runtime, from /proc/cpuinfo."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")
    return {"model": fields.get("model name", platform.processor()), "flags": [f for f in wanted if f in flags],
            "cores": os.cpu_count(), "load_average_before": os.getloadavg()}


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


def scan_local(folder: Path, out: Path, batch: int, cores: int) -> None:
    from gesture_audit.audit import Auditor
    from gesture_audit.scan import finish_scan, plan_scan, run_scan, walk

    auditor = Auditor(workers=cores)
    plan = plan_scan([folder], out)
    finish_scan(plan, run_scan(plan, auditor, list(walk(plan)), batch=batch))


def scan_ray(folder: Path, out: Path, batch: int, cores: int, actors: int) -> None:
    from gesture_audit.distributed import scan_on_ray

    scan_on_ray([folder], out, actors=actors, actor_cpus=cores / actors, batch=batch, workers=cores)


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
    work = Path(tempfile.mkdtemp(prefix="ga-bench-ray-"))
    temp = tempfile.mkdtemp(prefix="/tmp/ga-ray-")
    try:
        folder = work / "photos"
        n = make_corpus(args.n, folder)
        started = time.perf_counter()
        ray.init(num_cpus=cores, include_dashboard=False, object_store_memory=200 * 1024 * 1024, _temp_dir=temp,
                 log_to_driver=False)
        ray_start = time.perf_counter() - started
        contenders = {"local": lambda out: scan_local(folder, out, args.batch, cores),
                      "ray-1": lambda out: scan_ray(folder, out, args.batch, cores, 1),
                      "ray-2": lambda out: scan_ray(folder, out, args.batch, cores, 2)}
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
    record = {"date": date.today().isoformat(), "machine": platform.node(), "cpu": cpu(),
              "load_average_after": os.getloadavg(), "shared_machine": True,
              "python": platform.python_version(), "onnxruntime": onnxruntime.__version__, "ray": ray.__version__,
              "photos": n, "batch": args.batch, "repeats": args.repeats,
              "threads": {"local": f"ONNX Runtime {cores}, decode {cores}",
                          "ray-1": f"1 actor x ONNX Runtime {cores}, decode {cores}",
                          "ray-2": f"2 actors x ONNX Runtime {max(1, round(cores / 2))}, decode {cores}"},
              "ray_init_s": round(ray_start, 2), "seconds": {k: [round(x, 2) for x in v] for k, v in seconds.items()},
              "median_s": {k: round(v, 2) for k, v in median.items()},
              "photos_per_s": {k: round(n / v, 2) for k, v in median.items()},
              "overhead_vs_local": {k: round(median[k] / median["local"] - 1, 3) for k in differing},
              "rows_differing_from_local": differing}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"distributed-{record['date']}-{platform.node() or 'machine'}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: record[k] for k in ("median_s", "photos_per_s", "overhead_vs_local", "ray_init_s")}))
    print(f"rows differing from local: {sum(map(len, differing.values()))}; written {path}")


if __name__ == "__main__":
    main()
