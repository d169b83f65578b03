"""The cost of the heap settings: whole-process `gesture-audit scan` of the same scene photos under
each glibc malloc setting, interleaved (A B C ... A B C ...), timed from outside.

    python -m benchmarks.heap --n 240 --repeats 3
    python -m benchmarks.heap --n 240 --repeats 2 --contenders shipped,none,trim

Photos: the first N of `benchmarks.memory.scene_photos()` (the dev set's scene photos in the memory
table's fixed shuffled order: street scenes and large group photos), copied into one temporary
folder. Each contender is one `gesture-audit scan` process (the CLI's own `main`, started through
`python -c` with `runtime.HEAP` / `runtime.TRIM_EVERY` set first); wall seconds from spawn to exit,
user and system CPU-seconds and peak RSS from wait4. Writes benchmarks/results/heap-<date>-<machine>.json
with the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import benchmarks
from benchmarks import RESULTS, results_path
from benchmarks.memory import fill, scene_photos

MiB = 1 << 20
# name -> (runtime.HEAP, runtime.TRIM_EVERY)
CONTENDERS: dict[str, tuple[dict[str, int], int]] = {
    "shipped": ({"mmap_threshold": MiB}, 1),  # issue 13: mmap threshold 1 MiB, malloc_trim after each batch
    "none": ({}, 0),  # glibc's defaults
    "trim": ({}, 1),
    "trim8": ({}, 8),
    "mmap4": ({"mmap_threshold": 4 * MiB}, 1),
    "mmap8": ({"mmap_threshold": 8 * MiB}, 1),
    "mmap16": ({"mmap_threshold": 16 * MiB}, 1),
    "mmap64": ({"mmap_threshold": 64 * MiB}, 1),  # fixed above photo-sized buffers
    "arena2": ({"arena_max": 2}, 1),
    "mmap32-keep": ({"mmap_threshold": 32 * MiB, "trim_threshold": 64 * MiB, "arena_max": 2}, 1),
}


def run_scan(name: str, folder: Path, batch: int) -> dict:
    heap, every = CONTENDERS[name]
    code = (
        "import gesture_audit.runtime as r; "
        f"r.HEAP = {heap!r}; r.TRIM_EVERY = {every}; "
        "from gesture_audit.cli import main; main()"
    )
    out = Path(tempfile.mkdtemp(prefix="bench-heap-"))
    try:
        cmd = [sys.executable, "-c", code, "scan", str(folder), "--out", str(out / "r"), "--batch", str(batch)]
        with open(out / "stderr.txt", "w+") as err:
            start = time.perf_counter()
            child = subprocess.Popen([*cmd, "--quiet"], cwd=out, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - start
            if code_ := os.waitstatus_to_exitcode(status):
                err.seek(0)
                raise RuntimeError(f"{name} exited with {code_}: {err.read()[-2000:]}")
        rows = [json.loads(line) for line in (out / "r" / "findings.jsonl").read_text().splitlines()]
    finally:
        shutil.rmtree(out)
    return {
        "wall_s": round(seconds, 2),
        "user_s": round(usage.ru_utime, 2),
        "sys_s": round(usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "rows": len(rows),
        "hands": sum(len(r["hands"] or []) for r in rows),
        "verdicts": {v: sum(r["verdict"] == v for r in rows) for v in ("flag", "review", "clear", "error")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=240, help="scene photos")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help=f"from {', '.join(CONTENDERS)}")
    parser.add_argument("--name", default="", help="suffix of the result file")
    args = parser.parse_args()
    if not (benchmarks.DEV / "labels.jsonl").is_file():
        sys.exit(f"the photos are copied from the dev set, not found at {benchmarks.DEV}")
    names = args.contenders.split(",")
    if unknown := [n for n in names if n not in CONTENDERS]:
        sys.exit(f"unknown contenders {unknown}; known: {', '.join(CONTENDERS)}")
    record = {
        "date": date.today().isoformat(),
        **benchmarks.machine(),
        "what": f"whole-process gesture-audit scan of {args.n} dev scene photos (benchmarks.memory order), "
        "default profile; wall from spawn to exit, CPU and peak RSS from wait4",
        "threads": f"ONNX Runtime default (all cores), decode workers min(4, cores) = {min(4, os.cpu_count() or 1)}",
        "batch": args.batch,
        "repeats": args.repeats,
        "contenders": {n: {"heap": CONTENDERS[n][0], "trim_every": CONTENDERS[n][1]} for n in names},
        "runs": {n: [] for n in names},
        "load_average": [],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = results_path("heap", record["date"], args.name).name

    def save() -> None:
        """After every run: a stopped benchmark leaves the runs it made."""
        record["median"] = {
            n: {key: statistics.median(r[key] for r in runs) for key in ("wall_s", "user_s", "sys_s", "peak_rss_mb")}
            for n, runs in record["runs"].items()
            if runs
        }
        (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n")

    import compileall

    compileall.compile_dir(benchmarks.REPO / "gesture_audit", quiet=1)  # byte-code, as `pip install` leaves it
    with tempfile.TemporaryDirectory(prefix="gesture-audit-heap-") as tmp:
        folder = Path(tmp) / "photos"
        fill(folder, args.n, scene_photos())
        for round_ in range(args.repeats):
            for contender in names:
                record["load_average"].append(round(os.getloadavg()[0], 2))
                run = run_scan(contender, folder, args.batch)
                record["runs"][contender].append(run)
                print(f"round {round_ + 1} {contender}: {run}", flush=True)
                save()
    print(json.dumps(record["median"], indent=1))
    print(f"written to {RESULTS / name}")


if __name__ == "__main__":
    main()
