"""Reproduce every file in gesture_audit/models/ from the package index.

Run inside a throwaway venv (see models/README.md for the recipe):

    python -m venv /tmp/conv && /tmp/conv/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx
    /tmp/conv/bin/pip download --no-deps mediapipe==0.10.21 -d /tmp/conv/wheels
    /tmp/conv/bin/python models/convert.py /tmp/conv/wheels/mediapipe-0.10.21-*.whl

The tflite files are copied out of the wheel byte for byte (sparse ones are densified first, see
`densify`); the ONNX files are tf2onnx conversions whose batch dimension is then made symbolic (see
`make_batch_dynamic`), rewritten so that ONNX Runtime's blocked (NCHWc) CPU kernels cover the
whole graph (see `nchwc_friendly`). The manifest records the sha256 of every file and the tool versions used.

tf2onnx is not byte-deterministic (generated constant names and order vary between runs), so a file
whose source, input and recipe match its manifest entry and whose sha256 still matches is kept as it
is; `--force` rebuilds everything (and changes the ONNX files' hashes).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

# The recipe lives here; the files it makes ship in the package (gesture_audit/runtime.py reads them).
OUT = Path(__file__).resolve().parent.parent / "gesture_audit" / "models"
PACKAGE = "mediapipe==0.10.21"
LICENCE = "Apache-2.0"

# name -> (path inside the wheel, input description, also keep the tflite?)
MODELS = {
    "palm_detection_full": (
        "mediapipe/modules/palm_detection/palm_detection_full.tflite",
        "NHWC float32 RGB, 192x192, range 0..1, letterboxed",
        True,
    ),
    "palm_detection_lite": (
        "mediapipe/modules/palm_detection/palm_detection_lite.tflite",
        "NHWC float32 RGB, 192x192, range 0..1, letterboxed",
        False,
    ),
    "hand_landmark_full": (
        "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
        "NHWC float32 RGB, 224x224, range 0..1, rotated hand crop",
        True,
    ),
    "hand_landmark_lite": (
        "mediapipe/modules/hand_landmark/hand_landmark_lite.tflite",
        "NHWC float32 RGB, 224x224, range 0..1, rotated hand crop",
        False,
    ),
    # Face detectors take -1..1 (ImageToTensorCalculator output_tensor_float_range in MediaPipe's
    # face_detection.pbtxt), letterboxed with a zero (black, so -1) border.
    "face_detection_short_range": (
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        "NHWC float32 RGB, 128x128, range -1..1, letterboxed",
        True,
    ),
    "face_detection_full_range": (
        "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
        "NHWC float32 RGB, 192x192, range -1..1, letterboxed",
        True,
    ),
}
# Models stored with sparse (DENSIFY) weights, which tf2onnx cannot read.
SPARSE = {"face_detection_full_range"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_batch_dynamic(model: onnx.ModelProto) -> onnx.ModelProto:
    """tf2onnx fixes the batch at 1: make dim 0 symbolic and let Reshape keep it."""
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    del model.graph.value_info[:]
    # Detector heads reshape to [1, -1, k]; 0 copies the batch from the input instead.
    for init in model.graph.initializer:
        if init.data_type == onnx.TensorProto.INT64:
            shape = numpy_helper.to_array(init)
            if shape.ndim == 1 and len(shape) == 3 and shape[0] == 1 and shape[1] == -1:
                init.CopyFrom(numpy_helper.from_array(np.array([0, -1, shape[2]], np.int64), init.name))
    # Reshape with a 0 must not be allowed to mean "zero-sized" for any shape tensor we touched.
    for node in model.graph.node:
        if node.op_type == "Reshape":
            for attr in node.attribute:
                if attr.name == "allowzero":
                    attr.i = 0
    onnx.checker.check_model(model)
    return model


def nchwc_friendly(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replace the two ops that make ONNX Runtime leave its fast blocked layout, with exact equivalents.

    ONNX Runtime runs Conv, Add, MaxPool and Resize in a blocked channel layout (NCHWc) but has no
    blocked PRelu or Pad, so each of those costs two layout reorders and a slow broadcast kernel:
    40 % of the palm detector's time on this CPU. So:
    - PRelu(x) = x + (1 - slope) * Relu(-x): two depthwise 1x1 convolutions (weights -1, then
      1 - slope) with a Relu between, the Add fused into the second one;
    - a Pad that only appends zero channels (BlazePalm's residual shortcuts) = a 1x1 convolution
      with identity weights.
    The results equal the original graph's to float rounding (test_onnx_matches_tflite).
    """
    graph = model.graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
    channels = {v.name: v.type.tensor_type.shape.dim[1].dim_value for v in inferred}
    nodes = []
    for node in graph.node:
        out = node.output[0]
        if node.op_type == "PRelu" and node.input[1] in weights:
            x, slope = node.input[0], weights[node.input[1]].reshape(-1).astype(np.float32)
            c = slope.size
            graph.initializer.extend(
                [
                    numpy_helper.from_array(-np.ones((c, 1, 1, 1), np.float32), f"{out}/neg"),
                    numpy_helper.from_array((1 - slope).reshape(c, 1, 1, 1), f"{out}/gain"),
                ]
            )
            nodes += [
                onnx.helper.make_node("Conv", [x, f"{out}/neg"], [f"{out}/-x"], group=c, kernel_shape=[1, 1]),
                onnx.helper.make_node("Relu", [f"{out}/-x"], [f"{out}/relu(-x)"]),
                onnx.helper.make_node(
                    "Conv", [f"{out}/relu(-x)", f"{out}/gain"], [f"{out}/scaled"], group=c, kernel_shape=[1, 1]
                ),
                onnx.helper.make_node("Add", [x, f"{out}/scaled"], [out]),
            ]
            continue
        if node.op_type == "Pad" and len(node.input) > 1 and node.input[1] in weights:
            pads = weights[node.input[1]].tolist()  # begins of N, C, H, W then ends
            value = weights.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            mode = next((a.s for a in node.attribute if a.name == "mode"), b"constant")
            if (
                len(pads) == 8
                and pads[5] > 0
                and not any(pads[:5] + pads[6:])
                and mode == b"constant"
                and (value is None or float(value) == 0.0)
                and channels.get(node.input[0])
            ):
                c = channels[node.input[0]]
                eye = np.zeros((c + pads[5], c, 1, 1), np.float32)
                eye[np.arange(c), np.arange(c)] = 1
                graph.initializer.append(numpy_helper.from_array(eye, f"{out}/eye"))
                nodes.append(onnx.helper.make_node("Conv", [node.input[0], f"{out}/eye"], [out], kernel_shape=[1, 1]))
                continue
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(model)
    return model


def densify(src: Path, dst: Path) -> None:
    """Rewrite a tflite whose weights pass through DENSIFY ops with those weights stored dense.

    The dense values are read from the TFLite interpreter itself, without its default delegates:
    with XNNPACK the preserved intermediate tensors it returns are wrong. Each DENSIFY output
    becomes a constant, the op and the now unused sparse tensors are dropped.
    """
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    interpreter = tf.lite.Interpreter(
        model_path=str(src),
        experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    interpreter.set_tensor(inp["index"], np.zeros(inp["shape"], inp["dtype"]))
    interpreter.invoke()

    model = flatbuffer_utils.read_model(str(src))
    graph = model.subgraphs[0]
    ops = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) != schema.BuiltinOperator.DENSIFY:
            ops.append(op)
            continue
        model.buffers[graph.tensors[op.inputs[0]].buffer].data = None
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(interpreter.get_tensor(op.outputs[0]).tobytes(), np.uint8)
        model.buffers.append(buffer)
        graph.tensors[op.outputs[0]].buffer = len(model.buffers) - 1
    # tf2onnx parses every tensor, so the orphaned sparse ones must go, and indices be renumbered.
    used = sorted(
        {i for op in ops for i in [*op.inputs, *op.outputs] if i >= 0} | set(graph.inputs) | set(graph.outputs)
    )
    index = {old: new for new, old in enumerate(used)}
    graph.tensors = [graph.tensors[i] for i in used]
    for op in ops:
        op.inputs = [index.get(i, -1) for i in op.inputs]
        op.outputs = [index[i] for i in op.outputs]
    graph.inputs = [index[i] for i in graph.inputs]
    graph.outputs = [index[i] for i in graph.outputs]
    graph.operators = ops
    flatbuffer_utils.write_model(model, str(dst))


def up_to_date(path: Path, entry: dict, old: dict | None) -> bool:
    """The file exists, is the one `old` describes, and `old` was made from the same source the same way."""
    return (
        old is not None
        and path.is_file()
        and sha256(path) == old.get("sha256")
        and all(old.get(key) == entry[key] for key in ("source", "licence", "input", "recipe"))
    )


def main(wheel: str, force: bool = False) -> None:
    import tensorflow as tf
    import tf2onnx

    manifest_file = OUT / "manifest.json"
    previous = {} if force or not manifest_file.is_file() else json.loads(manifest_file.read_text())["files"]
    manifest = {
        "source_package": PACKAGE,
        "licence": LICENCE,
        "tools": {
            "tensorflow-cpu": tf.__version__,
            "tf2onnx": tf2onnx.__version__,
            "onnx": onnx.__version__,
            "python": sys.version.split()[0],
        },
        "opset": 17,
        "files": {},
    }
    with zipfile.ZipFile(wheel) as zf, tempfile.TemporaryDirectory() as tmp:
        for name, (inner, layout, keep_tflite) in MODELS.items():
            source = {"source": f"{PACKAGE}:{inner}", "licence": LICENCE, "input": layout}
            tflite = Path(tmp) / f"{name}.tflite"
            tflite.write_bytes(zf.read(inner))
            tflite_recipe = "copied unchanged from the wheel"
            if name in SPARSE:
                densify(tflite, tflite)
                tflite_recipe = "densify (TFLite interpreter without delegates), see convert.py"
            out = OUT / f"{name}.onnx"
            entry = {
                **source,
                "recipe": ("densify, then " if name in SPARSE else "")
                + "tf2onnx --tflite --opset 17, then make_batch_dynamic, nchwc_friendly",
            }
            if up_to_date(out, entry, previous.get(out.name)):
                print(f"{out.name}: unchanged, kept")
            else:
                raw = Path(tmp) / f"{name}.raw.onnx"
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "tf2onnx.convert",
                        "--tflite",
                        str(tflite),
                        "--opset",
                        "17",
                        "--output",
                        str(raw),
                    ],
                    check=True,
                )
                onnx.save(nchwc_friendly(make_batch_dynamic(onnx.load(raw))), out)
            manifest["files"][out.name] = {"sha256": sha256(out), **entry}
            if keep_tflite:
                copy = OUT / tflite.name
                copy.write_bytes(tflite.read_bytes())
                manifest["files"][copy.name] = {"sha256": sha256(copy), **source, "recipe": tflite_recipe}
    manifest_file.write_text(json.dumps(manifest, indent=2) + "\n")


def rewrite_only() -> None:
    """Bring ONNX files converted before `nchwc_friendly` joined the recipe up to date, in place
    (no tensorflow needed): the same result as a full conversion, without tf2onnx's renaming."""
    manifest_file = OUT / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    for name, entry in manifest["files"].items():
        path = OUT / name
        if name.endswith(".onnx") and not entry["recipe"].endswith("nchwc_friendly"):
            if sha256(path) != entry["sha256"]:
                sys.exit(f"{name}: sha256 differs from the manifest; run a full conversion")
            onnx.save(nchwc_friendly(onnx.load(path)), path)
            entry["recipe"] += ", nchwc_friendly"
            entry["sha256"] = sha256(path)
            print(f"{name}: rewritten")
    manifest["tools"]["onnx"] = onnx.__version__
    manifest_file.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    if "--rewrite-only" in sys.argv[1:]:
        rewrite_only()
    else:
        args = [a for a in sys.argv[1:] if a != "--force"]
        main(args[0], force="--force" in sys.argv[1:])
