"""What reading text costs a photo, gate and reader apart, and what the gate lets through.

    python -m benchmarks.gate_cost [--clean 100] [--composites 100] [--seed 1] [--repeats 3] [--read]
    python -m benchmarks.gate_cost ... --regions-out before.json   # then, after a change:
    python -m benchmarks.gate_cost ... --compare before.json       # photos whose regions differ

Clean: the throughput suite's dev corpus (`benchmarks.throughput.make_corpus`, the same photos).
Composites: `benchmarks.attributes.make_labels` with `--seed` (text only). One thread, CPU seconds
(time.process_time), each photo's gate run `--repeats` times, the median kept. Per set: the gate's
CPU ms a photo, the share of photos it passes, its regions and their share of the photo's pixels;
on composites its coverage (labels with at least COVERED of their box inside the regions: what the
detector can see). `--read`: the detector + recogniser on the regions too, once a photo
(`TextReader._read_one`, CPU ms). Writes benchmarks/results/gate-<date>-<machine>[-<tag>].json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import cv2
import numpy as np

import benchmarks
from benchmarks import machine, write_results

DEV = benchmarks.DEV
COVERED = 0.9  # of a label's box (the printed card, margins included) inside the gate's regions


def covered(regions: list[np.ndarray], box: list[float], shape: tuple) -> float:
    """The share of `box` (x0, y0, x1, y1) inside the union of `regions`."""
    mask = np.zeros(shape[:2], bool)
    for r in regions:
        x0, y0, x1, y1 = (int(round(v)) for v in r[:4])
        mask[y0:y1, x0:x1] = True
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    inside = mask[max(0, y0) : y1, max(0, x0) : x1]
    return float(inside.mean()) if inside.size else 0.0


def measure(images: list[tuple[str, np.ndarray, list]], repeats: int, reader) -> dict:
    from gesture_audit.detect.text import text_regions

    rows = []
    for name, image, boxes in images:
        cpu = []
        for _ in range(repeats):
            start = time.process_time()
            regions = text_regions(image)
            cpu.append(time.process_time() - start)
        row = {
            "name": name,
            "gate_cpu_ms": 1000 * statistics.median(cpu),
            "regions": [[round(float(v), 1) for v in r] for r in regions],
            "area": sum(float((r[2] - r[0]) * (r[3] - r[1])) for r in regions) / (image.shape[0] * image.shape[1]),
            "covered": [covered(regions, b, image.shape) for b in boxes],
        }
        if reader is not None:
            start = time.process_time()
            lines = reader._read_one(image, regions) if regions else []
            row["read_cpu_ms"] = 1000 * (time.process_time() - start)
            row["lines"] = [line.text for line in lines]
        rows.append(row)
    labels = [c for r in rows for c in r["covered"]]
    summary = {
        "photos": len(rows),
        "gate_cpu_ms": round(statistics.mean(r["gate_cpu_ms"] for r in rows), 2),
        "gated": round(sum(bool(r["regions"]) for r in rows) / len(rows), 3),
        "regions": sum(len(r["regions"]) for r in rows),
        "region_area": round(statistics.mean(r["area"] for r in rows), 4),
    }
    if labels:
        summary["labels"] = len(labels)
        summary["covered"] = sum(c >= COVERED for c in labels)
    if reader is not None:
        summary["read_cpu_ms"] = round(statistics.mean(r["read_cpu_ms"] for r in rows), 2)
        summary["lines"] = sum(len(r["lines"]) for r in rows)
    return {"summary": summary, "photos": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clean", type=int, default=100, help="clean dev scenes (the throughput suite's corpus)")
    parser.add_argument("--composites", type=int, default=100, help="rendered text composites")
    parser.add_argument("--seed", type=int, default=1, help="the composites' seed")
    parser.add_argument("--repeats", type=int, default=3, help="gate runs a photo (median)")
    parser.add_argument("--read", action="store_true", help="time the detector + recogniser on the regions too")
    parser.add_argument("--regions-out", type=Path, help="also write every photo's regions here")
    parser.add_argument("--compare", type=Path, help="a --regions-out file: report the photos whose regions differ")
    parser.add_argument("--tag", default="", help="added to the results file's name")
    args = parser.parse_args()
    if not (DEV / "labels.jsonl").is_file():
        raise SystemExit(f"dev photos not found at {DEV}")
    from benchmarks.attributes import make_labels
    from benchmarks.throughput import make_corpus
    from gesture_audit.detect import text as text_module
    from gesture_audit.load import load_image

    cv2.setNumThreads(1)
    reader = text_module.TextReader(threads=1) if args.read else None
    sets = {}
    with tempfile.TemporaryDirectory(prefix="gesture-audit-gate-") as tmp:
        clean = make_corpus("dev", args.clean, Path(tmp) / "clean")
        sets["clean"] = [(c["file"], load_image(Path(tmp) / "clean" / c["file"]), []) for c in clean]
        if args.composites:
            labels = make_labels(Path(tmp) / "composites", args.composites, args.seed, clean_every=10**9)
            rows = [json.loads(line) for line in labels.read_text().splitlines()]
            sets["composites"] = [
                (r["path"], load_image(labels.parent / r["path"]), [a["box"] for a in r["attributes"]])
                for r in rows
                if r["attributes"]
            ]
        results = {name: measure(images, args.repeats, reader) for name, images in sets.items()}
    regions = {f"{name}/{r['name']}": r["regions"] for name, res in results.items() for r in res["photos"]}
    if args.regions_out:
        args.regions_out.write_text(json.dumps(regions))
    record = {
        "date": date.today().isoformat(),
        **machine(),
        "opencv": cv2.__version__,
        "threads": 1,
        "gate_sides": list(text_module.GATE_SIDES),
        "seed": args.seed,
        "repeats": args.repeats,
        "summary": {name: res["summary"] for name, res in results.items()},
    }
    if args.compare:
        before = json.loads(args.compare.read_text())
        differ = [k for k in regions if k in before and regions[k] != before[k]]
        record["compare"] = {"file": args.compare.name, "photos": len(regions), "differ": differ}
    record["photos"] = {name: res["photos"] for name, res in results.items()}
    out = write_results("gate", record, args.tag)
    print(json.dumps({k: record[k] for k in ("summary", "compare") if k in record}, indent=1))
    print("wrote", out)


if __name__ == "__main__":
    main()
