"""How real do the renders look to MediaPipe? Detection rate per gesture x skin tone.

    python tools/measure_renders.py --n 20      (from the repository root; a dev tool, not in the package)

Renders `n` hands per gesture (skin tones in turn, rotations uniform within +-60 degrees of the
gesture's usual orientation, then a wider bucket of 60-180 degrees), runs MediaPipe's
HandLandmarker (the project's reference) and prints how often it finds the rendered hand, how far
its 21 landmarks land from the rendered joints, and how often it agrees on left/right.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gesture_audit.synth import GESTURES, SKIN_TONES, render_empty, render_hand


def match(truth: dict, found: list) -> object | None:
    """The detected hand that is this rendered hand: the one whose landmarks lie nearest the
    rendered joints, if their mean distance is under a third of the hand's box diagonal."""
    x0, y0, x1, y1 = truth["box"]
    diag = float(np.hypot(x1 - x0, y1 - y0))
    best, best_d = None, np.inf
    for hand in found:
        d = float(np.linalg.norm(hand.landmarks[:, :2] - truth["joints"], axis=1).mean())
        if d < best_d:
            best, best_d = hand, d
    return best if best_d < diag / 3 else None


def measure(n: int, seed: int, size: tuple[int, int], rotations: tuple[float, float], detector) -> dict:
    """{gesture: list of (skin, found, median landmark error px, error / box diagonal, handedness ok)}."""
    tones = list(SKIN_TONES)
    out: dict[str, list] = {}
    for gi, gesture in enumerate(GESTURES):
        rows = []
        for i in range(n):
            rng = np.random.default_rng([seed, gi, i])
            lo, hi = rotations
            rot = float(rng.uniform(lo, hi)) * (1 if rng.random() < 0.5 else -1)
            skin = tones[i % len(tones)]
            r = render_hand(gesture=gesture, rng=rng, size=size, skin=skin, rotation=rot)
            truth = r.hands[0]
            hand = match(truth, detector.detect_hands([r.image])[0])
            if hand is None:
                rows.append((skin, False, np.nan, np.nan, False))
                continue
            err = np.linalg.norm(hand.landmarks[:, :2] - truth["joints"], axis=1)
            x0, y0, x1, y1 = truth["box"]
            rows.append(
                (
                    skin,
                    True,
                    float(np.median(err)),
                    float(np.median(err) / np.hypot(x1 - x0, y1 - y0)),
                    hand.handedness == truth["handedness"],
                )
            )
        out[gesture] = rows
    return out


def table(results: dict, title: str) -> str:
    tones = list(SKIN_TONES)
    head = f"{'gesture':<13}" + "".join(f"{t:>7}" for t in tones) + f"{'all':>8}{'lm px':>7}{'lm %':>6}{'L/R':>6}"
    lines = [title, head, "-" * len(head)]
    per_tone = {t: [] for t in tones}
    everything = []
    for gesture, rows in results.items():
        cells = []
        for t in tones:
            hits = [r[1] for r in rows if r[0] == t]
            per_tone[t] += hits
            cells.append(f"{sum(hits)}/{len(hits)}" if hits else "-")
        found = [r for r in rows if r[1]]
        everything += rows
        rate = len(found) / max(len(rows), 1)
        err = np.median([r[2] for r in found]) if found else np.nan
        rel = np.median([r[3] for r in found]) * 100 if found else np.nan
        lr = np.mean([r[4] for r in found]) * 100 if found else np.nan
        lines.append(
            f"{gesture:<13}"
            + "".join(f"{c:>7}" for c in cells)
            + f"{rate * 100:>7.0f}%{err:>7.1f}{rel:>5.1f}%{lr:>5.0f}%"
        )
    lines.append("-" * len(head))
    tone_cells = "".join(f"{100 * np.mean(v):>6.0f}%" if v else f"{'-':>7}" for v in per_tone.values())
    found = [r for r in everything if r[1]]
    lines.append(
        f"{'all':<13}{tone_cells}{100 * len(found) / max(len(everything), 1):>7.0f}%"
        f"{np.median([r[2] for r in found]) if found else np.nan:>7.1f}"
        f"{np.median([r[3] for r in found]) * 100 if found else np.nan:>5.1f}%"
        f"{np.mean([r[4] for r in found]) * 100 if found else np.nan:>5.0f}%"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="renders per gesture and rotation bucket")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", default="256x256", help="WxH")
    parser.add_argument("--no-wide", action="store_true", help="skip the 60-180 degree bucket")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))

    from gesture_audit.detect.reference import MediaPipeHands

    detector = MediaPipeHands()
    start = time.perf_counter()
    main_results = measure(args.n, args.seed, size, (0.0, 60.0), detector)
    print(
        table(
            main_results,
            f"MediaPipe finds the rendered hand: rotation within +-60 deg, n={args.n} per gesture, {size[0]}x{size[1]}",
        )
    )
    if not args.no_wide:
        wide = measure(args.n, args.seed + 1, size, (60.0, 180.0), detector)
        print()
        print(table(wide, "rotation 60-180 deg from the usual orientation (either way)"))
    false = sum(
        len(detector.detect_hands([render_empty(np.random.default_rng([args.seed, 99, i]), size=size).image])[0])
        for i in range(args.n)
    )
    print(f"\nhands found in {args.n} renders without hands: {false}")
    print(
        "lm px / lm %: median landmark distance from the rendered joints (px, % of the box diagonal); "
        "L/R: how often the reference's handedness equals the rendered one (renders are not mirrored)"
    )
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
