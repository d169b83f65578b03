"""Campaign attributes: recall on rendered composites, false attributes on clean dev scenes.

    python -m benchmarks.attributes [--n 200] [--out DIR]

Composites: dev scenes at least 300 px on the short side (the 100 px ASL crops hold no legible
print) with one printed campaign text (`gesture_audit.synth.attributes.composite`: a banner, a
shirt or a backdrop; perspective, blur, JPEG 60-90) each; labels.jsonl with `attributes`, so
`gesture-audit eval DIR/labels.jsonl` scores the same set. Clean: every dev photo as it is,
labelled with no attribute. Scored by `gesture_audit.evaluate` (hands too) with the default
`TextReader`. Writes benchmarks/results/attributes-<date>-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

import benchmarks
from benchmarks import machine
from benchmarks.faces import RESULTS

DEV = benchmarks.DEV
MIN_SHORT_SIDE = 300


def make_labels(out: Path, n: int, seed: int = 0, clean_every: int = 1) -> Path:
    """Render `n` composites into `out` and write out/labels.jsonl (composites, then clean dev photos)."""
    from gesture_audit.judge.election import load_election
    from gesture_audit.load import load_image
    from gesture_audit.synth.attributes import composite

    election = load_election()
    rows = [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines() if line.strip()]
    rng = np.random.default_rng(seed)
    scenes = []
    for row in rows:
        with Image.open(DEV / row["path"]) as im:
            if min(im.size) >= MIN_SHORT_SIDE:
                scenes.append(row)
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, k in enumerate(rng.choice(len(scenes), n, replace=n > len(scenes))):
        row = scenes[k]
        image, label = composite(load_image(DEV / row["path"]), election, rng)
        name = f"composite-{i:04d}.png"
        Image.fromarray(image).save(out / name)
        lines.append({**row, "path": name, "set": f"composite-{label['place']}", "source": row["path"],
                      "attributes": [label]})
    for row in rows[::clean_every]:  # clean: the dev photos themselves, by absolute path
        lines.append({**row, "path": str(DEV / row["path"]), "set": f"clean-{row['set']}", "attributes": []})
    labels = out / "labels.jsonl"
    labels.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--clean-every", type=int, default=1, help="every k-th dev photo as a clean one")
    parser.add_argument("--out", type=Path, default=None, help="keep the composites here (default: a temp folder)")
    args = parser.parse_args()
    if not (DEV / "labels.jsonl").is_file():
        raise SystemExit(f"dev photos not found at {DEV}")
    from gesture_audit.audit import hand_engine
    from gesture_audit.detect.text import GATE_SIDE, MAX_SIDE, TextReader
    from gesture_audit.evaluate import evaluate
    from gesture_audit.judge.election import load_election

    with tempfile.TemporaryDirectory(prefix="gesture-audit-attributes-") as tmp:
        labels = make_labels(args.out or Path(tmp), args.n, clean_every=args.clean_every)
        start = time.perf_counter()
        result = evaluate(labels, hand_engine(), load_election(), text=TextReader()).to_dict()
        seconds = time.perf_counter() - start
    sets = result["sets"]
    composites = [s for k, s in sets.items() if k.startswith("composite-")]
    clean = [s for k, s in sets.items() if k.startswith("clean-")]
    summary = {
        "composites": sum(s["attributes"] for s in composites),
        "attribute_recall": sum(s["attributes"] * (s["attribute_recall"] or 0) for s in composites)
        / max(1, sum(s["attributes"] for s in composites)),
        "clean": sum(s["clean"] for s in clean),
        "clean_with_attribute": sum(s["clean_with_attribute"] for s in clean),
    }
    summary["false_attribute_rate"] = summary["clean_with_attribute"] / max(1, summary["clean"])
    per_set = {k: {x: s[x] for x in ("images", "attributes", "attribute_recall", "clean", "clean_with_attribute")}
               for k, s in sets.items()}
    record = {"date": date.today().isoformat(), **machine(), "gate_side": GATE_SIDE, "ocr_max_side": MAX_SIDE,
              "n": args.n, "clean_every": args.clean_every, "seconds": round(seconds, 1), "summary": summary, "sets": per_set}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"attributes-{record['date']}-{record['machine'] or 'machine'}.json"
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    for k, s in per_set.items():
        print(k, s)
    print("wrote", out)


if __name__ == "__main__":
    main()
