"""Group photos: recall of small hands and milliseconds per photo, single pass vs group pass vs MediaPipe.

    python -m benchmarks.groups                      # all corpora
    python -m benchmarks.groups --corpus mosaic --mosaics 10
    python -m benchmarks.groups --no-mediapipe

Corpora, made in memory from ../shared/data/dev (never committed) and the synth renderer:
  mosaic  16 consecutive `subhih` scenes (800×600, boxed hands) in a 4×4 grid: one 3200×2400 photo,
          labelled boxes shifted with their scene. Also scores person assignment: a hand tied to a face
          is right when both lie in the same scene.
  synth   `gesture_audit.synth.render_group`: 4-16 people in a row, 3200×2000 and 4000×2500.
  negatives  the dev set's street and stage photos with people and no ballot sign (hands found, ms).
  single  photos of one person's hand(s) (subhih, hagrid, epsrc, mediapipe): as stored (≤ 800 px) and
          re-encoded at 1600-4000 px ("phone", as `Auditor` decodes at max_side 1920 or more), to check
          that the group pass leaves them alone: same hands, same speed.
Contenders: the engine with `groups=None` (single pass), the engine as shipped (group pass on),
MediaPipe's HandLandmarker with num_hands 8 and 64. Each photo is run by every contender in turn, so
drifting machine load hits all alike; times are medians and means over photos, decode excluded.
Writes benchmarks/results/groups-<date>-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import date
from pathlib import Path

import cv2
import numpy as np

import benchmarks
from benchmarks import RESULTS, results_path
from gesture_audit.detect.core import box_iou

REPO = Path(__file__).resolve().parents[1]
DEV = benchmarks.DEV
SCENE = (800, 600)
IOU = 0.25


def dev_rows() -> list[dict]:
    return [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines() if line.strip()]


def load_scene(row: dict) -> tuple[np.ndarray, list[np.ndarray]]:
    """A subhih scene at 800×600 (three are stored at 1600×1200) and its hand boxes."""
    from gesture_audit.load import load_image

    image = load_image(DEV / row["path"])
    scale = SCENE[0] / image.shape[1]
    if scale != 1:
        image = cv2.resize(image, SCENE, interpolation=cv2.INTER_AREA)
    return image, [np.array(h["box"], np.float32) * scale for h in row["hands"] if h.get("box")]


def mosaic(rows: list[dict], cols: int = 4) -> dict:
    """Scenes in a grid; each box carries the index of its scene (`cells`)."""
    w, h = SCENE
    image = np.zeros((h * -(-len(rows) // cols), w * cols, 3), np.uint8)
    boxes, cells = [], []
    for k, row in enumerate(rows):
        scene, scene_boxes = load_scene(row)
        x, y = w * (k % cols), h * (k // cols)
        image[y : y + h, x : x + w] = scene
        boxes += [b + np.array([x, y, x, y], np.float32) for b in scene_boxes]
        cells += [k] * len(scene_boxes)
    return {"name": f"mosaic-{rows[0]['path']}", "image": image, "boxes": boxes, "cells": cells}


def mosaics(n: int) -> list[dict]:
    scenes = [r for r in dev_rows() if r["set"] == "subhih"]
    return [mosaic(scenes[16 * k : 16 * k + 16]) for k in range(min(n, len(scenes) // 16))]


def synth_groups(n: int, seed: int = 100) -> list[dict]:
    from gesture_audit.synth import render_group

    photos = []
    for k in range(n):
        people = (4, 8, 12, 16)[k % 4]
        size = ((3200, 2000), (4000, 2500))[(k // 4) % 2]
        r = render_group(people, np.random.default_rng(seed + k), size=size)
        photos.append(
            {
                "name": f"synth-{seed + k}-{people}p",
                "image": r.image,
                "boxes": [np.array(h["box"], np.float32) for h in r.hands],
            }
        )
    return photos


def single_hand_photos(n: int, seed: int = 0) -> list[dict]:
    """One-person photos, as stored and re-encoded at 1600-4000 px ("phone")."""
    from gesture_audit.load import load_image

    rows = [r for r in dev_rows() if r["set"] in ("subhih", "hagrid", "epsrc", "mediapipe") and r["hands"]]
    rng = np.random.default_rng(seed)
    picked = [rows[i] for i in sorted(rng.choice(len(rows), min(n, len(rows)), replace=False))]
    photos = []
    for row in picked:
        image = load_image(DEV / row["path"])
        boxes = [np.array(h["box"], np.float32) for h in row["hands"] if h.get("box")]
        photos.append({"name": row["path"], "image": image, "boxes": boxes, "kind": "stored"})
        scale = rng.uniform(1600, 4000) / max(image.shape[:2])
        big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        ok, jpeg = cv2.imencode(".jpg", big[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
        big = np.ascontiguousarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[:, :, ::-1])
        photos.append(
            {"name": row["path"] + "@phone", "image": big, "boxes": [b * scale for b in boxes], "kind": "phone"}
        )
    return photos


def negatives() -> list[dict]:
    from gesture_audit.load import load_image

    return [
        {"name": r["path"], "image": load_image(DEV / r["path"]), "boxes": []}
        for r in dev_rows()
        if r["set"] == "negatives"
    ]


def matched(boxes: list[np.ndarray], hands) -> int:
    return sum(any(box_iou(b, h.box) >= IOU for h in hands) for b in boxes)


def contenders(with_mediapipe: bool) -> dict:
    from gesture_audit.audit import hand_engine
    from gesture_audit.detect.engine import EngineOptions

    found = {"single_pass": hand_engine(EngineOptions(groups=None)), "group_pass": hand_engine()}
    if with_mediapipe:
        from gesture_audit.detect.reference import MediaPipeHands

        found["mediapipe_8"] = MediaPipeHands(num_hands=8)
        found["mediapipe_64"] = MediaPipeHands(num_hands=64)
    return found


def run(photos: list[dict], detectors: dict, persons: bool = False, repeats: int = 1) -> dict:
    """Every detector on every photo, interleaved; recall, hands found, ms per photo (the fastest
    of `repeats` runs of each photo, which shrugs off other processes' bursts)."""
    stats = {
        name: {"hits": 0, "found": 0, "ms": [], "person_right": 0, "person_wrong": 0, "person_none": 0}
        for name in detectors
    }
    labelled = sum(len(p["boxes"]) for p in photos)
    for photo in photos:
        times = {name: [] for name in detectors}
        found = {}
        for _ in range(repeats):
            for name, detector in detectors.items():
                start = time.perf_counter()
                found[name] = detector.detect_hands([photo["image"]])[0]
                times[name].append((time.perf_counter() - start) * 1000)
        for name, detector in detectors.items():
            hands = found[name]
            stats[name]["ms"].append(min(times[name]))
            stats[name]["hits"] += matched(photo["boxes"], hands)
            stats[name]["found"] += len(hands)
            if persons and name == "group_pass":
                _score_persons(photo, hands, detector, stats[name])
    out = {}
    for name, s in stats.items():
        out[name] = {
            "photos": len(photos),
            "labelled_hands": labelled,
            "matched": s["hits"],
            "recall": round(s["hits"] / max(labelled, 1), 4),
            "hands_found": s["found"],
            "ms_median": round(statistics.median(s["ms"]), 1),
            "ms_mean": round(statistics.fmean(s["ms"]), 1),
        }
        if persons and name == "group_pass":
            out[name]["persons"] = {k: s[f"person_{k}"] for k in ("right", "wrong", "none")}
    return out


def _score_persons(photo: dict, hands, engine, stats: dict) -> None:
    """A hand matched to a labelled box is tied rightly when its face lies in the box's scene."""
    faces = engine.groups.faces([photo["image"]])[0]
    w, h = SCENE

    def cell(box):
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return int(cy // h) * 4 + int(cx // w)

    face_cells = {cell(f.box) for f in faces}
    for box, scene in zip(photo["boxes"], photo["cells"]):
        if scene not in face_cells:
            continue  # this scene shows no face: nobody to tie the hand to
        hand = next((hd for hd in hands if box_iou(box, hd.box) >= IOU), None)
        if hand is None:
            continue
        if hand.person is None:
            stats["person_none"] += 1
        elif cell(faces[hand.person].box) == scene:
            stats["person_right"] += 1
        else:
            stats["person_wrong"] += 1


def single_check(photos: list[dict], detectors: dict, repeats: int) -> dict:
    """Per kind (stored / phone): recall, hands found, ms; and whether the group pass changed a photo."""
    out = {}
    for kind in ("stored", "phone"):
        subset = [p for p in photos if p["kind"] == kind]
        res = run(subset, {k: detectors[k] for k in ("single_pass", "group_pass")}, repeats=repeats)
        changed, ran, found_any = 0, 0, {"single_pass": 0, "group_pass": 0}
        engine = detectors["group_pass"]
        for p in subset:
            a = detectors["single_pass"].detect_hands([p["image"]])[0]
            b = engine.detect_hands([p["image"]])[0]
            changed += len(a) != len(b) or any(
                not np.allclose(x.landmarks, y.landmarks, atol=1e-3) for x, y in zip(a, b)
            )
            ran += engine.groups.applies(p["image"], a)
            found_any["single_pass"] += bool(a)
            found_any["group_pass"] += bool(b)
        res["photos_with_a_hand"] = found_any
        res["photos_changed_by_group_pass"] = changed
        res["group_pass_ran_on"] = ran
        res["slowdown"] = round(res["group_pass"]["ms_mean"] / res["single_pass"]["ms_mean"] - 1, 4)
        out[kind] = res
        print(f"  single/{kind}: {json.dumps(res)}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=["all", "mosaic", "synth", "negatives", "single"], default="all")
    parser.add_argument("--mosaics", type=int, default=30, help="16-scene mosaics (30 = every subhih scene)")
    parser.add_argument("--synth", type=int, default=8, help="rendered group photos")
    parser.add_argument("--single", type=int, default=40, help="one-person photos (each also at phone size)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per one-person photo (fastest kept)")
    parser.add_argument("--no-mediapipe", action="store_true")
    args = parser.parse_args()
    if not (DEV / "labels.jsonl").is_file():
        raise SystemExit(f"dev photos not found at {DEV}")
    detectors = contenders(not args.no_mediapipe)
    for d in detectors.values():  # load and warm every session before timing
        d.detect_hands([np.zeros((2400, 3200, 3), np.uint8)])
    record = {
        "date": date.today().isoformat(),
        "machine": platform.node(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "iou": IOU,
        "corpora": {},
    }
    out = results_path("groups", record["date"])
    if out.is_file():  # a run of some corpora updates those and keeps the others of the same day
        record["corpora"] = json.loads(out.read_text()).get("corpora", {})
    if args.corpus in ("all", "mosaic"):
        record["corpora"]["mosaic"] = run(mosaics(args.mosaics), detectors, persons=True)
        print("  mosaic:", json.dumps(record["corpora"]["mosaic"]), flush=True)
    if args.corpus in ("all", "synth"):
        try:
            photos = synth_groups(args.synth)
        except ImportError:
            print("  synth: gesture_audit.synth.render_group not available, skipped")
        else:
            record["corpora"]["synth"] = run(photos, detectors)
            print("  synth:", json.dumps(record["corpora"]["synth"]), flush=True)
    if args.corpus in ("all", "negatives"):
        record["corpora"]["negatives"] = run(negatives(), detectors)
        print("  negatives:", json.dumps(record["corpora"]["negatives"]), flush=True)
    if args.corpus in ("all", "single"):
        record["corpora"]["single"] = single_check(single_hand_photos(args.single), detectors, args.repeats)
    record["load_average_end"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
