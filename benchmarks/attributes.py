"""Campaign attributes: recall on rendered composites, false attributes on clean dev scenes.

    python -m benchmarks.attributes [--n 200] [--kinds text,symbol] [--symbols 8] [--out DIR] [--seed S] [--label L]

Composites: dev scenes at least 300 px on the short side (the 100 px ASL crops hold no legible
print), each with one piece of campaign material, the kinds taking turns: a printed campaign text
(`gesture_audit.synth.attributes.composite`) or a made-up party symbol
(`composite_symbol`, one of `--symbols` rendered ones, at least 80 px wide, up to a quarter
covered); on a banner, a shirt (cloth: folds, weave, faded dye) or a backdrop; perspective, blur,
JPEG 60-90. labels.jsonl with `attributes`, so `gesture-audit eval DIR/labels.jsonl --symbols
DIR/symbols.json` scores the same set. Clean: every `--clean-every`-th dev photo as it is, labelled
with no attribute. Scored by `gesture_audit.evaluate` (hands too) with the default `TextReader`
(when text is among the kinds) and a `SymbolMatcher` on a symbols file built from the rendered
logos as `gesture-audit symbols add` builds it (when symbols are). Writes
benchmarks/results/attributes-<date>-<machine>[-<kinds>][-seed<S>][-<label>].json, with the matcher's time
per photo.
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
from benchmarks import machine, write_results

DEV = benchmarks.DEV
MIN_SHORT_SIDE = 300


def make_symbols(out: Path, count: int, election, seed: int = 0) -> Path:
    """`count` made-up symbols, ballots taking turns over the election's pairs, saved as logo PNGs
    and added to out/symbols.json as `gesture-audit symbols add` does; returns the file."""
    from gesture_audit.identify.symbols import SymbolGallery, reference_symbols
    from gesture_audit.synth.attributes import render_symbol

    rng = np.random.default_rng(seed + 1000)
    ballots = sorted(election.pairs)
    gallery = SymbolGallery()
    out.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        logo = out / f"symbol-{k}.png"
        Image.fromarray(render_symbol(rng)).save(logo)
        gallery.add(f"Partai {k + 1}", reference_symbols([logo]), ballots[k % len(ballots)])
    gallery.save(out / "symbols.json")
    return out / "symbols.json"


def make_labels(
    out: Path, n: int, seed: int = 0, clean_every: int = 1, kinds: tuple = ("text",), symbols: Path | None = None
) -> Path:
    """Render `n` composites into `out` (the `kinds` taking turns; symbols from the `symbols` file)
    and write out/labels.jsonl (composites, then clean dev photos)."""
    from gesture_audit.identify.symbols import SymbolGallery
    from gesture_audit.judge.election import load_election
    from gesture_audit.load import load_image
    from gesture_audit.synth.attributes import composite, composite_symbol

    election = load_election()
    rows = [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines() if line.strip()]
    rng = np.random.default_rng(seed)
    scenes = []
    for row in rows:
        with Image.open(DEV / row["path"]) as im:
            if min(im.size) >= MIN_SHORT_SIDE:
                scenes.append(row)
    out.mkdir(parents=True, exist_ok=True)
    logos = (
        [(s.name, s.ballot, s.images[0].image) for s in SymbolGallery.load(symbols).symbols]
        if symbols is not None
        else []
    )
    lines = []
    for i, k in enumerate(rng.choice(len(scenes), n, replace=n > len(scenes))):
        row = scenes[k]
        kind = kinds[i % len(kinds)]
        scene = load_image(DEV / row["path"])
        image, label = composite_symbol(scene, logos, rng) if kind == "symbol" else composite(scene, election, rng)
        name = f"composite-{i:04d}.png"
        Image.fromarray(image).save(out / name)
        lines.append(
            {
                **row,
                "path": name,
                "set": f"composite-{kind}-{label['place']}",
                "source": row["path"],
                "attributes": [label],
            }
        )
    for row in rows[::clean_every]:  # clean: the dev photos themselves, by absolute path
        lines.append({**row, "path": str(DEV / row["path"]), "set": f"clean-{row['set']}", "attributes": []})
    labels = out / "labels.jsonl"
    labels.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--clean-every", type=int, default=1, help="every k-th dev photo as a clean one")
    parser.add_argument("--kinds", default="text,symbol", help="what is composited, taking turns: text, symbol")
    parser.add_argument("--symbols", type=int, default=8, help="made-up symbols in the symbols gallery")
    parser.add_argument("--out", type=Path, default=None, help="keep the composites here (default: a temp folder)")
    parser.add_argument(
        "--seed", type=int, default=0, help="the composites' seed (recorded figures: 0; tuning probes used 101-104)"
    )
    parser.add_argument("--label", default="", help="appended to the results file's name (a run of one change)")
    args = parser.parse_args()
    if not (DEV / "labels.jsonl").is_file():
        raise SystemExit(f"dev photos not found at {DEV}")
    from gesture_audit.audit import hand_engine
    from gesture_audit.detect import text as text_module
    from gesture_audit.detect.text import TextReader
    from gesture_audit.evaluate import evaluate
    from gesture_audit.identify import symbols as symbol_module
    from gesture_audit.judge.election import load_election

    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if not kinds or set(kinds) - {"text", "symbol"}:
        raise SystemExit(f"--kinds: text and/or symbol, not {args.kinds!r}")
    election = load_election()
    matcher, timing = None, [0.0, 0.0, 0]  # the matcher's wall seconds, CPU seconds, photos
    with tempfile.TemporaryDirectory(prefix="gesture-audit-attributes-") as tmp:
        folder = args.out or Path(tmp)
        store = make_symbols(folder, args.symbols, election) if "symbol" in kinds else None
        labels = make_labels(folder, args.n, args.seed, clean_every=args.clean_every, kinds=kinds, symbols=store)
        if store is not None:
            matcher = symbol_module.SymbolMatcher(symbol_module.SymbolGallery.load(store))
            match = matcher.match

            def timed(image):
                start, cpu = time.perf_counter(), time.process_time()
                try:
                    return match(image)
                finally:
                    timing[0] += time.perf_counter() - start
                    timing[1] += time.process_time() - cpu
                    timing[2] += 1

            matcher.match = timed
        start = time.perf_counter()
        result = evaluate(
            labels, hand_engine(), election, text=TextReader() if "text" in kinds else None, symbols=matcher
        ).to_dict()
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
    for kind in kinds:
        mine = [s for k, s in sets.items() if k.startswith(f"composite-{kind}-")]
        summary[f"{kind}_recall"] = sum(s["attributes"] * (s["attribute_recall"] or 0) for s in mine) / max(
            1, sum(s["attributes"] for s in mine)
        )
    if timing[2]:  # wall time suffers from a shared machine; CPU time less so
        summary["symbol_ms_per_photo"] = round(1000 * timing[0] / timing[2], 1)
        summary["symbol_cpu_ms_per_photo"] = round(1000 * timing[1] / timing[2], 1)
    per_set = {
        k: {x: s[x] for x in ("images", "attributes", "attribute_recall", "clean", "clean_with_attribute")}
        for k, s in sets.items()
    }
    import cv2

    record = {
        "date": date.today().isoformat(),
        **machine(),
        "opencv": cv2.__version__,
        "kinds": list(kinds),
        "gate_sides": list(text_module.GATE_SIDES),
        "gate_runs": text_module.RUNS,
        "gate_columns": text_module.COLUMNS,
        "gate_readable": list(text_module.READABLE),
        "gate_outline": text_module.OUTLINE,
        "ocr_widen": text_module.WIDEN,
        "ocr_whole": text_module.WHOLE,
        "ocr_max_side": text_module.MAX_SIDE,
        "ocr_line_detect": text_module.LINE_DETECT,
        "gate_card": text_module.CARD,
        "gate_card_readable": list(text_module.CARD_READABLE),
        "ocr_look_again": text_module.LOOK_AGAIN,
        "ocr_look_pixels": text_module.LOOK_PIXELS,
        "ocr_trace": text_module.TRACE,
        "symbols": args.symbols if matcher else 0,
        "symbol_max_side": symbol_module.MAX_SIDE,
        "symbol_min_inliers": symbol_module.MIN_INLIERS,
        "n": args.n,
        "seed": args.seed,
        "clean_every": args.clean_every,
        "seconds": round(seconds, 1),
        "summary": summary,
        "sets": per_set,
    }
    tag = "-".join(
        [
            *(kinds if kinds != ("text",) else ()),
            *([f"seed{args.seed}"] if args.seed else []),
            *filter(None, [args.label]),
        ]
    )
    out = write_results("attributes", record, tag)
    print(json.dumps(summary, indent=1))
    for k, s in per_set.items():
        print(k, s)
    print("wrote", out)


if __name__ == "__main__":
    main()
