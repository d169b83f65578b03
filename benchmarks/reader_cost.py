"""What the text reader costs, per runtime setting and detector scale: CPU ms per photo.

    python -m benchmarks.reader_cost [--runtimes onnxruntime,openvino] [--arena on,off]
        [--line-detect 32] [--every 4] [--composites SEED] [--tag T]

`TextReader.read` (the gate, the detector in the gated regions, the recogniser) on every
`--every`-th dev photo (clean scenes), and with `--composites S` also on 100 rendered text
composites of seed S (`benchmarks.attributes.make_labels`), one thread (ONNX Runtime, OpenVINO and
OpenCV). Contenders: each runtime x ONNX Runtime's CPU arena (`detect.text.CPU_ARENA`; OpenVINO
has none) x `detect.text.LINE_DETECT`, all taken in turn on the same photo, their order reversed
every other photo (A B B A, so a shared machine's load falls on all alike); CPU time
(`time.process_time`), mean and median per photo, the lines read, and on how many photos each read
the same lines (text and box, px) as the first contender. Writes
benchmarks/results/reader-cost-<date>-<machine>[-<tag>].json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import cv2
import numpy as np

import benchmarks
from benchmarks import machine, write_results

DEV = benchmarks.DEV


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtimes", default="onnxruntime", help="reader runtimes, taken in turn")
    parser.add_argument("--arena", default="on", help="ONNX Runtime's CPU arena: on, off or on,off")
    parser.add_argument("--line-detect", default="32", help="LINE_DETECT values, px, taken in turn")
    parser.add_argument("--every", type=int, default=4, help="every k-th dev photo")
    parser.add_argument("--composites", type=int, default=None, help="also 100 text composites of this seed")
    parser.add_argument("--tag", default="", help="suffix of the results file")
    args = parser.parse_args()
    if not (DEV / "labels.jsonl").is_file():
        raise SystemExit(f"dev photos not found at {DEV}")
    from gesture_audit.detect import text as text_module
    from gesture_audit.load import load_image

    cv2.setNumThreads(1)
    readers = {}
    for runtime in args.runtimes.split(","):
        for arena in args.arena.split(",") if runtime == "onnxruntime" else ["-"]:
            text_module.CPU_ARENA = arena == "on"  # read when the reader makes its sessions
            for v in args.line_detect.split(","):
                name = f"{runtime}{'' if arena == '-' else f'-arena-{arena}'}-line{v}"
                readers[name] = (text_module.TextReader(threads=1, runtime=runtime), int(v))
    rows = [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines() if line.strip()]
    photos = {"clean": [DEV / row["path"] for row in rows[:: args.every]]}
    if args.composites is not None:
        from benchmarks.attributes import make_labels
        from gesture_audit.evaluate import read_labels

        out = Path(tempfile.mkdtemp(prefix="reader-cost-"))
        make_labels(out, 100, args.composites, clean_every=100000)
        photos["composites"] = [out / label.path for label in read_labels(out / "labels.jsonl") if label.attributes]
    summary: dict[str, dict] = {}
    for kind, paths in photos.items():
        cpu: dict[str, list[float]] = {name: [] for name in readers}
        lines = dict.fromkeys(readers, 0)
        same = dict.fromkeys(readers, 0)
        for i, path in enumerate(paths):
            image = load_image(path)
            read = {}
            for name in list(readers)[:: 1 if i % 2 == 0 else -1]:
                reader, text_module.LINE_DETECT = readers[name]
                start = time.process_time()
                found = reader.read([image])[0]
                cpu[name].append(time.process_time() - start)
                read[name] = [(line.text, np.round(line.box).tolist()) for line in found]
                lines[name] += len(found)
            first = read[next(iter(readers))]
            for name in readers:
                same[name] += read[name] == first
        summary[kind] = {
            name: {
                "cpu_ms_mean": round(1000 * float(np.mean(cpu[name])), 2),
                "cpu_ms_median": round(1000 * float(np.median(cpu[name])), 2),
                "lines": lines[name],
                "same_lines_as_first": same[name],
            }
            for name in readers
        }
        summary[kind]["photos"] = len(paths)  # type: ignore[assignment]
    record = {
        "date": date.today().isoformat(),
        **machine(),
        "opencv": cv2.__version__,
        "threads": 1,
        "batch": 1,
        "every": args.every,
        "composites_seed": args.composites,
        "summary": summary,
    }
    out = write_results("reader-cost", record, args.tag)
    print(json.dumps(summary, indent=1))
    print("wrote", out)


if __name__ == "__main__":
    main()
