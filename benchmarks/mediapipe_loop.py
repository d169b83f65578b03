"""MediaPipe HandLandmarker as a user would run it: a plain script, one photo at a time.

    python benchmarks/mediapipe_loop.py FOLDER MODEL.task OUT.json [--num-hands 8]

The whole-process contender of `benchmarks.throughput --whole-process`: imports only mediapipe and
OpenCV, so its start-up is MediaPipe's own. Reads FOLDER/corpus.json for the file list, decodes each
photo with cv2.imread (as the in-process contender does), and writes each photo's hand boxes
(x0, y0, x1, y1 around the landmarks, in pixels, as `Hand.box`) to OUT.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import mediapipe as mp
from mediapipe.tasks.python import BaseOptions
from mediapipe.tasks.python.vision import HandLandmarker, HandLandmarkerOptions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("task", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--num-hands", type=int, default=8)
    args = parser.parse_args()
    files = [c["file"] for c in json.loads((args.folder / "corpus.json").read_text())]
    options = HandLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(args.task)), num_hands=args.num_hands)
    found = {}
    with HandLandmarker.create_from_options(options) as landmarker:
        for name in files:
            image = cv2.cvtColor(cv2.imread(str(args.folder / name)), cv2.COLOR_BGR2RGB)
            h, w = image.shape[:2]
            result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=image))
            found[name] = [
                [
                    min(p.x for p in lms) * w,
                    min(p.y for p in lms) * h,
                    max(p.x for p in lms) * w,
                    max(p.y for p in lms) * h,
                ]
                for lms in result.hand_landmarks
            ]
    args.out.write_text(json.dumps(found))


if __name__ == "__main__":
    main()
