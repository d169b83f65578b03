"""Model calls per photo by kind, and what each extra kind changes, on the throughput suite's corpus.

    python -m benchmarks.calls --n 240            # the 240 dev scenes of `benchmarks.throughput --n 240`
    python -m benchmarks.calls --corpus phone --n 24 --counts-only   # phone-size photos: the group pass

Counts model inputs (one palm image, one landmark crop, one face tile each) per photo of the scan's
default engine by pass: the palm on the whole photo, the padded and zoomed recovery passes, the
landmark first pass, the refining pass, the group pass (face tiles, palm tiles, landmarks). Then
judges the corpus again with each extra pass off, and counts the photos whose answer (hands found,
their finger patterns, the verdict) changed against the full engine. Writes
benchmarks/results/calls-<date>-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import benchmarks
from benchmarks.throughput import make_corpus


def count_calls(engine) -> Counter:
    """Wrap the engine's models so that each input (and its CPU time) is counted under the pass
    that sent it; returns (inputs, CPU-seconds) by "model:pass"."""
    counts: Counter = Counter()
    cpu: Counter = Counter()
    stage = ["first"]

    def staged(obj, name, label):
        inner = getattr(obj, name)

        def run(*args, **kwargs):
            before, stage[0] = stage[0], label
            try:
                return inner(*args, **kwargs)
            finally:
                stage[0] = before

        setattr(obj, name, run)

    def counted(obj, name, kind):
        inner = getattr(obj, name)

        def run(items, *args, **kwargs):
            counts[f"{kind}:{stage[0]}"] += len(items)
            start = time.thread_time()  # the engine runs on one thread here: all its work is this thread's
            try:
                return inner(items, *args, **kwargs)
            finally:
                cpu[f"{kind}:{stage[0]}"] += time.thread_time() - start

        setattr(obj, name, run)

    staged(engine, "_detect_padded", "padded")
    staged(engine, "_detect_zoomed", "zoomed")
    staged(engine, "recover", "recovery")
    if engine.groups is not None:
        staged(engine.groups, "add_hands", "group")
    uncertain = engine._uncertain

    def refine(lm):
        todo = uncertain(lm)
        counts[f"landmark-refine:{stage[0]}"] += todo
        return todo

    engine._uncertain = refine
    counted(engine.palms, "detect", "palm")
    counted(engine.landmarker, "run", "landmark")
    face = engine.face_detector()
    counted(face, "detect", "face")
    return counts, cpu


def answers(auditor, paths: list[Path], batch: int) -> dict[str, tuple]:
    """Per photo: (hands found, their finger patterns, verdict, reasons)."""
    out = {}
    for path, f in zip(paths, auditor.check_many(paths, batch=batch)):
        hands = f.hands or []
        out[path.name] = (len(hands), tuple(sorted(str(h.fingers) for h in hands)), f.verdict, tuple(f.reasons or []))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=240)
    parser.add_argument("--corpus", default="dev", help="dev, or phone (the same scenes as 1600-4000 px JPEGs)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--counts-only", action="store_true", help="skip the runs with a pass off")
    parser.add_argument("--answers", type=Path, help="also write each photo's answer here (JSON), to compare runs")
    args = parser.parse_args()
    from gesture_audit.audit import Auditor
    from gesture_audit.detect.engine import EngineOptions

    with tempfile.TemporaryDirectory(prefix="gesture-audit-calls-") as tmp:
        corpus = make_corpus(args.corpus, args.n, Path(tmp))
        paths = [Path(tmp) / c["file"] for c in corpus]
        auditor = Auditor(engine=EngineOptions(lanes=1, threads=1))  # one thread: CPU time per pass
        counts, spent = count_calls(auditor.engine)
        start = time.process_time()
        full = answers(auditor, paths, args.batch)
        cpu = time.process_time() - start
        per_photo = {k: round(v / len(paths), 3) for k, v in sorted(counts.items())}
        ms = {k: round(1000 * v / len(paths), 2) for k, v in sorted(spent.items())}
        print(json.dumps(per_photo, indent=1), json.dumps(ms, indent=1), f"{cpu:.1f} CPU-s", flush=True)
        if args.answers:
            args.answers.write_text(json.dumps(full, indent=0, sort_keys=True))
        variants = (
            {}
            if args.counts_only
            else {
                "no-refine": {"refine": 0},
                "no-zoomed": {"recover_zoom": None},
                "no-recovery": {"recover": False},
                "no-groups": {"groups": None},
            }
        )
        changed = {}
        for name, change in variants.items():
            other = answers(Auditor(engine=replace(EngineOptions(lanes=1, threads=1), **change)), paths, args.batch)
            diff = {
                what: sum(full[p][k] != other[p][k] for p in full)
                for k, what in enumerate(("hands", "fingers", "verdict", "reasons"))
            }
            changed[name] = diff
            print(name, diff, flush=True)
    record = {
        "date": date.today().isoformat(),
        **benchmarks.machine(),
        "corpus": args.corpus,
        "photos": len(paths),
        "batch": args.batch,
        "threads": "one engine call at a time, ONNX Runtime on 1 thread (CPU time per pass)",
        "model_inputs_per_photo": per_photo,
        "cpu_ms_per_photo": ms,  # pre- and postprocessing included; "landmark" includes its refining
        "cpu_s_full_engine": round(cpu, 1),
        "photos_changed_without": changed,
    }
    path = benchmarks.write_results("calls", record, "" if args.corpus == "dev" else args.corpus)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
