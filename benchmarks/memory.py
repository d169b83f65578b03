"""Memory over a run: peak RSS of whole scans of 200 / 2 000 / 10 000 real scene photos, and the
service's RSS after 100 and 1 000 requests.

    python -m benchmarks.memory --scan 200,2000,10000 --serve 100,1000
    python -m benchmarks.memory --scan 200,2000 --arena           # the same with ONNX Runtime's CPU arena on
    python -m benchmarks.memory --chunks 4,8,16,0 --photos 64      # speed of the engine per chunk size

Photos: the scene photos of ../shared/data/dev (sets subhih, epsrc, faces, mediapipe, negatives:
640-1920 px scenes, street photos, groups with faces), copied under new names until the folder holds
N files (never committed). Each scan runs `gesture-audit scan` (default profile) in its own process;
its peak RSS is that process's ru_maxrss. The service runs `gesture-audit serve` on 127.0.0.1; 4
clients send the same photos one by one; RSS is read from /proc after 100 and after 1 000 answers.
`--chunks` times the hand engine (default profile) on the first `--photos` scene photos, decoded
beforehand, in batches of 8, with ONNX Runtime fed chunks of each size (`runtime.MAX_RUN_BATCH`; 0:
the whole batch at once), interleaved (A B C A B C ...), `--repeats` rounds; the median is reported.
Writes benchmarks/results/memory-<date>-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import benchmarks
from benchmarks import RESULTS, results_path

REPO = Path(__file__).resolve().parents[1]
DEV = benchmarks.DEV
SCENE_SETS = ("subhih", "epsrc", "faces", "mediapipe", "negatives")


def machine() -> dict:
    return benchmarks.machine() | {
        "date": date.today().isoformat(),
        "note": "shared 2-core machine, other work running; RSS does not depend on CPU contention",
    }


def scene_photos() -> list[Path]:
    """The scene photos in a fixed shuffled order, so that every run (200 photos as well as 10 000)
    meets the same mix of small scenes and large group photos: the peak is set by the costliest
    photo, and in label order the first few hundred are all 800×600 scenes."""
    rows = [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines() if line.strip()]
    photos = [DEV / r["path"] for r in rows if r["set"] in SCENE_SETS]
    random.Random(0).shuffle(photos)
    return photos


def fill(folder: Path, n: int, photos: list[Path]) -> None:
    """`folder` holding n copies of the scene photos, in 100-file subfolders, each under a new name."""
    for i in range(n):
        src = photos[i % len(photos)]
        dst = folder / f"{i // 100:03d}" / f"photo-{i:05d}{src.suffix.lower()}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            shutil.copyfile(src, dst)


def scan_worker(folder: str, out: str, arena: bool, heap: str = "") -> None:
    """Run in a child process: one whole scan through the CLI, then print its peak RSS. `heap`: a
    contender of benchmarks.heap (glibc malloc settings) instead of the shipped one."""
    import gesture_audit.runtime as runtime
    from gesture_audit.cli import app

    runtime.CPU_ARENA = arena
    if heap:
        from benchmarks.heap import CONTENDERS

        runtime.HEAP, runtime.TRIM_EVERY = CONTENDERS[heap]
    start = time.perf_counter()
    try:
        app(["scan", folder, "--out", out], standalone_mode=False)
    except SystemExit:
        pass
    seconds = time.perf_counter() - start
    rows = sum(1 for _ in open(Path(out) / "findings.jsonl", "rb"))
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": round(seconds, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


def peak_so_far(pid: int) -> float:
    """A running process's peak RSS so far (VmHWM), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def bench_scan(
    sizes: list[int], tmp: Path, arena: bool, heap: str = "", results: dict | None = None, save=lambda: None
) -> dict:
    """Each size scanned in its own process, into `results`; every 30 s its rows so far and peak RSS
    so far are added to its `progress` and `save()` is called, so that a stopped run leaves what it saw."""
    photos = scene_photos()
    folder = tmp / "photos"
    results = {} if results is None else results
    for n in sorted(sizes):
        fill(folder, n, photos)
        out = tmp / f"out-{n}"
        cmd = [sys.executable, "-m", "benchmarks.memory", "--scan-worker", str(folder), str(out)]
        cmd += ["--arena"] if arena else []
        cmd += ["--heap", heap] if heap else []
        results[str(n)] = {"progress": []}
        start = time.perf_counter()
        with subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as child:
            while child.poll() is None:
                time.sleep(30)
                try:
                    findings = out / "findings.jsonl"
                    rows = sum(1 for _ in open(findings, "rb")) if findings.exists() else 0
                    point = {
                        "s": round(time.perf_counter() - start),
                        "rows": rows,
                        "peak_rss_mb": peak_so_far(child.pid),
                    }
                except (OSError, RuntimeError):  # it has just ended
                    continue
                results[str(n)]["progress"].append(point)
                save()
            stdout = child.stdout.read() if child.stdout else ""
        if child.returncode:
            raise RuntimeError(f"the scan of {n} photos exited with {child.returncode}")
        results[str(n)] |= json.loads(stdout.strip().splitlines()[-1])
        print(f"scan {n}: { {k: v for k, v in results[str(n)].items() if k != 'progress'} }", flush=True)
        save()
        shutil.rmtree(out)
    return results


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def bench_serve(counts: list[int], tmp: Path) -> dict:
    import httpx

    sys.path.insert(0, str(REPO / "tests" / "serve"))
    from serve_harness import start_server

    photos = [p.read_bytes() for p in scene_photos() if p.stat().st_size < 2_000_000]
    server = start_server(tmp / "serve", "--max-bytes", "2000000", token="memory-benchmark")
    results = {"idle_rss_mb": round(rss_mb(server.process.pid), 1)}
    sent = 0
    try:
        # a long timeout: on a loaded machine a queued request may wait minutes, and this measures memory
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=900) as client:

            def one(i: int) -> int:
                return client.post(
                    "/v1/check", content=photos[i % len(photos)], headers={"Content-Type": "image/jpeg"}
                ).status_code

            with ThreadPoolExecutor(4) as pool:
                for target in sorted(counts):
                    codes = list(pool.map(one, range(sent, target)))
                    bad = [c for c in codes if c != 200]
                    sent = target
                    results[str(target)] = {"rss_mb": round(rss_mb(server.process.pid), 1), "non_200": len(bad)}
                    print(f"serve after {target}: {results[str(target)]}", flush=True)
    finally:
        server.stop()
    return results


def bench_chunks(sizes: list[int], n: int, repeats: int) -> dict:
    """Seconds per photo of `Engine.detect_hands` in batches of 8 for each chunk size, interleaved."""
    import statistics

    from gesture_audit import runtime
    from gesture_audit.audit import default_max_side, hand_engine
    from gesture_audit.load import load_image_with_meta

    engine = hand_engine()
    images = [load_image_with_meta(p, max_side=default_max_side(engine)).image for p in scene_photos()[:n]]
    batches = [images[k : k + 8] for k in range(0, len(images), 8)]
    engine.detect_hands(batches[0])  # warm-up
    seconds: dict[int, list[float]] = {size: [] for size in sizes}
    hands: dict[int, int] = {}
    for round_ in range(repeats):
        for size in sizes:
            runtime.MAX_RUN_BATCH = size or 1 << 30
            start = time.perf_counter()
            hands[size] = sum(len(found) for batch in batches for found in engine.detect_hands(batch))
            seconds[size].append(time.perf_counter() - start)
            print(f"chunks of {size or 'whole'}, round {round_ + 1}: {seconds[size][-1]:.1f} s", flush=True)
    return {
        str(size or "whole"): {
            "median_s": round(statistics.median(seconds[size]), 2),
            "ms_per_photo": round(1000 * statistics.median(seconds[size]) / len(images), 1),
            "runs_s": [round(s, 2) for s in seconds[size]],
            "hands": hands[size],
        }
        for size in sizes
    } | {"photos": len(images), "batch": 8, "repeats": repeats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scan", default="", help="photo counts, e.g. 200,2000,10000")
    parser.add_argument("--serve", default="", help="request counts, e.g. 100,1000")
    parser.add_argument("--arena", action="store_true", help="ONNX Runtime's CPU memory arena on (as before)")
    parser.add_argument("--chunks", default="", help="chunk sizes to time, e.g. 4,8,16,0 (0: whole batch)")
    parser.add_argument("--photos", type=int, default=64, help="scene photos for --chunks")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds for --chunks")
    parser.add_argument("--heap", default="", help="scans with this benchmarks.heap contender's malloc settings")
    parser.add_argument("--scan-worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--name", default="", help="suffix of the result file")
    args = parser.parse_args()
    if args.scan_worker:
        return scan_worker(*args.scan_worker, args.arena, args.heap)
    if not (DEV / "labels.jsonl").is_file():
        sys.exit(f"the photos are copied from the dev set, not found at {DEV}")
    import gesture_audit.runtime as runtime

    record = machine() | {
        "profile": "default",
        "heap": args.heap or {"heap": runtime.HEAP, "trim_every": runtime.TRIM_EVERY},
        "batch": 8,
        "workers": min(4, os.cpu_count() or 1),
        "cpu_arena": args.arena,
        "scan": {},
        "serve": {},
        "chunks": {},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = results_path("memory", record["date"], args.name).name

    def save() -> None:
        (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n")

    with tempfile.TemporaryDirectory(prefix="gesture-audit-memory-") as tmp:
        if args.scan:
            bench_scan([int(s) for s in args.scan.split(",")], Path(tmp), args.arena, args.heap, record["scan"], save)
        if args.chunks:
            record["chunks"] = bench_chunks([int(s) for s in args.chunks.split(",")], args.photos, args.repeats)
        if args.serve:
            record["serve"] = bench_serve([int(s) for s in args.serve.split(",")], Path(tmp))
    save()
    print(f"written to {RESULTS / name}")


if __name__ == "__main__":
    main()
