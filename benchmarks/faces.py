"""Candidate matching on the dev faces: the per-threshold table and how small a face may be.

    python -m benchmarks.faces

1. `gesture_audit.identify.eval.evaluate_faces`: the gallery from faces/train (every reference photo
   of each identity, 1-2 here), genuine queries from faces/test, impostors leave-one-identity-out
   plus every face in hagrid/; identification and false match per threshold.
2. Face size: each genuine test photo downscaled so its faces are 16-96 px wide, matched again
   against the same gallery: the distance to the right candidate per width (where `MIN_FACE` in
   `identify/match.py` comes from).
Writes benchmarks/results/faces-<date>-<machine>.json.
"""

from __future__ import annotations

import json
import platform
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from benchmarks import machine
from gesture_audit.identify.eval import DEFAULT_DEV_ROOT, TEST_IDENTITIES, evaluate_faces

RESULTS = Path(__file__).resolve().parent / "results"
WIDTHS = (16, 24, 32, 40, 48, 64, 96)


def face_sizes(root: Path) -> list[dict]:
    from gesture_audit.detect.faces import FaceDetector
    from gesture_audit.identify.embed import FaceEmbedder
    from gesture_audit.identify.gallery import Gallery, reference_photos
    from gesture_audit.identify.match import match_faces
    from gesture_audit.load import load_image

    detector, embedder, gallery = FaceDetector(), FaceEmbedder(), Gallery()
    for folder in sorted(p for p in (root / "train").iterdir() if p.is_dir()):
        gallery.add(folder.name, reference_photos(sorted(folder.iterdir()), detector=detector, embedder=embedder))
    rows = []
    for name, people in TEST_IDENTITIES.items():
        image = load_image(root / "test" / name)
        faces = detector.detect([image])[0]
        width = float(np.mean([f.box[2] - f.box[0] for f in faces]))
        for target in WIDTHS:
            if target >= width:
                continue
            small = cv2.resize(image, None, fx=target / width, fy=target / width, interpolation=cv2.INTER_AREA)
            found = sorted(detector.detect([small])[0], key=lambda f: f.box[0] + f.box[2])
            for match in match_faces(small, found, gallery, embedder=embedder):
                rows.append({"photo": name, "target_width": target,
                             "width": round(float(match.box[2] - match.box[0]), 1), "nearest": match.nearest,
                             "distance": round(match.distance, 4),
                             "matched": match.candidate is not None, "people": people})
    return rows


def main() -> None:
    root = DEFAULT_DEV_ROOT / "faces"
    if not root.is_dir():
        raise SystemExit(f"dev faces not found at {root}")
    result = evaluate_faces(DEFAULT_DEV_ROOT)
    result.pop("faces")
    sizes = face_sizes(root)
    record = {"date": date.today().isoformat(), **machine(), "identification": result, "face_sizes": sizes}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"faces-{record['date']}-{platform.node() or 'machine'}.json"
    out.write_text(json.dumps(record, indent=1) + "\n")
    print("threshold  identified  false-match")
    for r in result["per_threshold"]:
        print(f"{r['threshold']:9.2f}  {r['identification']:10.3f}  {r['false_match']:11.3f}")
    for target in WIDTHS:
        at = [r for r in sizes if r["target_width"] == target]
        if at:
            print(f"faces ~{target:3d} px: {sum(r['matched'] for r in at)}/{len(at)} matched their candidate, "
                  f"max distance {max(r['distance'] for r in at):.3f}")
    print("wrote", out)


if __name__ == "__main__":
    main()
