"""The thumb on hands never seen: hard poses and clasped hands on renders, confusions on the dev photos.

    python -m benchmarks.thumb --label after   # writes results/thumb-<date>-<machine>-after.json
    python -m benchmarks.thumb --per-pose 48 --cache /tmp/gesture-audit-thumb

Renders (`gesture_audit.synth`, truth exact): each pose of `synth.gestures.THUMB_POSES` (thumb
resting along the index, tucked against the fist, folded across the palm, thumbs-up from the side
and from behind, OK circle; a three from the back; an L as the control) `--per-pose` times,
320×240, cycling the six skin tones, rotation drawn within ±60° of the pose's usual orientation,
judged under the Pilkada template (pairs 1-6). Scored per pose: the thumb's state, the whole finger
pattern, the verdicts. Handshakes and gripping hands (`synth.render_clasp`): verdicts under
Pilpres 2024 (none may be flagged; few should go to review).

Dev photos (../shared/data/dev, never committed): finger pattern and count per set, negatives, and
the confusions that move a ballot (1↔L, thumbs-up↔fist, 4↔5, 3↔4, V↔L; in counts for sets
labelled with a count only).

The landmark model runs once per photo; its hands are cached (pickle) under `--cache`, so a run
after a change to the reading or the judge re-scores the same landmarks in seconds.
"""

from __future__ import annotations

import argparse
import pickle
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np

import benchmarks
from benchmarks import machine, write_results

REPO = Path(__file__).resolve().parents[1]
DEV = benchmarks.DEV
SIZE = (320, 240)  # the hand fills 40-65 % of the frame either way; 4x cheaper to render than 640x480
# Sign confusions that change the ballot a hand points at (issue 20): expected -> read.
CONFUSIONS = [
    ("one", "l"),
    ("l", "one"),
    ("thumb_up", "fist"),
    ("fist", "thumb_up"),
    ("four", "five"),
    ("five", "four"),
    ("three", "four"),
    ("four", "three"),
    ("v", "l"),
    ("l", "v"),
]
# Cached hands of older code lack what the engine now measures (v2: `Hand.beside`); read them never.
CACHE_VERSION = 2
# The same in finger counts, for sets labelled with a count only (epsrc, subhih).
COUNT_CONFUSIONS = {(1, 2), (2, 1), (4, 5), (5, 4), (3, 4), (4, 3), (0, 1), (1, 0)}


def render_pose(name: str, per_pose: int, seed: int = 20) -> list[dict]:
    """Renders of one hard thumb pose: image and truth."""
    from gesture_audit.synth import SKIN_TONES, render_hand
    from gesture_audit.synth.gestures import GESTURES, THUMB_POSES

    tones = list(SKIN_TONES)
    out = []
    gesture, thumb, facing, turn = THUMB_POSES[name]
    rng = np.random.default_rng(seed + list(THUMB_POSES).index(name))
    for i in range(per_pose):
        r = render_hand(
            gesture=gesture,
            rng=rng,
            size=SIZE,
            skin=tones[i % len(tones)],
            thumb=thumb,
            facing=facing,
            turn=None if turn is None else float(rng.uniform(*turn)),
        )
        h = r.hands[0]
        out.append(
            {
                "pose": name,
                "gesture": gesture,
                "fingers": GESTURES[gesture],
                "image": r.image,
                "box": h["box"],
                "skin": h["skin"],
                "rotation": h["rotation"],
                "yaw": h["yaw"],  # turned out of the image plane (the thumbs-up from the side: 55-80°)
            }
        )
    return out


def render_clasps(per_kind: int, seed: int = 40) -> list[dict]:
    """Rendered handshakes and gripping hands (no sign): image and kind."""
    from gesture_audit.synth import SKIN_TONES
    from gesture_audit.synth.core import CLASPS, render_clasp

    tones = list(SKIN_TONES)
    out = []
    for k, kind in enumerate(CLASPS):
        rng = np.random.default_rng(seed + k)
        for i in range(per_kind):
            r = render_clasp(rng, SIZE, kind=kind, skin=tones[i % len(tones)])
            out.append({"pose": kind, "image": r.image, "boxes": [h["box"] for h in r.hands]})
    return out


def detect(images: list[np.ndarray], batch: int = 8) -> list[list]:
    from gesture_audit.audit import hand_engine

    engine = hand_engine()
    found = []
    for s in range(0, len(images), batch):
        found += engine.detect_hands(images[s : s + batch])
    return found


def cached(path: Path, make):
    path = path.with_name(f"{path.stem}-v{CACHE_VERSION}{path.suffix}")
    if path.is_file():
        return pickle.loads(path.read_bytes())
    value = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(value))
    return value


def render_cache(cache: Path, per_pose: int) -> list[dict]:
    from gesture_audit.synth.gestures import THUMB_POSES

    def make(name):
        photos = render_pose(name, per_pose)
        for p, hands in zip(photos, detect([p.pop("image") for p in photos])):
            p["hands"] = hands
        return photos

    return [
        p for name in THUMB_POSES for p in cached(cache / f"pose-{name}-{per_pose}.pkl", lambda name=name: make(name))
    ]


def clasp_cache(cache: Path, per_kind: int, seed: int = 40) -> list[dict]:
    def make():
        photos = render_clasps(per_kind, seed)
        for p, hands in zip(photos, detect([p.pop("image") for p in photos])):
            p["hands"] = hands
        return photos

    return cached(cache / (f"clasps-{per_kind}.pkl" if seed == 40 else f"clasps-{per_kind}-seed{seed}.pkl"), make)


def score_clasps(photos: list[dict], election) -> dict:
    """Per kind: photos flagged / sent to review / clear, hands found, what they read as."""
    from gesture_audit.judge.verdict import judge

    out: dict[str, dict] = {}
    for p in photos:
        row = out.setdefault(
            p["pose"], {"n": 0, "hands_found": 0, "flag": 0, "review": 0, "clear": 0, "read": Counter()}
        )
        verdict = judge(p["hands"], election)
        row["n"] += 1
        row["hands_found"] += len(p["hands"])
        row[verdict.verdict] += 1
        row["read"].update(r.gesture.name for r in verdict.hands)
    for row in out.values():
        row["review_rate"] = round(row["review"] / row["n"], 4)
        row["read"] = dict(row["read"].most_common())
    return out


def dev_cache(cache: Path) -> dict:
    from gesture_audit.evaluate import read_labels
    from gesture_audit.load import ImageLoadError, load_image

    def make():
        labels = read_labels(DEV / "labels.jsonl")
        paths = list(dict.fromkeys(lb.path for lb in labels))
        images, ok, hands = [], [], {}
        for rel in paths:
            try:
                images.append(load_image(DEV / rel))
                ok.append(rel)
            except ImageLoadError:
                hands[rel] = []
        hands.update(zip(ok, detect(images)))
        return hands

    return cached(cache / "dev.pkl", make)


def score_renders(photos: list[dict], election) -> dict:
    """Per pose: thumb state right, pattern right, verdicts."""
    from gesture_audit.evaluate import LabelledHand, match_hands
    from gesture_audit.judge.verdict import judge

    rows: dict[str, Counter] = {}
    for p in photos:
        c = rows.setdefault(p["pose"], Counter())
        c["n"] += 1
        verdict = judge(p["hands"], election)
        truth = LabelledHand(p["fingers"], None, None, tuple(p["box"]))
        j = match_hands([truth], [r.hand.box for r in verdict.hands])[0]
        c[verdict.verdict] += 1
        if j is None:
            continue
        r = verdict.hands[j]
        c["found"] += 1
        c["thumb"] += r.fingers.pattern[0] == p["fingers"][0]
        turned = abs(p.get("yaw", 0.0))
        if turned >= 50:  # the thumb's state by how far the hand is turned (10° steps)
            band = f"{int(turned // 10) * 10}-{int(turned // 10) * 10 + 10}°"
            c["turn " + band] += 1
            c["turn thumb " + band] += r.fingers.pattern[0] == p["fingers"][0]
        c["pattern"] += r.fingers.pattern == p["fingers"]
        c["read " + r.fingers.pattern] += 1
    out = {}
    for pose, c in rows.items():
        n = c["n"]
        out[pose] = {
            "n": n,
            "found": c["found"],
            "thumb": round(c["thumb"] / n, 4),
            "pattern": round(c["pattern"] / n, 4),
            "flag": c["flag"],
            "review": c["review"],
            "clear": c["clear"],
            "read": {k[5:]: v for k, v in c.most_common() if k.startswith("read ")},
        }
        turns = sorted(k[5:] for k in c if k.startswith("turn ") and not k.startswith("turn thumb "))
        if turns:  # found hands per band: thumb right / n
            out[pose]["thumb_by_turn"] = {b: f"{c['turn thumb ' + b]}/{c['turn ' + b]}" for b in turns}
    return out


def score_dev(hands: dict, election) -> dict:
    from gesture_audit.evaluate import SetScore, match_hands, read_labels, score_image
    from gesture_audit.judge.verdict import judge

    scores: dict[str, SetScore] = {}
    for label in read_labels(DEV / "labels.jsonl"):
        score_image(scores.setdefault(label.set, SetScore(label.set)), label, judge(hands[label.path], election))
    counts: dict[str, Counter] = {}  # set -> "expected->read" finger counts that move a ballot
    for label in read_labels(DEV / "labels.jsonl"):
        readings = judge(hands[label.path], election).hands
        for hand, j in zip(label.hands, match_hands(label.hands, [r.hand.box for r in readings])):
            count = hand.count if hand.count is not None else (hand.fingers.count("1") if hand.fingers else None)
            if count is not None and j is not None and (count, readings[j].count) in COUNT_CONFUSIONS:
                counts.setdefault(label.set, Counter())[f"{count}->{readings[j].count}"] += 1
    out = {}
    for name, s in scores.items():
        d = s.to_dict()
        d["count_confusions"] = dict(counts.get(name, {}))
        d.pop("errors")
        d["ballot_confusions"] = {f"{e}->{r}": s.confusion[(e, r)] for e, r in CONFUSIONS if s.confusion[(e, r)]}
        d["negatives_reviewed"] = s.negatives_reviewed
        out[name] = d
    return out


def dev_verdicts(hands: dict, election) -> dict:
    """Dev photos per verdict, and which go to review (so that two runs show what changed)."""
    from gesture_audit.judge.verdict import judge

    verdicts = {rel: judge(found, election).verdict for rel, found in hands.items()}
    out: dict = dict(Counter(verdicts.values()))
    out["reviewed"] = sorted(rel for rel, v in verdicts.items() if v == "review")
    out["flagged"] = sorted(rel for rel, v in verdicts.items() if v == "flag")
    return out


def beside_cost(hands: dict, every: int = 8, repeats: int = 5) -> dict:
    """CPU milliseconds of `detect.beside.skin_beside` per hand (one thread) on every `every`-th dev
    photo with a hand: the detect stage's added cost."""
    import time

    import cv2

    from gesture_audit.detect.beside import skin_beside
    from gesture_audit.load import load_image

    cv2.setNumThreads(1)
    ms = []
    for rel in [p for p, found in hands.items() if found][::every]:
        image = load_image(DEV / rel)
        for hand in hands[rel]:
            start = time.process_time()
            for _ in range(repeats):
                skin_beside(image, hand)
            ms.append((time.process_time() - start) / repeats * 1000)
    q = np.percentile(ms, [50, 90, 100])
    return {
        "hands": len(ms),
        "threads": 1,
        "median_ms": round(q[0], 3),
        "p90_ms": round(q[1], 3),
        "max_ms": round(q[2], 3),
    }


def _without_beside(photos):
    """The same photos with every hand's `beside` set to 0 (in place; photo dicts or path -> hands)."""
    for hands in (p["hands"] for p in photos) if isinstance(photos, list) else photos.values():
        for hand in hands:
            hand.beside = 0.0
    return photos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-pose", type=int, default=24)
    parser.add_argument("--per-clasp", type=int, default=30)
    parser.add_argument("--clasp-seed", type=int, default=40, help="first seed of the clasp renders (one per kind)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/gesture-audit-thumb"))
    parser.add_argument("--label", default="", help="tag for the results file (e.g. before / after)")
    parser.add_argument(
        "--without-beside",
        action="store_true",
        help="judge as if no second hand's skin were seen round any hand (Hand.beside 0): the judge before it",
    )
    parser.add_argument("--beside-cost", action="store_true", help="also time detect.beside on dev photos")
    args = parser.parse_args()
    from gesture_audit.judge.election import load_election

    election = load_election()
    pilkada = load_election(REPO / "samples" / "elections" / "pilkada-template.toml")  # pairs 1-6
    record = {
        "date": date.today().isoformat(),
        **machine(),
        "per_pose": args.per_pose,
        "per_clasp": args.per_clasp,
        "clasp_seed": args.clasp_seed,
        "size": SIZE,
        "threads": "all cores (EngineOptions.threads=0)",
        "batch": 8,
        "elections": {"renders": pilkada.name, "clasps and dev": election.name},
        "without_beside": args.without_beside,
    }
    strip = _without_beside if args.without_beside else (lambda photos: photos)
    record["renders"] = score_renders(strip(render_cache(args.cache, args.per_pose)), pilkada)
    for pose, row in record["renders"].items():
        print(
            f"{pose:20s} n={row['n']:3d} thumb {row['thumb']:.3f} pattern {row['pattern']:.3f} "
            f"flag {row['flag']} review {row['review']}  {row['read']}"
        )
    record["clasps"] = score_clasps(strip(clasp_cache(args.cache, args.per_clasp, args.clasp_seed)), election)
    for kind, row in record["clasps"].items():
        print(
            f"{kind:20s} n={row['n']:3d} flag {row['flag']} review {row['review']} clear {row['clear']}  {row['read']}"
        )
    if (DEV / "labels.jsonl").is_file():
        dev = strip(dev_cache(args.cache))
        if args.beside_cost:
            record["beside_cost"] = beside_cost(dev)
            print("detect.beside per hand (CPU ms, 1 thread):", record["beside_cost"])
        record["dev"] = score_dev(dev, election)
        record["dev_verdicts"] = dev_verdicts(dev, election)
        print("dev verdicts:", {k: v for k, v in record["dev_verdicts"].items() if isinstance(v, int)})
        for name, row in record["dev"].items():
            print(
                f"{name:12s} fingers {row['fingers_exact']} count {row['count_accuracy']} "
                f"gesture {row['gesture_accuracy']} {row['ballot_confusions']} {row['count_confusions']}"
            )
    out = write_results("thumb", record, args.label or "")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
