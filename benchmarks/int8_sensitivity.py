"""Why int8 loses accuracy: quantisation recipes of the hand models against fp32 on held-out real inputs.

    python -m benchmarks.int8_sensitivity [--rounds 5] [--only "palm NNCF" --tag palm-nncf]

Calibration inputs are models/quantize.py's (48 renders + every 16th dev photo, through the package's
own preprocessing); the held-out inputs are the same preprocessing of the dev photos between them
(every 16th from the 8th). Each recipe quantises the model (ONNX Runtime `quantize_static`, or NNCF)
and is compared with fp32 on the held-out inputs:

- landmark model: the mean distance of the 21 landmarks (px in the 224-px crop) per crop that fp32
  calls a hand (median / p90 / max), the largest change of the hand-flag score, and ms per crop at
  batch 8 (2 threads, interleaved with fp32, median of rounds);
- palm detector: photos whose best fp32 anchor (logit > 0, a palm) is no palm under int8, and the
  box error (px) on fp32's palm anchors;
- per depthwise convolution of the landmark model: the signal-to-quantisation-noise ratio (dB) of its
  input quantised to uint8 per tensor (what ONNX Runtime's QLinearConv takes) and per channel (what
  NNCF writes for OpenVINO), ranges from the calibration inputs.

Writes benchmarks/results/int8-sensitivity-<date>-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from benchmarks import DEV, REPO, machine, results_path

sys.path.insert(0, str(REPO / "models"))
import quantize as recipe  # noqa: E402  (models/ is a folder of scripts, not a package)

LANDMARK, PALM = "hand_landmark_full.onnx", "palm_detection_full.onnx"
PALM_HEADS = ["classifier_palm", "regressor_palm"]  # the score and box convolutions of each scale


def recipes() -> dict[str, tuple[str, dict]]:
    from onnxruntime.quantization import QuantType

    return {
        "landmark shipped (QDQ u8s8 MinMax, per-channel)": (LANDMARK, {}),
        "landmark u8u8 (no AVX2 saturation)": (LANDMARK, {"weight_type": QuantType.QUInt8}),
        "landmark reduce_range": (LANDMARK, {"reduce_range": True}),
        "landmark heads fp32 (Gemm)": (LANDMARK, {"exclude": ["Gemm"]}),
        "landmark NNCF, heads fp32": (LANDMARK, {"nncf": ["Gemm"]}),
        "palm shipped recipe": (PALM, {}),
        "palm score/box heads fp32": (PALM, {"exclude": PALM_HEADS}),
        "landmark NNCF, heads fp32, run by OpenVINO": (LANDMARK, {"nncf": ["Gemm"], "runtime": "openvino"}),
        "palm NNCF, run by OpenVINO": (PALM, {"nncf": [], "runtime": "openvino"}),
    }


THREADS, BATCH = 2, 8  # inference threads per session, images per call (recorded with the results)


def session(path: Path, runtime: str = "onnxruntime"):
    """The file on ONNX Runtime, or on OpenVINO (NNCF's palm file has per-channel zero points that ORT's
    QLinearConv refuses; OpenVINO runs NNCF's files natively)."""
    if runtime == "openvino":
        from gesture_audit.runtime import OpenVINOSession

        return OpenVINOSession(str(path), threads=THREADS)
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.log_severity_level = THREADS, 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def outputs(path: Path, x: np.ndarray, batch: int = BATCH, runtime: str = "onnxruntime") -> list[np.ndarray]:
    s = session(path, runtime)
    runs = [s.run(None, {s.get_inputs()[0].name: x[k : k + batch]}) for k in range(0, len(x), batch)]
    return [np.concatenate([r[i] for r in runs]) for i in range(len(runs[0]))]


def landmark_deviation(ref: list[np.ndarray], got: list[np.ndarray]) -> dict:
    hand = ref[1].ravel() > 0.5
    d = np.linalg.norm(ref[0].reshape(-1, 21, 3)[..., :2] - got[0].reshape(-1, 21, 3)[..., :2], axis=2).mean(1)[hand]
    return {
        "crops_with_hand": int(hand.sum()),
        "median_px": round(float(np.median(d)), 3),
        "p90_px": round(float(np.percentile(d, 90)), 3),
        "max_px": round(float(d.max()), 2),
        "handflag_max_change": round(float(np.abs(ref[1] - got[1]).max()), 3),
    }


def palm_deviation(ref: list[np.ndarray], got: list[np.ndarray]) -> dict:
    boxes, logits = ref[0], ref[1][..., 0]
    best = logits.argmax(1)
    palm = logits.max(1) > 0
    lost = palm & (got[1][np.arange(len(best)), best, 0] <= 0) & (got[1][..., 0].max(1) <= 0)
    err = np.abs(boxes[..., :4] - got[0][..., :4])[logits > 0]
    return {
        "photos_with_palm": int(palm.sum()),
        "palms_lost": int(lost.sum()),
        "best_logit_fp32_median": round(float(np.median(logits.max(1)[palm])), 2),
        "best_logit_int8_median": round(float(np.median(got[1][..., 0].max(1)[palm])), 2),
        "box_err_median_px": round(float(np.median(err)), 3) if err.size else None,
        "box_err_p90_px": round(float(np.percentile(err, 90)), 3) if err.size else None,
    }


def speed(paths: list[Path], x: np.ndarray, rounds: int, runtimes: list[str]) -> list[float]:
    sessions = [session(p, r) for p, r in zip(paths, runtimes)]
    feed = x[:BATCH]
    times: list[list[float]] = [[] for _ in paths]
    for s in sessions:
        s.run(None, {s.get_inputs()[0].name: feed})
    for _ in range(rounds):
        for s, t in zip(sessions, times):
            start = time.perf_counter()
            for _ in range(3):
                s.run(None, {s.get_inputs()[0].name: feed})
            t.append((time.perf_counter() - start) * 1000 / 3 / len(feed))
    return [round(statistics.median(t), 2) for t in times]


def sqnr(x: np.ndarray, lo, hi) -> float:
    """Signal-to-noise ratio (dB) of `x` quantised to uint8 over [lo, hi] (scalars or per channel)."""
    scale = np.maximum(hi - lo, 1e-12) / 255
    q = np.clip(np.round((x - lo) / scale), 0, 255) * scale + lo
    return round(float(10 * np.log10((x**2).mean() / ((x - q) ** 2).mean())), 1)


def depthwise_sqnr(calibration: np.ndarray, held_out: np.ndarray) -> list[dict]:
    """Per depthwise conv of the landmark model: SQNR (dB) of its input under uint8 per tensor and per channel."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(recipe.MODELS / LANDMARK))
    depthwise = [
        n for n in model.graph.node if n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)
    ]
    del model.graph.output[:]
    model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(n.input[0]) for n in depthwise)
    s = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    cal = [s.run(None, {"input_1": calibration[k : k + 8]}) for k in range(0, len(calibration), 8)]
    val = s.run(None, {"input_1": held_out[:32]})
    rows = []
    for i, node in enumerate(depthwise):
        c = np.concatenate([run[i] for run in cal])  # NCHW
        x = val[i]
        axes = (0, 2, 3)

        per_channel_hi = c.max(axis=axes).reshape(1, -1, 1, 1)
        per_channel_lo = np.minimum(c.min(axis=axes), 0).reshape(1, -1, 1, 1)
        rows.append(
            {
                "node": node.name.split(";")[-1],
                "channels": int(c.shape[1]),
                "channel_max_spread": round(float(per_channel_hi.max() / max(np.median(per_channel_hi), 1e-6)), 1),
                "sqnr_per_tensor_db": sqnr(x, np.minimum(c.min(), 0), c.max()),
                "sqnr_per_channel_db": sqnr(x, per_channel_lo, per_channel_hi),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="recipes whose name contains this")
    parser.add_argument("--tag", default="", help="appended to the results file's name")
    args = parser.parse_args(argv)
    if not (DEV / "labels.jsonl").is_file():
        sys.exit(f"needs the dev set at {DEV}")
    calibration = recipe.calibration_inputs(recipe.calibration_images(DEV, 16, 48))
    held_out = recipe.calibration_inputs(recipe.calibration_images(DEV, 16, 0, offset=8))
    cal = {k: np.concatenate(v) for k, v in calibration.items()}
    val = {k: np.concatenate(v) for k, v in held_out.items()}
    record: dict = {
        "machine": machine(),
        "threads": THREADS,
        "batch": BATCH,
        "note": "shared 2-core machine, other jobs running: timings are noisy, compare within this file",
        "calibration_inputs": {k: len(v) for k, v in cal.items()},
        "held_out_inputs": {k: len(v) for k, v in val.items()},
        "recipes": {},
    }
    reference = {name: outputs(recipe.MODELS / name, val[name]) for name in (LANDMARK, PALM)}
    with tempfile.TemporaryDirectory() as tmp:
        for label, (name, options) in recipes().items():
            if args.only and args.only not in label:
                continue
            target = Path(tmp) / f"{len(record['recipes'])}.onnx"
            if "nncf" in options:
                recipe.quantize_nncf(name, calibration[name], target, options["nncf"])
            else:
                recipe.quantize(name, calibration[name], target, **options)
            runtime = options.get("runtime", "onnxruntime")
            got = outputs(target, val[name], runtime=runtime)
            fp32_ms, int8_ms = speed([recipe.MODELS / name, target], val[name], args.rounds, ["onnxruntime", runtime])
            compare = landmark_deviation if name == LANDMARK else palm_deviation
            record["recipes"][label] = compare(reference[name], got) | {
                "ms_fp32_b8": fp32_ms,
                "ms_int8_b8": int8_ms,
                "speedup": round(fp32_ms / int8_ms, 2),
                "int8_runtime": runtime,
                "fp32_runtime": "onnxruntime",
            }
            print(label, record["recipes"][label], file=sys.stderr, flush=True)
    record["depthwise_inputs"] = depthwise_sqnr(cal[LANDMARK], val[LANDMARK])
    out = results_path("int8-sensitivity", str(date.today()), args.tag)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
