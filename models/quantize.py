"""int8 hand models by post-training quantisation (ONNX Runtime static QDQ, per-channel weights).

    python models/quantize.py [--dev ../shared/data/dev] [--every 16] [--rendered 48]

Writes `gesture_audit/models/<stem>.int8.onnx` for the full landmark model (see FILES) and its manifest
entries (sha256, source, recipe). Calibration data are the models' own inputs, made by the package's
own preprocessing from rendered photos (`gesture_audit.synth`, seeded) and every `--every`-th dev
photo: palm inputs are the letterboxed photos; landmark inputs are the rotated hand crops of the palms
the fp32 palm model finds in them. Activations uint8 (MinMax), weights int8 per output channel.

Whether a precision is offered is decided by the accuracy guard (`python -m benchmarks.runtimes`),
not here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "gesture_audit" / "models"
# The landmark model only. The palm detector quantised this way lost its detections (max palm logit
# on rendered hands 4.5 -> 0.7, below the 0.5 score threshold after the sigmoid: no hand found), and
# ONNX Runtime's int8 palm model was slower than fp32 even on a VNNI CPU (issue 14's table).
FILES = ["hand_landmark_full.onnx"]


def calibration_images(dev: Path | None, every: int, rendered: int, offset: int = 0) -> list[np.ndarray]:
    from gesture_audit.load import load_image
    from gesture_audit.synth.core import render_group, render_hand
    from gesture_audit.synth.gestures import GESTURES

    rng = np.random.default_rng(14)
    names = sorted(GESTURES)
    images = [render_hand(gesture=names[i % len(names)], rng=rng).image for i in range(rendered - rendered // 4)]
    images += [render_group(int(rng.integers(2, 5)), rng).image for _ in range(rendered // 4)]
    if dev is not None and (dev / "labels.jsonl").is_file():
        lines = [json.loads(line) for line in (dev / "labels.jsonl").read_text().splitlines() if line.strip()]
        for label in lines[offset::every]:
            images.append(load_image(dev / label["path"], max_side=1920))
    return images


def calibration_inputs(images: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    from gesture_audit.detect.engine import Engine, EngineOptions
    from gesture_audit.detect.landmarks import Roi

    engine = Engine(EngineOptions(runtime="onnxruntime", precision="fp32"))
    palm_batch, _ = engine.palms.preprocess(images)
    crops = [
        (image, Roi.from_palm(palm)) for image, palms in zip(images, engine.palms.detect(images)) for palm in palms[:4]
    ]
    crop_batch = engine.landmarker.preprocess(crops)
    return {
        "palm_detection_full.onnx": list(palm_batch[:, None]),
        "hand_landmark_full.onnx": list(crop_batch[:, None]),
    }  # palm: for a try with FILES extended


def quantize(
    name: str, inputs: list[np.ndarray], target: Path | None = None, exclude: Sequence[str] = (), **options
) -> Path:
    """Static QDQ quantisation of `name` calibrated on `inputs`, `exclude` (node op types, or parts of
    node names, e.g. ["Gemm"]) kept fp32; `options` change the recipe below (`weight_type`,
    `activation_type`, `reduce_range`, `calibrate_method`: quantize_static's), as
    benchmarks/int8_sensitivity.py tries."""
    import onnxruntime as ort
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source = MODELS / name
    input_name = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter({input_name: x} for x in inputs)

        def get_next(self):
            return next(self.feeds, None)

    target = target or MODELS / (name.removesuffix(".onnx") + ".int8.onnx")
    recipe = {
        "quant_format": QuantFormat.QDQ,
        "per_channel": True,
        "activation_type": QuantType.QUInt8,
        "weight_type": QuantType.QInt8,
        "calibrate_method": CalibrationMethod.MinMax,
    } | options
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        import onnx

        nodes = onnx.load(str(prepared)).graph.node
        kept = [n.name for n in nodes if n.op_type in exclude or any(e in n.name for e in exclude)]
        quantize_static(str(prepared), str(target), Reader(), nodes_to_exclude=kept, **recipe)
    return target


def quantize_nncf(name: str, inputs: list[np.ndarray], target: Path, ignored_types: list[str]) -> Path:
    """NNCF's post-training quantisation (MIXED preset: asymmetric activations, fast bias correction)
    of `name`, `ignored_types` kept fp32; a QDQ ONNX file (NNCF quantises the inputs of depthwise
    convolutions per channel, which OpenVINO runs and ONNX Runtime's QLinearConv cannot)."""
    import nncf
    import onnx

    model = onnx.load(str(MODELS / name))
    feed = model.graph.input[0].name
    quantized = nncf.quantize(
        model,
        nncf.Dataset(inputs, lambda x: {feed: x}),
        subset_size=len(inputs),
        preset=nncf.QuantizationPreset.MIXED,
        ignored_scope=nncf.IgnoredScope(types=ignored_types),
    )
    onnx.save(quantized, str(target))
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "data" / "dev")
    parser.add_argument("--every", type=int, default=16, help="every k-th dev photo calibrates")
    parser.add_argument("--rendered", type=int, default=48, help="rendered photos (a quarter of them groups)")
    parser.add_argument(
        "--nncf", action="store_true", help="NNCF's recipe (quantize_nncf) instead of onnxruntime's (for a trial)"
    )
    parser.add_argument(
        "--models", type=Path, default=MODELS, help="a copy of the models folder to write into (default: the package's)"
    )
    args = parser.parse_args(argv)
    import onnxruntime

    images = calibration_images(args.dev, args.every, args.rendered)
    inputs = calibration_inputs(images)
    manifest_file = args.models / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    for name in FILES:
        target = args.models / (name.removesuffix(".onnx") + ".int8.onnx")
        if args.nncf:
            quantize_nncf(name, inputs[name], target, ["Gemm"])
        else:
            quantize(name, inputs[name], target)
        source = manifest["files"][name]
        manifest["files"][target.name] = {
            "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            "source": f"{name} ({source['source']})",
            "licence": source["licence"],
            "input": source["input"],
            "recipe": (
                (
                    "models/quantize.py --nncf: NNCF MIXED preset, Gemm heads fp32; "
                    if args.nncf
                    else f"models/quantize.py: onnxruntime {onnxruntime.__version__} quantize_static, QDQ, "
                    "uint8 activations (MinMax), int8 per-channel weights; "
                )
                + f"calibrated on {len(inputs[name])} "
                f"inputs from {args.rendered} rendered photos and every {args.every}th dev photo"
            ),
        }
        print(f"{target.name}: {target.stat().st_size / 1e6:.1f} MB from {len(inputs[name])} inputs", file=sys.stderr)
    manifest_file.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
