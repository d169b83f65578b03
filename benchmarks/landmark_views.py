"""Test-time views for the landmark model (issue 20, session 8): is a hand read better from several crops?

    python -m benchmarks.landmark_views --cache /tmp/gesture-audit-thumb --label s8-20z

Each hand `benchmarks.thumb` found (its cached hands: the eight hard thumb poses, 24 renders each;
the grips and handshakes of `--clasp-seeds`; the dev photos) gets three more landmark passes on
the crop MediaPipe tracks it with (`Roi.from_landmarks`): turned +20°, turned -20°, and at 1.3× the
context. The hand's landmarks (image and world) become the median of the chosen views with the
first reading, and the judge reads them as usual. Views are combined for every hand ("all"), where
the reading is unsure (`classify.fingers.unsure`, the refining pass's floor 0.9), where the hand
is small (box's short side under `SMALL` px), or either. Scored as `benchmarks.thumb` scores: the
thumb per pose, grips/handshakes flagged and reviewed, dev fingers/count per set and dev flags kept.

Each extra view is one more landmark-model crop per hand it is run for (3 per gated hand). The
views are cached (pickle) beside `benchmarks.thumb`'s, so scoring again costs seconds.
"""

from __future__ import annotations

import argparse
import copy
from datetime import date
from pathlib import Path

import numpy as np

from benchmarks import machine, thumb, write_results

VIEWS = {"turned +20°": (20.0, 1.0), "turned -20°": (-20.0, 1.0), "context 1.3×": (0.0, 1.3)}
USE: dict[str, list[int] | str] = {
    "median of all": [0, 1, 2],
    "median of turned": [0, 1],
    "median with context": [2],
    "surest presence": "presence",
    "surest finger": "confidence",
}
GATES = ("all", "unsure", "small", "unsure or small")
SMALL = 60.0  # px, box's short side: the hagrid hands with wrong landmarks that are small are 26-51 px


def views(landmarker, image: np.ndarray, hands: list) -> list[list]:
    """Per hand: its landmarks from each of `VIEWS` (one batch for the photo)."""
    from gesture_audit.detect.landmarks import Roi

    crops = []
    for hand in hands:
        base = Roi.from_landmarks(hand.landmarks)
        for turn, scale in VIEWS.values():
            crops.append((image, Roi(base.centre, base.size * scale, base.rotation + np.deg2rad(turn))))
    found = landmarker.run(crops) if crops else []
    k = len(VIEWS)
    return [found[i * k : (i + 1) * k] for i in range(len(hands))]


def combine(hand, seen: list, use, gate: str):
    """The hand read again where `gate` says: with the median landmarks of its first reading and the
    views `use` (a list of view numbers), or with the one reading (first or a view) the landmark model
    is surest holds a hand (`use` "presence") or whose least sure finger is surest ("confidence")."""
    from gesture_audit.classify.fingers import finger_states, unsure

    small = float(min(hand.box[2:] - hand.box[:2])) < SMALL
    doubt = {"all": True, "unsure": unsure(hand, 0.9), "small": small, "unsure or small": small or unsure(hand, 0.9)}
    if not doubt[gate]:
        return hand
    readings = [hand] + [_as_hand(hand, lm.points, lm.world, lm.presence) for lm in seen]
    if use == "presence":
        return max(readings, key=lambda h: (h.presence, h is hand))
    if use == "confidence":
        return max(readings, key=lambda h: (float(finger_states(h).confidence.min()), h is hand))
    chosen = [readings[0]] + [readings[1 + k] for k in use]
    return _as_hand(
        hand,
        np.median(np.stack([h.landmarks for h in chosen]), 0),
        np.median(np.stack([h.world_landmarks for h in chosen]), 0),
    )


def _as_hand(hand, points: np.ndarray, world: np.ndarray, presence: float | None = None):
    out = copy.copy(hand)
    out.presence = hand.presence if presence is None else presence
    out.landmarks, out.world_landmarks = points.astype(np.float32), world.astype(np.float32)
    out.box = np.concatenate([out.landmarks[:, :2].min(0), out.landmarks[:, :2].max(0)])
    return out


def any_view_right(poses: list[dict]) -> dict:
    """Per pose: renders whose thumb the first reading gets right, and those some reading gets right
    (first or a view): what a perfect choice among the views could reach."""
    from gesture_audit.classify.fingers import finger_states
    from gesture_audit.evaluate import LabelledHand, match_hands

    out: dict = {}
    for p in poses:
        row = out.setdefault(p["pose"], {"n": 0, "first": 0, "any view": 0, "every view": 0})
        row["n"] += 1
        j = match_hands([LabelledHand(p["fingers"], None, None, tuple(p["box"]))], [h.box for h in p["hands"]])[0]
        if j is None:
            continue
        hand = p["hands"][j]
        readings = [hand] + [_as_hand(hand, lm.points, lm.world) for lm in p["views"][j]]
        right = [bool(finger_states(h).extended[0]) == (p["fingers"][0] == "1") for h in readings]
        row["first"] += right[0]
        row["any view"] += any(right)
        row["every view"] += all(right)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/gesture-audit-thumb"))
    parser.add_argument("--clasp-seeds", type=int, nargs="*", default=[140, 340])
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    from gesture_audit.detect.landmarks import HandLandmarker
    from gesture_audit.judge.election import load_election
    from gesture_audit.load import load_image
    from gesture_audit.synth.gestures import THUMB_POSES

    landmarker = HandLandmarker(threads=1)
    election = load_election()
    pilkada = load_election(thumb.REPO / "samples" / "elections" / "pilkada-template.toml")

    def with_views(name: str, photos: list[dict], images) -> list[dict]:
        def make():  # renders again only when the views are not cached yet
            for p, image in zip(photos, images()):
                p["views"] = views(landmarker, image, p["hands"])
            return photos

        return thumb.cached(args.cache / f"views-{name}.pkl", make)

    poses = []
    cached = thumb.render_cache(args.cache, 24)
    for name in THUMB_POSES:
        mine = [p for p in cached if p["pose"] == name]
        poses += with_views(f"pose-{name}", mine, lambda name=name: [r["image"] for r in thumb.render_pose(name, 24)])
    clasps = {
        seed: with_views(
            f"clasps-200-seed{seed}",
            thumb.clasp_cache(args.cache, 200, seed),
            lambda seed=seed: [r["image"] for r in thumb.render_clasps(200, seed)],
        )
        for seed in args.clasp_seeds
    }
    dev = thumb.dev_cache(args.cache) if (thumb.DEV / "labels.jsonl").is_file() else {}
    dev_views = thumb.cached(
        args.cache / "views-dev.pkl",
        lambda: {rel: views(landmarker, load_image(thumb.DEV / rel), hands) for rel, hands in dev.items() if hands},
    )
    record: dict = {
        "date": date.today().isoformat(),
        **machine(),
        "views": VIEWS,
        "small_px": SMALL,
        "threads": 1,
        "variants": {},
    }
    base_flags = set(thumb.dev_verdicts(dev, election)["flagged"]) if dev else set()

    def redo(photos: list[dict], use, gate) -> list[dict]:
        return [{**p, "hands": [combine(h, v, use, gate) for h, v in zip(p["hands"], p["views"])]} for p in photos]

    record["thumb_any_view"] = any_view_right(poses)
    print("thumb right per pose, first reading / some reading / every reading:")
    for pose, row in record["thumb_any_view"].items():
        print(f"  {pose:20s} {row['first']}/{row['n']}  {row['any view']}  {row['every view']}")
    for views_name, use in [("none", [])] + list(USE.items()):
        for gate in GATES if use else ("all",):
            key = f"{views_name} / {gate}"
            row: dict = {"renders": thumb.score_renders(redo(poses, use, gate) if use else poses, pilkada)}
            row["clasps"] = {
                seed: thumb.score_clasps(redo(photos, use, gate) if use else photos, election)
                for seed, photos in clasps.items()
            }
            if dev:
                hands = {
                    rel: [combine(h, v, use, gate) for h, v in zip(found, dev_views[rel])] if use and found else found
                    for rel, found in dev.items()
                }
                scores = thumb.score_dev(hands, election)
                verdicts = thumb.dev_verdicts(hands, election)
                row["dev"] = {
                    name: {"fingers_exact": s["fingers_exact"], "count_accuracy": s["count_accuracy"]}
                    for name, s in scores.items()
                    if s["count_accuracy"] is not None
                }
                row["dev_verdicts"] = {k: v for k, v in verdicts.items() if isinstance(v, int)}
                row["dev_flags_lost"] = sorted(base_flags - set(verdicts["flagged"]))
                row["dev_flags_new"] = sorted(set(verdicts["flagged"]) - base_flags)
            record["variants"][key] = row
            print(
                f"{key:24s}",
                " ".join(f"{pose[:9]} {r['thumb']:.3f}" for pose, r in row["renders"].items()),
                "| grips flagged",
                [c["grip"]["flag"] for c in row["clasps"].values()],
                "| dev",
                {name: s["count_accuracy"] for name, s in row.get("dev", {}).items()},
                "flags lost",
                len(row.get("dev_flags_lost", [])),
            )
    out = write_results("landmark-views", record, args.label)
    print(f"wrote {out.relative_to(thumb.REPO)}")


if __name__ == "__main__":
    main()
