"""Start-up cost: CPU-seconds of a whole `gesture-audit scan` process on one photo, where nearly all
the work is starting (imports, models, sessions) and finishing (reports).

    python -m benchmarks.startup --repeats 5
    python -m benchmarks.startup --repeats 5 --before /tmp/main-tree   # A B A B against another checkout
    python -m benchmarks.startup --phases 240 --repeats 2   # where a whole 240-photo scan's CPU goes

Each contender is a source tree (this one, and `--before` if given: e.g. `git archive main | tar -x
-C /tmp/main-tree`), byte-compiled first (as `pip install` leaves a package), run as
`python -c "from gesture_audit.cli import main; main()" scan PHOTO --out DIR --quiet` with the tree
as the working directory (its package comes first on sys.path), interleaved, after one warm-up run
each (the first run of a tree hashes its model files). user + system CPU-seconds and peak RSS from
wait4, wall from spawn to exit; medians. Also: `gesture-audit --version` and a bare `python -c pass`
for the floor. Writes benchmarks/results/startup-<date>-<machine>.json.
"""

from __future__ import annotations

import argparse
import compileall
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
from benchmarks import RESULTS, results_path, write_results

CLI = "from gesture_audit.cli import main; main()"

# A scan process that notes its CPU-seconds (all threads) as it passes each phase: imports, the engine
# made (models verified, sessions created), the photos checked (run_scan: decode, models, findings.jsonl),
# the reports (evidence JPEGs, summary.csv, report.html); printed last on stderr.
PHASES = r"""
import atexit, json, sys, time
marks = [("start", time.process_time())]
from gesture_audit.cli import main
import gesture_audit.audit as audit, gesture_audit.report as report, gesture_audit.scan as scan
marks.append(("imports", time.process_time()))
def timed(owner, name, before, after):
    inner = getattr(owner, name)
    def run(*args, **kwargs):
        marks.append((before, time.process_time()))
        try:
            return inner(*args, **kwargs)
        finally:
            marks.append((after, time.process_time()))
    setattr(owner, name, run)
timed(audit.Auditor, "__init__", "arguments", "engine")
timed(scan, "run_scan", "walk", "checked")
timed(report, "render_reports", "finish", "reports")
atexit.register(lambda: sys.stderr.write("PHASES " + json.dumps(marks + [("exit", time.process_time())]) + "\n"))
sys.argv = ["gesture-audit", *sys.argv[1:]]
main()
"""


def one_photo() -> Path:
    """The first subhih photo of the dev set (a 1-hand street scene)."""
    for line in (benchmarks.DEV / "labels.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["set"] == "subhih":
            return benchmarks.DEV / row["path"]
    raise SystemExit("no subhih photo in the dev set")


def run(tree: Path, args: list[str]) -> dict:
    """One process; its CPU-seconds, wall, peak RSS, and the PHASES it printed (CPU-seconds in each)."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        args = [a.replace("{out}", str(Path(tmp) / "out")) for a in args]
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, *args], cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        err = child.stderr.read().decode() if child.stderr else ""
        if code := os.waitstatus_to_exitcode(status):
            raise RuntimeError(f"{args} in {tree} exited with {code}: {err[-2000:]}")
    phases = {}
    if "PHASES " in err:
        marks = json.loads(err.rsplit("PHASES ", 1)[1].splitlines()[0])
        phases = {name: round(t - marks[k][1], 3) for k, (name, t) in enumerate(marks[1:])}
    return {
        **({"phases": phases} if phases else {}),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "user_s": round(usage.ru_utime, 3),
        "sys_s": round(usage.ru_stime, 3),
        "wall_s": round(seconds, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", type=Path, help="another source tree to compare against (A B A B)")
    parser.add_argument("--name", default="", help="suffix of the result file")
    parser.add_argument("--phases", type=int, default=0, help="N: CPU-seconds per phase of a scan of N dev scenes")
    args = parser.parse_args()
    if args.phases:
        return phases(args.phases, args.repeats)
    if not (benchmarks.DEV / "labels.jsonl").is_file():
        sys.exit(f"the photo comes from the dev set, not found at {benchmarks.DEV}")
    trees = {"after": benchmarks.REPO} | ({"before": args.before.resolve()} if args.before else {})
    with tempfile.TemporaryDirectory(prefix="bench-startup-photo-") as folder:
        photo = Path(folder) / one_photo().name
        shutil.copyfile(one_photo(), photo)
        contenders = {
            f"scan-1-{label}": (tree, ["-c", CLI, "scan", folder, "--out", "{out}", "--quiet"])
            for label, tree in trees.items()
        } | {
            "version": (benchmarks.REPO, ["-c", CLI, "--version"]),
            "python": (benchmarks.REPO, ["-c", "pass"]),
        }
        for tree in trees.values():
            compileall.compile_dir(tree / "gesture_audit", quiet=1)
        for tree, argv in contenders.values():
            run(tree, argv)  # warm-up: model files hashed and stamped, page cache filled
        runs: dict[str, list[dict]] = {name: [] for name in contenders}
        load = []
        for round_ in range(args.repeats):
            for name, (tree, argv) in contenders.items():
                load.append(round(os.getloadavg()[0], 2))
                runs[name].append(run(tree, argv))
                print(f"round {round_ + 1} {name}: {runs[name][-1]}", flush=True)
    record = {
        "date": date.today().isoformat(),
        **benchmarks.machine(),
        "what": "one whole process per run, 1 dev photo (subhih), default profile, batch 8; "
        "CPU-s from wait4, medians of interleaved runs",
        "threads": f"ONNX Runtime default (all cores), decode workers min(4, cores) = {min(4, os.cpu_count() or 1)}",
        "batch": 8,
        "repeats": args.repeats,
        "trees": {label: str(tree) for label, tree in trees.items()},
        "load_average_per_run": load,
        "runs": runs,
        "median": {n: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for n, rs in runs.items()},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = results_path("startup", record["date"], args.name).name
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["median"], indent=1))
    print(f"written to {RESULTS / name}")


def phases(n: int, repeats: int) -> None:
    """A whole scan of the throughput suite's n dev scenes, in phases (PHASES), `repeats` times."""
    from benchmarks.throughput import make_corpus

    compileall.compile_dir(benchmarks.REPO / "gesture_audit", quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-startup-phases-") as folder:
        make_corpus("dev", n, Path(folder))
        argv = ["-c", PHASES, "scan", folder, "--out", "{out}", "--quiet", "--exclude", "corpus.json"]
        runs = []
        for k in range(repeats + 1):  # the first: warm-up (page cache, model stamps)
            result = run(benchmarks.REPO, argv) | {"load_average": round(os.getloadavg()[0], 2)}
            print(f"run {k}: {result}", flush=True)
            runs += [result] if k else []
    record = {
        "date": date.today().isoformat(),
        **benchmarks.machine(),
        "what": f"one whole `gesture-audit scan` process per run, {n} dev scenes (benchmarks.throughput's corpus), "
        "default profile, batch 8; CPU-seconds (all threads) spent up to each mark, in order: imports (interpreter "
        "and CLI), arguments (typer's parsing, the scan plan), engine (Auditor: models verified, sessions), walk, "
        "checked (run_scan), finish, reports (evidence, CSV, HTML), exit; cpu_s from wait4",
        "threads": "as `gesture-audit scan` (EngineOptions.lanes=0)",
        "batch": 8,
        "runs": runs,
        "median": {k: statistics.median(r["phases"][k] for r in runs) for k in runs[0]["phases"]}
        | {
            "cpu_s": statistics.median(r["cpu_s"] for r in runs),
            "wall_s": statistics.median(r["wall_s"] for r in runs),
        },
    }
    path = write_results("startup", record, f"phases-{n}")
    print(json.dumps(record["median"], indent=1))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
