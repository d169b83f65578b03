"""Throughput of the scan path against MediaPipe's HandLandmarker, on the same photos, in one run.

    python -m benchmarks.throughput                       # dev scenes + phone-like photos, 3 repeats
    python -m benchmarks.throughput --corpus phone --n 60 --repeats 5
    python -m benchmarks.throughput --memory 1000,10000   # peak RSS of a scan, 1k vs 10k photos
    python -m benchmarks.throughput --corpus video --n 6  # rendered clips: sampled frames per second
    python -m benchmarks.throughput --whole-process --corpus dev --n 240 --repeats 3  # as a user times it

Measured, each in its own subprocess (clean peak RSS, no thread pools shared between contenders):
  scan         the full scan path: walk -> decode -> hands -> judgement -> findings.jsonl, as
               `gesture-audit scan` runs it: one batch per core at once, ONNX Runtime on one thread
               per call (`EngineOptions(lanes=0)`)
  scan-serial  the same scan-notext path one batch at a time, ONNX Runtime on all cores per call
               (`lanes=1`, how the scan ran before, and how `check` and `serve` run)
  scan-fast    the same with `--fast` (lite models, no group-photo pass)
  scan-notext  the scan path without reading printed text (what the `ocr` extra adds to a scan)
  mediapipe    MediaPipe HandLandmarker (num_hands 8, same tflite models) in a plain per-image loop,
               decode (cv2.imread) included
  models       the model-only ceiling: palm + one landmark pass, inference alone on pre-made tensors,
               one call at a time on all cores
  models-lanes the same ceiling run as the scan runs the models: one call per core at once, each on
               one thread (the scan's share of the ceiling is taken against the higher of the two)
  models-fast  the same for the lite models (all cores, one call at a time)
With --whole-process, as a user times it (start-up included, each run a fresh process from exec to
exit, wall clock and CPU-seconds of the child measured from outside):
  proc-scan       `gesture-audit scan FOLDER --out DIR` (findings.jsonl, summary.csv, report.html)
  proc-scan-fast  the same with `--fast`
  proc-mediapipe  benchmarks/mediapipe_loop.py: MediaPipe HandLandmarker (num_hands 8, the same
                  full models as a .task file) in a plain script, cv2.imread per photo
beside the in-process scan-notext (the scan's default), scan-notext-fast, scan-serial, mediapipe and
the models ceilings; reports cost as
CPU-seconds per 1 000 photos and the ratios of the whole-process rates.
Plus per-stage milliseconds of our path (decode, palm, landmarks, recovery, groups, judgement,
write), measured sequentially. Reports medians over repeats and the ratios to mediapipe; writes
benchmarks/results/<date>-<machine>.json. Corpora are made from ../shared/data/dev (never committed):
"dev" = the labelled scenes as they are, "phone" = the same scenes re-encoded as 1600-4000 px JPEGs.
"video" needs no dev data: n rendered 10 s portrait clips (720×1280, 30 fps, H.264) with a V sign
held from 3 to 6 s; there the rates are frames judged per second (2 sampled per second of video),
mediapipe is HandLandmarker in VIDEO mode on the same sampled frames, and "flagged" counts the
clips whose held V was found.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

import benchmarks

REPO = Path(__file__).resolve().parents[1]
DEV = benchmarks.DEV


def make_corpus(kind: str, n: int, out: Path, seed: int = 0) -> list[dict]:
    """Copy (dev) or re-encode (phone) n labelled scenes into `out`; returns their label rows."""
    import cv2

    rows = [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines()]
    scenes = [r for r in rows if r["kind"] in ("scene", "negative") or r["set"] == "mediapipe"]
    rng = np.random.default_rng(seed)
    picked = [scenes[i] for i in sorted(rng.choice(len(scenes), min(n, len(scenes)), replace=False))]
    out.mkdir(parents=True, exist_ok=True)
    corpus = []
    for i, row in enumerate(picked):
        src = DEV / row["path"]
        dst = out / f"{i:05d}{src.suffix.lower() if kind == 'dev' else '.jpg'}"
        scale = 1.0
        if kind == "dev":
            shutil.copyfile(src, dst)
        else:
            image = cv2.imread(str(src))
            scale = rng.uniform(1600, 4000) / max(image.shape[:2])
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(str(dst), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        boxes = [[v * scale for v in h["box"]] for h in row["hands"] if h.get("box")]
        corpus.append({"file": dst.name, "boxes": boxes, "hands": len(row["hands"])})
    (out / "corpus.json").write_text(json.dumps(corpus))
    return corpus


VIDEO_SECONDS, VIDEO_FPS, VIDEO_SIZE, VIDEO_V = 10, 30, (720, 1280), (3.0, 6.0)


def make_video_corpus(n: int, out: Path) -> list[dict]:
    """n clips made from renders: a scene panning slowly, and a V sign held from 3 to 6 s."""
    import av

    from gesture_audit.synth import render_empty, render_hand

    out.mkdir(parents=True, exist_ok=True)
    corpus = []
    for i in range(n):
        rng = np.random.default_rng([7, i])
        scene = render_empty(rng, VIDEO_SIZE)
        hand = render_hand(gesture="v", rng=rng, size=(360, 360)).image
        name = f"{i:03d}.mp4"
        with av.open(str(out / name), "w") as container:
            stream = container.add_stream("libx264", rate=VIDEO_FPS, options={"preset": "veryfast"})
            stream.width, stream.height, stream.pix_fmt = *VIDEO_SIZE, "yuv420p"
            for k in range(VIDEO_SECONDS * VIDEO_FPS):
                frame = np.roll(scene.image, k, axis=1)  # a slow pan: every frame costs the decoder
                if VIDEO_V[0] * VIDEO_FPS <= k < VIDEO_V[1] * VIDEO_FPS:
                    x, y = 180 + k % 20, 300 + (k // 3) % 12  # a hand held up moves a little
                    frame = frame.copy()
                    frame[y : y + 360, x : x + 360] = hand
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode())
        corpus.append({"file": name, "v": list(VIDEO_V)})
    (out / "corpus.json").write_text(json.dumps(corpus))
    return corpus


def recall(corpus: list[dict], found: dict[str, list[list[float]]]) -> float:
    """Share of labelled hand boxes matched by a found box at IoU >= 0.25."""
    from gesture_audit.detect.core import box_iou

    labelled = [(c["file"], np.asarray(box)) for c in corpus for box in c["boxes"]]
    hits = sum(any(box_iou(box, np.asarray(f)) >= 0.25 for f in found.get(name, [])) for name, box in labelled)
    return hits / max(1, len(labelled))


# -- workers: each runs in its own process ----------------------------------------------------------


def engine_options(fast: bool):
    """The engine profile, on the execution providers given by --providers (passed to the workers
    through the environment), e.g. CUDAExecutionProvider,CPUExecutionProvider with onnxruntime-gpu."""
    from gesture_audit.detect.engine import EngineOptions

    providers = os.environ.get("GESTURE_AUDIT_BENCH_PROVIDERS")
    kwargs = {"providers": providers.split(",")} if providers else {}
    return EngineOptions.fast(**kwargs) if fast else EngineOptions(**kwargs)


def work_scan(folder: Path, fast: bool, batch: int, text: bool | None = None, lanes: int = 0) -> dict:
    from gesture_audit.audit import Auditor
    from gesture_audit.scan import finish_scan, plan_scan, run_scan, walk

    auditor = Auditor(engine=replace(engine_options(fast), lanes=lanes), text=text)  # lanes=0: as `gesture-audit scan`
    out = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    try:
        start, cpu = time.perf_counter(), time.process_time()
        plan = plan_scan([folder], out / "report")
        files = [f for f in walk(plan) if not f.path.endswith("corpus.json")]
        counts = run_scan(plan, auditor, files, batch=batch)
        finish_scan(plan, counts)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        rows = [json.loads(line) for line in (out / "report" / "findings.jsonl").read_text().splitlines()]
    finally:
        shutil.rmtree(out)
    found = {Path(r["path"]).name: [h["box"] for h in r["hands"] or []] for r in rows}
    result = {"images": len(files), "seconds": seconds, "cpu_seconds": cpu, "found": found}
    if any(r.get("video") for r in rows):  # the video corpus: frames judged, clips flagged
        result |= {
            "frames": sum(r["video"]["samples"] for r in rows if r.get("video")),
            "flagged": sum(r["verdict"] == "flag" for r in rows),
        }
    return result


def work_mediapipe_video(folder: Path, files: list[str]) -> dict:
    """MediaPipe HandLandmarker in VIDEO mode (its tracking between frames) on the frames the scan
    samples, decoding included."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python.vision import HandLandmarker, HandLandmarkerOptions, RunningMode

    from gesture_audit.detect.reference import task_bundle
    from gesture_audit.load_video import DEFAULT_SAMPLE_RATE, open_video

    options = HandLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=task_bundle()), running_mode=RunningMode.VIDEO, num_hands=8
    )
    frames = 0
    start = time.perf_counter()
    for name in files:
        with HandLandmarker.create_from_options(options) as landmarker:
            for sample in open_video(folder / name).samples(DEFAULT_SAMPLE_RATE):
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=sample.image)
                landmarker.detect_for_video(image, round(sample.time * 1000))
                frames += 1
    return {"images": len(files), "frames": frames, "seconds": time.perf_counter() - start}


def work_mediapipe(folder: Path, files: list[str]) -> dict:
    import cv2

    from gesture_audit.detect.reference import MediaPipeHands

    hands = MediaPipeHands(num_hands=8)
    found = {}
    start, cpu = time.perf_counter(), time.process_time()
    for name in files:
        image = cv2.cvtColor(cv2.imread(str(folder / name)), cv2.COLOR_BGR2RGB)
        found[name] = [h.box.tolist() for h in hands.detect_hands([image])[0]]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"images": len(files), "seconds": seconds, "cpu_seconds": cpu, "found": found}


def work_models(folder: Path, files: list[str], fast: bool, batch: int, lanes: int = 1) -> dict:
    """Inference alone: tensors are made first, then only session.run is timed; with `lanes` > 1 the
    batches are shared out between that many threads (one call each at once, as the scan runs them)."""
    from concurrent.futures import ThreadPoolExecutor

    from gesture_audit.audit import default_max_side, hand_engine
    from gesture_audit.detect.landmarks import Roi
    from gesture_audit.load import load_image
    from gesture_audit.runtime import in_chunks

    engine = hand_engine(replace(engine_options(fast), lanes=lanes))
    pool = ThreadPoolExecutor(engine.lanes)
    images = [load_image(folder / name, max_side=default_max_side(engine)) for name in files]

    def tensors(prepare, items: list) -> list:  # session.run as in a scan: each batch cut by in_chunks
        return [t for i in range(0, len(items), batch) for t in in_chunks(lambda c: [prepare(c)], items[i : i + batch])]

    palm_batches = tensors(lambda c: engine.palms.preprocess(c)[0], images)
    crops = [(im, Roi.from_palm(p)) for im, palms in zip(images, engine.palms.detect(images)) for p in palms]
    hand_batches = tensors(engine.landmarker.preprocess, crops)
    cpu = time.process_time()
    start = time.perf_counter()
    list(pool.map(engine.palms.infer, palm_batches))
    palm = time.perf_counter() - start
    start = time.perf_counter()
    list(pool.map(engine.landmarker.infer, hand_batches))
    landmarks = time.perf_counter() - start
    pool.shutdown()
    return {
        "images": len(files),
        "seconds": palm + landmarks,
        "cpu_seconds": time.process_time() - cpu,
        "palm_s": palm,
        "landmark_s": landmarks,
        "crops": len(crops),
    }


def work_stages(folder: Path, files: list[str], fast: bool, batch: int) -> dict:
    """Per-stage milliseconds per image, each stage timed alone over the whole corpus."""
    from gesture_audit.audit import default_max_side, hand_engine
    from gesture_audit.judge.election import load_election
    from gesture_audit.judge.verdict import judge
    from gesture_audit.load import load_image_with_meta
    from gesture_audit.results import Finding

    engine = hand_engine(engine_options(fast))
    election = load_election()
    t = {}
    start = time.perf_counter()
    images = [load_image_with_meta(folder / name, max_side=default_max_side(engine)).image for name in files]
    t["decode"] = time.perf_counter() - start
    start = time.perf_counter()
    palms = []
    for i in range(0, len(images), batch):
        palms += engine.palms.detect(images[i : i + batch])
    t["palm"] = time.perf_counter() - start
    start = time.perf_counter()
    hands = []
    for i in range(0, len(images), batch):
        hands += engine._hands(images[i : i + batch], palms[i : i + batch])
    t["landmarks"] = time.perf_counter() - start
    retry = [im for im, h in zip(images, hands) if not h]
    start = time.perf_counter()
    for i in range(0, len(retry), batch):
        engine.recover(retry[i : i + batch], [[] for _ in retry[i : i + batch]])
    t["recovery"] = time.perf_counter() - start
    grouped = 0
    if engine.groups is not None:
        start = time.perf_counter()
        for i in range(0, len(images), batch):
            grouped += sum(
                g is not None
                for g in engine.groups.add_hands(images[i : i + batch], hands[i : i + batch], engine._hands)
            )
        t["groups"] = time.perf_counter() - start
    start = time.perf_counter()
    verdicts = [judge(h, election) for h in hands]
    t["judgement"] = time.perf_counter() - start
    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        for name, v in zip(files, verdicts):
            f = Finding(
                name, "0" * 64, hands=[r.to_dict() for r in v.hands], verdict=v.verdict, risk=v.risk, reasons=v.reasons
            )
            sink.write(json.dumps(f.to_dict()) + "\n")
    t["write"] = time.perf_counter() - start
    return {k: 1000 * v / len(files) for k, v in t.items()} | {
        "images_without_hand": len(retry),
        "images_with_group_pass": grouped,
    }


def worker(args) -> None:
    folder = Path(args.folder)
    files = [c["file"] for c in json.loads((folder / "corpus.json").read_text())]
    fast = args.which.endswith("-fast")
    which = args.which.removesuffix("-fast")
    if which == "scan-notext":
        result = work_scan(folder, fast, args.batch, text=False)
    elif which == "scan":
        result = work_scan(folder, fast, args.batch)
    elif which == "scan-serial":
        result = work_scan(folder, fast, args.batch, text=False, lanes=1)
    elif which == "mediapipe":
        video = files and files[0].endswith(".mp4")
        result = work_mediapipe_video(folder, files) if video else work_mediapipe(folder, files)
    elif which in ("models", "models-lanes"):
        result = work_models(folder, files, fast, args.batch, lanes=0 if which == "models-lanes" else 1)
    else:
        result = work_stages(folder, files, fast, args.batch)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run_worker(which: str, folder: Path, batch: int) -> dict:
    if which.startswith("proc-"):
        return run_process(which, folder, batch)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.throughput",
        "--worker",
        which,
        "--folder",
        str(folder),
        "--batch",
        str(batch),
    ]
    out = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


CONTENDERS = ("scan", "scan-notext", "scan-fast", "mediapipe", "models", "models-fast")
# In process: scan-notext, as `gesture-audit scan` runs by default (reading text is opt-in there).
WHOLE_PROCESS = (
    "proc-scan",
    "proc-scan-fast",
    "proc-mediapipe",
    "scan-notext",
    "scan-notext-fast",
    "scan-serial",
    "mediapipe",
    "models",
    "models-lanes",
    "models-fast",
)


def gesture_audit_command() -> list[str]:
    """The installed console script (what a user runs), or `python -m gesture_audit` without one."""
    script = Path(sys.executable).parent / "gesture-audit"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gesture_audit"]


def run_process(which: str, folder: Path, batch: int) -> dict:
    """One whole-process contender, timed from outside: wall seconds from spawn to exit, and the
    child's CPU-seconds (user + system, all its threads) and peak RSS from wait4."""
    out = Path(tempfile.mkdtemp(prefix="bench-proc-"))
    try:
        if which == "proc-mediapipe":
            task = out / "hand_landmarker.task"
            from gesture_audit.detect.reference import task_bundle

            task.write_bytes(task_bundle())  # the same tflite models, as a user's .task file
            cmd = [
                sys.executable,
                str(REPO / "benchmarks" / "mediapipe_loop.py"),
                str(folder),
                str(task),
                str(out / "hands.json"),
            ]
        else:
            cmd = [
                *gesture_audit_command(),
                "scan",
                str(folder),
                "--out",
                str(out / "report"),
                "--batch",
                str(batch),
                "--quiet",
                "--exclude",
                "corpus.json",
            ] + (["--fast"] if which.endswith("-fast") else [])
        with open(out / "stderr.txt", "w+") as err:
            start = time.perf_counter()
            child = subprocess.Popen(cmd, cwd=out, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(child.pid, 0)  # this child's own CPU time and peak RSS
            seconds = time.perf_counter() - start
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode:
                err.seek(0)
                raise RuntimeError(f"{' '.join(cmd)} exited with {child.returncode}: {err.read()[-2000:]}")
        if which == "proc-mediapipe":
            found = json.loads((out / "hands.json").read_text())
        else:
            rows = [json.loads(line) for line in (out / "report" / "findings.jsonl").read_text().splitlines()]
            found = {Path(r["path"]).name: [h["box"] for h in r["hands"] or []] for r in rows}
    finally:
        shutil.rmtree(out)
    return {
        "images": len(found),
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "found": found,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }


def bench_video(n: int, repeats: int, batch: int, tmp: Path) -> dict:
    folder = tmp / "video"
    corpus = make_video_corpus(n, folder)
    runs = {w: [] for w in ("scan", "scan-fast", "mediapipe")}
    for r in range(repeats):
        for which in runs:  # interleaved
            runs[which].append(run_worker(which, folder, batch))
            print(
                f"  video repeat {r + 1}/{repeats} {which}: "
                f"{runs[which][-1]['frames'] / runs[which][-1]['seconds']:.1f} frames/s",
                flush=True,
            )
    summary = {
        "clips": len(corpus),
        "seconds_of_video": len(corpus) * VIDEO_SECONDS,
        "source_fps": VIDEO_FPS,
        "size": list(VIDEO_SIZE),
        "frames_judged": runs["scan"][0]["frames"],
    }
    for which, results in runs.items():
        rates = [x["frames"] / x["seconds"] for x in results]
        summary[which] = {
            "frames_per_s": round(statistics.median(rates), 2),
            "all": [round(x, 2) for x in rates],
            "video_seconds_per_s": round(
                statistics.median(rates) * VIDEO_SECONDS * len(corpus) / results[0]["frames"], 2
            ),
            "peak_rss_mb": round(max(x["peak_rss_mb"] for x in results), 1),
        }
        if "flagged" in results[0]:
            summary[which]["clips_flagged"] = results[0]["flagged"]
    for scan in ("scan", "scan-fast"):
        summary[f"ratio_{scan}_over_mediapipe"] = round(
            summary[scan]["frames_per_s"] / summary["mediapipe"]["frames_per_s"], 2
        )
    return summary


def bench_corpus(kind: str, n: int, repeats: int, batch: int, tmp: Path, contenders=CONTENDERS) -> dict:
    if kind == "video":
        return bench_video(n, repeats, batch, tmp)
    folder = tmp / kind
    corpus = make_corpus(kind, n, folder)
    runs = {w: [] for w in contenders}
    for r in range(repeats):
        for which in runs:  # interleaved, so drifting machine load hits all contenders alike
            runs[which].append(run_worker(which, folder, batch))
            print(
                f"  {kind} repeat {r + 1}/{repeats} {which}: "
                f"{runs[which][-1]['images'] / runs[which][-1]['seconds']:.1f} images/s",
                flush=True,
            )
    stages = {w: run_worker(w, folder, batch) for w in ("stages", "stages-fast")} if contenders == CONTENDERS else {}
    summary = {"images": len(corpus), "labelled_hands": sum(len(c["boxes"]) for c in corpus)}
    for which, results in runs.items():
        rates = [x["images"] / x["seconds"] for x in results]
        summary[which] = {
            "images_per_s": round(statistics.median(rates), 2),
            "all": [round(x, 2) for x in rates],
            "peak_rss_mb": round(max(x["peak_rss_mb"] for x in results), 1),
        }
        if "cpu_seconds" in results[0]:
            summary[which]["seconds"] = [round(x["seconds"], 2) for x in results]
            summary[which]["cpu_s_per_1000"] = round(
                statistics.median(1000 * x["cpu_seconds"] / x["images"] for x in results), 1
            )
        if "palm_s" in results[0]:
            summary[which]["palm_ms_per_image"] = round(
                statistics.median(1000 * x["palm_s"] / x["images"] for x in results), 2
            )
            summary[which]["landmark_ms_per_crop"] = round(
                statistics.median(1000 * x["landmark_s"] / x["crops"] for x in results), 2
            )
        if "found" in results[0]:
            summary[which]["hands_found"] = sum(map(len, results[0]["found"].values()))
            summary[which]["recall"] = round(recall(corpus, results[0]["found"]), 4)
    summary["stages_ms"] = {w: {k: round(v, 2) for k, v in st.items()} for w, st in stages.items()}
    if "scan-notext" in runs and "scan" in runs:
        summary["text_adds"] = round(summary["scan-notext"]["images_per_s"] / summary["scan"]["images_per_s"] - 1, 3)
        summary["text_adds_cpu"] = round(  # CPU-seconds: less at the mercy of a shared machine than wall time
            summary["scan"]["cpu_s_per_1000"] / summary["scan-notext"]["cpu_s_per_1000"] - 1, 3
        )
    if contenders == WHOLE_PROCESS:
        # The full models' ceiling: the faster of one call on all cores and one call per core at once.
        ceiling = max(("models", "models-lanes"), key=lambda m: summary[m]["images_per_s"])
        return (
            summary
            | {"ceiling": ceiling}
            | ratios(summary, "proc-mediapipe", {"proc-scan": ceiling, "proc-scan-fast": "models-fast"})
            | ratios(
                summary,
                "mediapipe",
                {"scan-notext": ceiling, "scan-serial": "models", "scan-notext-fast": "models-fast"},
            )
        )
    if contenders != CONTENDERS:
        return summary
    mediapipe = summary["mediapipe"]["images_per_s"]
    for scan, models in (("scan", "models"), ("scan-fast", "models-fast")):
        summary[f"ratio_{scan}_over_mediapipe"] = round(summary[scan]["images_per_s"] / mediapipe, 2)
        summary[f"{scan}_share_of_ceiling"] = round(summary[scan]["images_per_s"] / summary[models]["images_per_s"], 2)
    return summary


def ratios(summary: dict, mediapipe: str, scans: dict[str, str]) -> dict:
    """Each scan's rate over MediaPipe's, and its share of its models' ceiling (inference alone)."""
    out = {}
    for scan, models in scans.items():
        out[f"ratio_{scan}_over_{mediapipe}"] = round(
            summary[scan]["images_per_s"] / summary[mediapipe]["images_per_s"], 2
        )
        out[f"{scan}_share_of_ceiling"] = round(summary[scan]["images_per_s"] / summary[models]["images_per_s"], 2)
    return out


def bench_memory(sizes: list[int], tmp: Path) -> dict:
    """Peak RSS of a scan of 1k vs 10k distinct small photos (rendered, so no dev data needed)."""
    import cv2

    results = {}
    for size in sizes:
        folder = tmp / f"mem{size}"
        folder.mkdir()
        rng = np.random.default_rng(size)
        base = (rng.random((240, 320, 3)) * 255).astype(np.uint8)
        for i in range(size):
            image = np.roll(base, i, axis=1)
            cv2.imwrite(str(folder / f"{i:06d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        (folder / "corpus.json").write_text(json.dumps([{"file": f"{i:06d}.jpg"} for i in range(size)]))
        r = run_worker("scan", folder, 8)
        results[str(size)] = {
            "images_per_s": round(r["images"] / r["seconds"], 1),
            "peak_rss_mb": round(r["peak_rss_mb"], 1),
        }
        print(f"  memory {size}: {results[str(size)]}", flush=True)
        shutil.rmtree(folder)
    return results


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="dev,phone")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument(
        "--providers",
        default="",
        help="ONNX Runtime execution providers, comma-separated "
        "(default: CPU), e.g. CUDAExecutionProvider,CPUExecutionProvider",
    )
    parser.add_argument("--memory", default="", help="e.g. 1000,10000")
    parser.add_argument(
        "--contenders", default=",".join(CONTENDERS), help="a subset, e.g. scan,scan-notext (what reading text costs)"
    )
    parser.add_argument(
        "--whole-process",
        action="store_true",
        help="time `gesture-audit scan` and a "
        "MediaPipe script each as a whole process, beside the in-process contenders",
    )
    parser.add_argument("--tag", default="", help="added to the results file's name (e.g. before, after)")
    parser.add_argument("--worker", dest="which", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.which:
        return worker(args)
    if args.providers:
        os.environ["GESTURE_AUDIT_BENCH_PROVIDERS"] = args.providers
    if not (DEV / "labels.jsonl").is_file() and not args.memory and args.corpus != "video":
        sys.exit(f"the benchmark corpora are made from the dev photos, not found at {DEV}")
    import onnxruntime

    from benchmarks import machine, write_results

    contenders = (
        WHOLE_PROCESS if args.whole_process else tuple(c for c in CONTENDERS if c in args.contenders.split(","))
    )
    if args.whole_process:  # byte-code compiled, as `pip install` leaves a package (an editable one has none)
        import compileall

        compileall.compile_dir(REPO / "gesture_audit", quiet=1)
    record = {
        "date": date.today().isoformat(),
        **machine(),
        "contenders": contenders,
        "av": _version("av"),
        "mediapipe": _version("mediapipe"),
        "threads": "scan, scan-notext(-fast), proc-scan(-fast), models-lanes: one engine call per core at once, "
        "ONNX Runtime on 1 thread each (EngineOptions.lanes=0); scan-serial, models, models-fast: one call at a "
        f"time, ONNX Runtime default (all cores); decode workers min(4, cores) = {min(4, os.cpu_count() or 1)}",
        "load_average_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "batch": args.batch,
        "repeats": args.repeats,
        "providers": args.providers or "CPUExecutionProvider",
        "corpora": {},
    }
    with tempfile.TemporaryDirectory(prefix="gesture-audit-bench-") as tmp:
        if args.memory:
            record["memory"] = bench_memory([int(s) for s in args.memory.split(",")], Path(tmp))
        else:
            for kind in args.corpus.split(","):
                record["corpora"][kind] = bench_corpus(kind, args.n, args.repeats, args.batch, Path(tmp), contenders)
    part = (
        "memory"
        if args.memory
        else ""
        if contenders == CONTENDERS
        else "whole-process"
        if contenders == WHOLE_PROCESS
        else "-".join(contenders)
    )
    part = "-".join(p for p in (part, args.tag) if p)
    path = write_results("video" if args.corpus == "video" and not args.memory else "", record, part)
    print(json.dumps(record, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
