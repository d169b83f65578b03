"""The ONNX hand engine on real photos: batching, parity with the tflite models and with MediaPipe."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from gesture_audit.detect.engine import Engine, EngineOptions
from gesture_audit.load import load_image
from gesture_audit.runtime import ModelError, create_session, model_path


def dev_images(dev_labels, dev_root, sets, per_set):
    rows = []
    for s in sets:
        rows += [r for r in dev_labels if r["set"] == s and r["hands"]][::7][:per_set]
    return rows, [load_image(dev_root / r["path"]) for r in rows]


def test_batch_equals_single_calls(engine, dev_labels, dev_root):
    _, images = dev_images(dev_labels, dev_root, ["subhih", "hagrid", "asl_digits", "epsrc"], 3)
    images.append(np.full((240, 320, 3), 127, np.uint8))  # nothing to find
    batched = engine.detect_hands(images)
    single = [engine.detect_hands([im])[0] for im in images]
    assert sum(map(len, batched)) >= len(images) - 2
    for b, s in zip(batched, single):
        assert len(b) == len(s)
        for hb, hs in zip(b, s):
            assert hb.handedness == hs.handedness
            np.testing.assert_allclose(hb.landmarks, hs.landmarks, atol=1e-2)


def test_empty_and_blank_inputs(engine):
    assert engine.detect_hands([]) == []
    assert engine.detect_hands([np.zeros((64, 48, 3), np.uint8)]) == [[]]


@pytest.mark.parametrize(
    "bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8), np.zeros((10, 10, 3), np.float32)]
)
def test_rejects_non_rgb_arrays(engine, bad):
    with pytest.raises(ValueError, match="RGB uint8"):
        engine.detect_hands([bad])


def test_hand_fields_are_in_image_pixels(engine, dev_labels, dev_root):
    rows, images = dev_images(dev_labels, dev_root, ["subhih"], 4)
    for image, hands in zip(images, engine.detect_hands(images)):
        h, w = image.shape[:2]
        for hand in hands:
            assert hand.landmarks.shape == (21, 3) and hand.world_landmarks.shape == (21, 3)
            assert -0.1 * w <= hand.box[0] < hand.box[2] <= 1.1 * w
            assert -0.1 * h <= hand.box[1] < hand.box[3] <= 1.1 * h
            assert 0.5 <= hand.presence <= 1 and 0.5 <= hand.score <= 1
            assert np.abs(hand.world_landmarks).max() < 0.2  # metres around the hand centre


def test_mirrored_photo_swaps_handedness(engine, dev_labels, dev_root):
    _, images = dev_images(dev_labels, dev_root, ["hagrid"], 6)
    flips = 0
    for image in images:
        a, b = engine.detect_hands([image, np.ascontiguousarray(image[:, ::-1])])
        if len(a) == 1 and len(b) == 1 and min(a[0].handedness_score, b[0].handedness_score) > 0.9:
            assert a[0].handedness != b[0].handedness
            flips += 1
    assert flips >= 3


def test_rotated_photo_gives_rotated_landmarks(engine, dev_labels, dev_root):
    _, images = dev_images(dev_labels, dev_root, ["hagrid"], 6)
    checked = 0
    for image in images:
        h = image.shape[0]
        up, turned = engine.detect_hands([image, np.ascontiguousarray(np.rot90(image, -1))])
        if len(up) == 1 and len(turned) == 1:
            # rot90 clockwise maps (x, y) -> (h - 1 - y, x)
            expected = np.stack([h - 1 - up[0].landmarks[:, 1], up[0].landmarks[:, 0]], 1)
            size = np.ptp(up[0].landmarks[:, :2], 0).max()
            assert np.median(np.linalg.norm(turned[0].landmarks[:, :2] - expected, axis=1)) < 0.08 * size
            checked += 1
    assert checked >= 3


def test_fast_profile_runs(dev_labels, dev_root):
    _, images = dev_images(dev_labels, dev_root, ["hagrid"], 4)
    found = Engine(EngineOptions.fast()).detect_hands(images)
    assert sum(map(len, found)) >= 3


def test_onnx_matches_tflite(engine, dev_labels, dev_root):
    """The converted landmark and palm models equal their tflite sources on the same tensors."""
    litert = pytest.importorskip("ai_edge_litert.interpreter", reason="needs ai-edge-litert (gesture-audit[reference])")
    from gesture_audit.detect.landmarks import Roi

    _, images = dev_images(dev_labels, dev_root, ["hagrid", "subhih"], 3)
    palm_batch, _ = engine.palms.preprocess(images)
    palms = engine.palms.detect(images)
    crops = [(im, Roi.from_palm(p)) for im, found in zip(images, palms) for p in found]
    hand_batch = engine.landmarker.preprocess(crops)
    for name, batch, session in [
        ("palm_detection_full.tflite", palm_batch, engine.palms.session),
        ("hand_landmark_full.tflite", hand_batch, engine.landmarker.session),
    ]:
        onnx_out = session.run(None, {session.get_inputs()[0].name: batch})
        interp = litert.Interpreter(str(model_path(name)))
        interp.allocate_tensors()
        details = sorted(interp.get_output_details(), key=lambda d: d["name"])
        for i in range(len(batch)):
            interp.set_tensor(interp.get_input_details()[0]["index"], batch[i : i + 1])
            interp.invoke()
            for d, ref in zip(details, onnx_out):
                got = interp.get_tensor(d["index"])[0]
                # landmarks are in 0..224 crop pixels, palm regressors in 0..192 input pixels
                assert np.abs(got - ref[i]).max() < 1e-3, (name, d["name"])


def test_manifest_mismatch_is_a_clear_error(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(model_path("palm_detection_lite.onnx"), folder)
    shutil.copy(model_path("palm_detection_lite.onnx").parent / "manifest.json", folder)
    with open(folder / "palm_detection_lite.onnx", "ab") as f:
        f.write(b"tampered")
    with pytest.raises(ModelError, match="sha256"):
        create_session("palm_detection_lite.onnx", directory=folder)
    with pytest.raises(ModelError, match="missing|not listed"):
        create_session("hand_landmark_lite.onnx", directory=folder)


def test_recall_at_least_mediapipe(engine, mediapipe_hands, dev_labels, dev_root):
    """Tight crops (hands touching the border) are where MediaPipe misses; the padded pass recovers them."""
    rows, images = dev_images(dev_labels, dev_root, ["asl_digits", "hagrid", "epsrc"], 30)
    ours = sum(bool(h) for h in engine.detect_hands(images))
    theirs = sum(bool(h) for h in mediapipe_hands.detect_hands(images))
    without = sum(bool(h) for h in Engine(EngineOptions(recover=False)).detect_hands(images))
    assert ours >= theirs and ours >= without
    assert ours >= 0.95 * len(images)


def test_exact_mode_matches_mediapipe_landmarks(mediapipe_hands, dev_labels, dev_root):
    """EngineOptions.exact() is MediaPipe Tasks step for step: landmarks agree to about a pixel."""
    from gesture_audit.detect.core import box_iou

    _, images = dev_images(dev_labels, dev_root, ["hagrid", "subhih", "epsrc"], 8)
    exact = Engine(EngineOptions.exact())
    dist = []
    for ours, theirs in zip(exact.detect_hands(images), mediapipe_hands.detect_hands(images)):
        assert len(ours) == len(theirs)
        for hand in theirs:
            best = max(ours, key=lambda h: box_iou(h.box, hand.box))
            dist.append(np.linalg.norm(best.landmarks[:, :2] - hand.landmarks[:, :2], axis=1))
    d = np.concatenate(dist)
    assert len(dist) >= 15
    assert np.median(d) <= 1.0 and np.percentile(d, 95) <= 4.0


def test_handedness_follows_the_thumb_side_of_a_palm_facing_the_camera(engine, dev_labels, dev_root):
    """HaGRID's palm and stop classes show the palm to the camera: there, a right hand has its index
    knuckle on the image's right of the pinky knuckle (fingers up), whatever the rotation."""
    rows = [r for r in dev_labels if r["set"] == "hagrid" and r["path"].split("/")[1] in ("palm", "stop")]
    images = [load_image(dev_root / r["path"]) for r in rows]
    checked = 0
    for hands in engine.detect_hands(images):
        for hand in hands:
            lm = hand.landmarks
            a, b = lm[5, :2] - lm[0, :2], lm[17, :2] - lm[0, :2]
            chirality = "right" if a[0] * b[1] - a[1] * b[0] < 0 else "left"
            assert hand.handedness == chirality
            checked += 1
    assert checked >= 15


def test_gpu_providers_fall_back_to_the_cpu_with_a_warning(engine):
    """The CUDA path as configured on a GPU machine: here it must say it runs on the CPU and give
    the CPU engine's hands (on a GPU machine with onnxruntime-gpu it runs there and still matches)."""
    import onnxruntime as ort

    samples = Path(__file__).resolve().parents[2] / "samples"
    image = load_image(next(samples.glob("v_*.jpg")))
    wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if "CUDAExecutionProvider" in ort.get_available_providers():
        gpu = Engine(EngineOptions(providers=wanted))
    else:
        with pytest.warns(UserWarning, match="CUDAExecutionProvider not available"):
            gpu = Engine(EngineOptions(providers=wanted))
    on_cpu, on_gpu = engine.detect_hands([image])[0], gpu.detect_hands([image])[0]
    assert len(on_cpu) == len(on_gpu) == 1
    np.testing.assert_allclose(on_gpu[0].landmarks[:, :2], on_cpu[0].landmarks[:, :2], atol=0.5)
