"""Runtimes and precisions: model speed, and the accuracy guard that decides which profiles are offered.

    python -m benchmarks.runtimes                      # speed + guard on the whole dev set
    python -m benchmarks.runtimes --speed-only --rounds 7
    python -m benchmarks.runtimes --limit 40           # guard on 40 photos per set (a quick look)

Profiles: ONNX Runtime fp32 (the reference) and int8 (the QDQ files of models/quantize.py), OpenVINO
f32 and int8 (the same ONNX files), and OpenVINO bf16 where the CPU computes in bf16 (AMX or
AVX512-BF16; elsewhere OpenVINO would only emulate it).

- Speed: each model, each profile, batch 1 and 8, random inputs (speed only), `--threads` threads,
  milliseconds per image; the contenders interleaved round by round, medians over rounds.
- Guard: `gesture-audit eval`'s scoring (gesture_audit.evaluate) on the dev set with the default
  engine on each profile: per set hand recall, fingers exact and count; a profile passes when every
  set stays within 0.5 points of ONNX Runtime fp32 on all three. Landmark deviation: the median over
  hands found by both of the mean distance (px, x/y) between a hand's 21 landmarks under the profile
  and under fp32, on the same photos.

Writes benchmarks/results/runtimes-<date>-<machine>.json (CPU model and ISA flags, runtime versions,
threads, batches). `gesture_audit.runtime.PROFILES` is set from these files by hand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

from benchmarks import RESULTS, machine

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "data" / "dev"
MODELS = ["palm_detection_full.onnx", "palm_detection_lite.onnx", "hand_landmark_full.onnx", "hand_landmark_lite.onnx"]
GUARD_POINTS = 0.5  # the tolerance, in percentage points
MEASURES = ("hand_recall", "fingers_exact", "count_accuracy")


def profiles() -> list[tuple[str, str]]:
    from gesture_audit.runtime import bf16_native, installed_runtimes

    found = [("onnxruntime", "fp32"), ("onnxruntime", "int8")]
    if installed_runtimes()["openvino"]:
        found += [("openvino", "fp32"), ("openvino", "int8")] + ([("openvino", "bf16")] if bf16_native() else [])
    return found


def speed(threads: int, rounds: int, batches: tuple[int, ...]) -> list[dict]:
    from gesture_audit.runtime import create_session, model_file

    rng = np.random.default_rng(0)
    cases = []
    for name in MODELS:
        for runtime, precision in profiles():
            if precision == "int8" and model_file(name, "int8") == name:
                continue  # no int8 file for this model
            session = create_session(name, threads=threads, runtime=runtime, precision=precision)
            size = 192 if name.startswith("palm") else 224
            for batch in batches:
                x = rng.random((batch, size, size, 3), dtype=np.float32)
                feed = {session.get_inputs()[0].name: x}
                session.run(None, feed)  # warm-up (OpenVINO compiles the shape)
                cases.append(
                    {
                        "model": name,
                        "runtime": runtime,
                        "precision": precision,
                        "batch": batch,
                        "session": session,
                        "feed": feed,
                        "ms": [],
                    }
                )
    for _ in range(rounds):
        for case in cases:
            reps = max(1, 16 // case["batch"])
            start = time.perf_counter()
            for _ in range(reps):
                case["session"].run(None, case["feed"])
            case["ms"].append((time.perf_counter() - start) * 1000 / reps / case["batch"])
    return [
        {k: v for k, v in case.items() if k not in ("session", "feed")}
        | {"ms_per_image": round(statistics.median(case["ms"]), 3)}
        for case in cases
    ]


class Recorder:
    """The engine, keeping every photo's landmarks (in call order) for the deviation from fp32."""

    def __init__(self, engine):
        self.engine, self.hands = engine, []

    def detect_hands(self, images):
        found = self.engine.detect_hands(images)
        self.hands += [[h.landmarks[:, :2].copy() for h in hands] for hands in found]
        return found


def deviation(reference: list[list[np.ndarray]], other: list[list[np.ndarray]]) -> dict:
    """Median px between matched hands (nearest landmark centre, within half the hand's size)."""
    dist, unmatched = [], 0
    for ref_hands, hands in zip(reference, other):
        for ref in ref_hands:
            size = np.ptp(ref, axis=0).max()
            near = [
                np.linalg.norm(h - ref, axis=1).mean()
                for h in hands
                if np.linalg.norm(h.mean(0) - ref.mean(0)) < size / 2
            ]
            if near:
                dist.append(min(near))
            else:
                unmatched += 1
    return {
        "median_px": round(float(np.median(dist)), 3) if dist else None,
        "p90_px": round(float(np.percentile(dist, 90)), 3) if dist else None,
        "hands_matched": len(dist),
        "hands_unmatched": unmatched,
    }


def guard(threads: int, limit: int | None, batch: int, only: list[str] | None = None) -> dict:
    from gesture_audit.audit import hand_engine
    from gesture_audit.detect.engine import EngineOptions
    from gesture_audit.evaluate import evaluate
    from gesture_audit.judge.election import load_election

    election = load_election(None)
    rows, landmarks = {}, {}
    for runtime, precision in profiles():
        if only and f"{runtime}-{precision}" not in only and (runtime, precision) != ("onnxruntime", "fp32"):
            continue
        recorder = Recorder(hand_engine(EngineOptions(runtime=runtime, precision=precision, threads=threads)))
        start = time.perf_counter()
        result = evaluate(DEV / "labels.jsonl", recorder, election, limit=limit, batch=batch)
        key = f"{runtime}-{precision}"
        rows[key] = {
            "seconds": round(time.perf_counter() - start, 1),
            "sets": {
                name: {m: s.to_dict()[m] for m in ("images", "hands", *MEASURES)} for name, s in result.sets.items()
            },
        }
        landmarks[key] = recorder.hands
        print(f"guard {key}: {rows[key]['seconds']} s", file=sys.stderr)
    reference = rows["onnxruntime-fp32"]["sets"]
    for key, row in rows.items():
        worst = 0.0
        for name, scores in row["sets"].items():
            for m in MEASURES:
                if scores[m] is not None and reference[name][m] is not None:
                    worst = max(worst, round((reference[name][m] - scores[m]) * 100, 2))
        row["worst_drop_points"] = worst
        row["passes"] = worst <= GUARD_POINTS
        row["landmarks_vs_fp32"] = deviation(landmarks["onnxruntime-fp32"], landmarks[key])
    return rows


def tables(record: dict) -> str:
    """The markdown tables of benchmarks/README.md ("Runtimes") from a results file."""
    out = []
    if "speed" in record:
        cases = record["speed"]["cases"]
        profiles_seen = list(dict.fromkeys(f"{c['runtime']} {c['precision']}" for c in cases))
        out += ["| model | batch | " + " | ".join(profiles_seen) + " |", "|---|---|" + "---|" * len(profiles_seen)]
        for name in dict.fromkeys(c["model"] for c in cases):
            for batch in record["speed"]["batches"]:
                cells = {
                    f"{c['runtime']} {c['precision']}": f"{c['ms_per_image']:.2f}"
                    for c in cases
                    if c["model"] == name and c["batch"] == batch
                }
                out.append(f"| {name} | {batch} | " + " | ".join(cells.get(k, "–") for k in profiles_seen) + " |")
        out.append("")
    if "guard" in record:
        rows = record["guard"]["profiles"]
        sets = list(rows["onnxruntime-fp32"]["sets"])
        out += [
            "| profile | " + " | ".join(sets) + " | worst drop (points) | landmarks vs fp32 (median / p90 px) "
            "| passes |",
            "|---|" + "---|" * (len(sets) + 3),
        ]
        for key, row in rows.items():
            cells = [
                " / ".join("–" if row["sets"][s][m] is None else f"{row['sets'][s][m] * 100:.1f}" for m in MEASURES)
                for s in sets
            ]
            lm = row["landmarks_vs_fp32"]
            out.append(
                f"| {key} | " + " | ".join(cells) + f" | {row['worst_drop_points']:.2f} | "
                f"{lm['median_px']} / {lm['p90_px']} | {'yes' if row['passes'] else 'no'} |"
            )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8, help="photos per engine call in the guard")
    parser.add_argument("--limit", type=int, default=None, help="at most N photos per set in the guard")
    parser.add_argument(
        "--profiles", help="guard only these (e.g. openvino-fp32,onnxruntime-int8) beside the fp32 reference"
    )
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--guard-only", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--tables", type=Path, nargs="+", help="print the README tables of these results files")
    args = parser.parse_args(argv)
    if args.tables:
        for path in args.tables:
            print(tables(json.loads(path.read_text())) + "\n")
        return
    from gesture_audit.runtime import choose, installed_runtimes

    record = {
        "machine": machine(),
        "runtimes": installed_runtimes(),
        "threads": args.threads,
        "note": "shared 2-core machine, other jobs running: timings are noisy, compare within this file",
        "auto": choose().to_dict(),
    }
    if not args.guard_only:
        record["speed"] = {
            "batches": [1, 8],
            "rounds": args.rounds,
            "input": "random (speed only)",
            "cases": speed(args.threads, args.rounds, (1, 8)),
        }
        for case in record["speed"]["cases"]:
            print(
                f"{case['model']:28} {case['runtime']:12} {case['precision']:5} b{case['batch']}: "
                f"{case['ms_per_image']:.2f} ms/image",
                file=sys.stderr,
            )
    if not args.speed_only:
        if not (DEV / "labels.jsonl").is_file():
            sys.exit(f"the guard needs the dev set at {DEV}")
        record["guard"] = {
            "labels": str(DEV / "labels.jsonl"),
            "limit": args.limit,
            "batch": args.batch,
            "tolerance_points": GUARD_POINTS,
            "measures": list(MEASURES),
            "profiles": guard(
                args.threads, args.limit, args.batch, args.profiles.split(",") if args.profiles else None
            ),
        }
    out = args.out or RESULTS / f"runtimes-{date.today()}-{record['machine']['machine']}.json"
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(tables(record))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
