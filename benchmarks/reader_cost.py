"""What the text reader costs on clean dev scenes at each detector scale: CPU ms per photo.

    python -m benchmarks.reader_cost [--line-detect 24,32] [--every 4]

`TextReader.read` (the gate, the detector in the gated regions, the recogniser) on every
`--every`-th dev photo, one thread (ONNX Runtime and OpenCV), each `detect.text.LINE_DETECT` in turn
on the same photo (interleaved, so a shared machine's load falls on all alike); CPU time
(`time.process_time`), mean and median per photo, and the lines read. Writes
benchmarks/results/reader-cost-<date>-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date

import cv2
import numpy as np

import benchmarks
from benchmarks import machine, write_results

DEV = benchmarks.DEV


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--line-detect", default="24,32", help="LINE_DETECT values, px, taken in turn")
    parser.add_argument("--every", type=int, default=4, help="every k-th dev photo")
    args = parser.parse_args()
    if not (DEV / "labels.jsonl").is_file():
        raise SystemExit(f"dev photos not found at {DEV}")
    from gesture_audit.detect import text as text_module
    from gesture_audit.load import load_image

    cv2.setNumThreads(1)
    values = [int(v) for v in args.line_detect.split(",")]
    reader = text_module.TextReader(threads=1)
    rows = [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines() if line.strip()]
    rows = rows[:: args.every]
    cpu: dict[int, list[float]] = {v: [] for v in values}
    lines = dict.fromkeys(values, 0)
    for row in rows:
        image = load_image(DEV / row["path"])
        for v in values:
            text_module.LINE_DETECT = v
            start = time.process_time()
            lines[v] += len(reader.read([image])[0])
            cpu[v].append(time.process_time() - start)
    summary = {
        str(v): {
            "cpu_ms_mean": round(1000 * float(np.mean(cpu[v])), 2),
            "cpu_ms_median": round(1000 * float(np.median(cpu[v])), 2),
            "lines": lines[v],
        }
        for v in values
    }
    record = {
        "date": date.today().isoformat(),
        **machine(),
        "opencv": cv2.__version__,
        "threads": 1,
        "batch": 1,
        "photos": len(rows),
        "every": args.every,
        "summary": summary,
    }
    out = write_results("reader-cost", record)
    print(json.dumps(summary, indent=1))
    print("wrote", out)


if __name__ == "__main__":
    main()
