"""Hand recall and landmark agreement of the ONNX engine against MediaPipe's HandLandmarker.

    python -m benchmarks.parity [--per-set 60] [--refine 0,1]

For each dev set with hands: labelled-hand recall of MediaPipe and of the engine (same matching as
`gesture-audit eval`), and, where both find a hand (box IoU >= 0.5), the per-landmark distance in
pixels (median, p95), for the default engine and for `EngineOptions.exact()` (MediaPipe Tasks step
for step, its palm-crop quirk included). Writes benchmarks/results/parity-<date>-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import date

import numpy as np

from benchmarks import DEV, write_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-set", type=int, default=60)
    args = parser.parse_args()

    from gesture_audit.audit import hand_engine
    from gesture_audit.detect.core import box_iou
    from gesture_audit.detect.engine import Engine, EngineOptions
    from gesture_audit.detect.reference import MediaPipeHands
    from gesture_audit.evaluate import match_hands, read_labels
    from gesture_audit.load import load_image

    labels = [label for label in read_labels(DEV / "labels.jsonl") if label.hands]
    reference = MediaPipeHands(num_hands=8)
    engines = {"default": hand_engine(), "exact": Engine(EngineOptions.exact())}
    record = {"date": date.today().isoformat(), "machine": platform.node(), "per_set": args.per_set, "sets": {}}
    for name in sorted({label.set for label in labels}):
        rows = [label for label in labels if label.set == name]
        rows = rows[:: max(1, len(rows) // args.per_set)][: args.per_set]
        images = [load_image(DEV / label.path) for label in rows]
        found = {"mediapipe": reference.detect_hands(images)}
        for key, engine in engines.items():
            found[f"onnx_{key}"] = [engine.detect_hands([im])[0] for im in images]
        entry = {"images": len(rows), "hands": sum(len(label.hands) for label in rows)}
        for key, hands in found.items():
            hits = sum(
                m is not None for label, h in zip(rows, hands) for m in match_hands(label.hands, [x.box for x in h])
            )
            entry[f"recall_{key}"] = round(hits / entry["hands"], 4)
        for key in found:
            if key == "mediapipe":
                continue
            dist = []
            for ours, theirs in zip(found[key], found["mediapipe"]):
                for hand in theirs:
                    best = max(ours, key=lambda h: box_iou(h.box, hand.box), default=None)
                    if best is not None and box_iou(best.box, hand.box) >= 0.5:
                        dist.append(np.linalg.norm(best.landmarks[:, :2] - hand.landmarks[:, :2], axis=1))
            d = np.concatenate(dist) if dist else np.zeros(0)
            entry[f"landmark_px_{key}"] = {
                "hands": len(dist),
                "median": round(float(np.median(d)), 3) if len(d) else None,
                "p95": round(float(np.percentile(d, 95)), 3) if len(d) else None,
            }
        record["sets"][name] = entry
        print(name, json.dumps(entry), flush=True)
    out = write_results("parity", record)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
