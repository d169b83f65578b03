"""Face detection (BlazeFace short and full range through ONNX Runtime); needs no optional extra.

Rendered faces check the geometry everywhere; the dev photos (../shared/data/dev/faces) check real
faces, MediaPipe's own FaceDetector is the oracle for decoding, LiteRT for the ONNX conversion.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from paths import FACES, needs_faces

from gesture_audit.detect.faces import KEYPOINTS, MODELS, FaceDetector

needs_dev = needs_faces


def render_face(canvas: tuple[int, int], centre: tuple[int, int], r: int) -> tuple[np.ndarray, dict]:
    """A drawn frontal face (hair, skin, eyes, brows, nose, mouth, ears) and where its parts are."""
    h, w = canvas
    image = np.full((h, w, 3), (90, 120, 150), np.uint8)
    add_face(image, centre, r)
    return cv2.GaussianBlur(image, (5, 5), 0), {
        "centre": np.array(centre, np.float32),
        "eyes": np.array(
            [[centre[0] - 0.35 * r, centre[1] - 0.15 * r], [centre[0] + 0.35 * r, centre[1] - 0.15 * r]], np.float32
        ),
    }


def add_face(image: np.ndarray, centre: tuple[int, int], r: int) -> None:
    cx, cy = centre
    p = lambda f: int(round(f * r))  # noqa: E731 - lengths in units of the face radius
    cv2.ellipse(image, (cx, cy - p(0.25)), (p(1.05), p(1.1)), 0, 180, 360, (40, 30, 25), -1)
    cv2.ellipse(image, (cx, cy), (p(0.8), r), 0, 0, 360, (180, 140, 120), -1)
    for side in (-1, 1):
        ex, ey = cx + side * p(0.35), cy - p(0.15)
        cv2.ellipse(image, (ex, ey), (p(0.16), p(0.08)), 0, 0, 360, (250, 250, 250), -1)
        cv2.circle(image, (ex, ey), p(0.07), (50, 35, 30), -1)
        cv2.line(image, (ex - p(0.18), ey - p(0.2)), (ex + p(0.18), ey - p(0.22)), (50, 35, 30), max(2, p(0.05)))
        cv2.ellipse(image, (cx + side * p(0.82), cy), (p(0.1), p(0.2)), 0, 0, 360, (170, 130, 110), -1)
    cv2.line(image, (cx, cy - p(0.05)), (cx - p(0.07), cy + p(0.25)), (150, 105, 90), 3)
    cv2.ellipse(image, (cx, cy + p(0.5)), (p(0.25), p(0.08)), 0, 0, 360, (160, 60, 60), -1)


@pytest.fixture(scope="module", params=sorted(MODELS))
def detector(request):
    return FaceDetector(request.param, threads=1)


@pytest.fixture(scope="module")
def full():
    return FaceDetector("full", threads=1)


def load(path: Path) -> np.ndarray:
    from gesture_audit.load import load_image

    return load_image(path)


# Square, wide and tall canvases exercise the letterbox in both directions.
RENDERS = [((400, 400), (200, 210), 90), ((480, 800), (560, 230), 80), ((900, 500), (250, 640), 110)]


@pytest.mark.parametrize("canvas,centre,r", RENDERS)
def test_rendered_face_found_where_drawn(detector, canvas, centre, r):
    image, truth = render_face(canvas, centre, r)
    faces = detector.detect([image])[0]
    assert len(faces) == 1
    face = faces[0]
    assert face.score >= detector.threshold
    box_centre = (face.box[:2] + face.box[2:]) / 2
    assert np.abs(box_centre - truth["centre"]).max() < 0.25 * r
    assert 1.2 * r < face.box[2] - face.box[0] < 2.6 * r
    # Keypoint 0 is the person's right eye: on the left of the photo.
    assert np.abs(face.keypoints[:2] - truth["eyes"]).max() < 0.2 * r
    assert face.keypoints.shape == (len(KEYPOINTS), 2)


def test_two_rendered_faces_and_a_mirror(full):
    image = np.full((500, 900, 3), (90, 120, 150), np.uint8)
    add_face(image, (230, 260), 100)
    add_face(image, (680, 240), 70)
    faces = sorted(full.detect([image])[0], key=lambda f: f.box[0])
    assert len(faces) == 2
    mirrored = sorted(full.detect([image[:, ::-1].copy()])[0], key=lambda f: f.box[0])
    assert len(mirrored) == 2
    for face, flipped in zip(faces, mirrored[::-1]):
        expected = np.array([900 - face.box[2], face.box[1], 900 - face.box[0], face.box[3]])
        assert np.abs(flipped.box - expected).max() < 0.1 * (face.box[2] - face.box[0])


def test_nothing_in_blank_images(detector):
    images = [np.zeros((300, 500, 3), np.uint8), np.full((640, 480, 3), 200, np.uint8)]
    assert detector.detect(images) == [[], []]
    assert detector.detect([]) == []


def test_nothing_in_noise(full):
    # Short range is not asked: it sees a face (0.52) in this noise, one reason full is the default.
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert full.detect([noise]) == [[]]


def test_batch_equals_one_at_a_time(detector):
    images = [render_face(*args)[0] for args in RENDERS]
    batched = detector.detect(images)
    for image, together in zip(images, batched):
        alone = detector.detect([image])[0]
        assert len(alone) == len(together) == 1
        np.testing.assert_allclose(alone[0].box, together[0].box, atol=1e-3)
        np.testing.assert_allclose(alone[0].keypoints, together[0].keypoints, atol=1e-3)


def test_face_to_dict(full):
    face = full.detect([render_face(*RENDERS[0])[0]])[0][0]
    d = face.to_dict()
    assert set(d) == {"box", "score", "keypoints"} and len(d["keypoints"]) == 6


def test_unknown_model_name():
    with pytest.raises(ValueError, match="face model"):
        FaceDetector("medium")


# --- real photos -------------------------------------------------------------------------------


@needs_dev
def test_one_face_in_every_reference_photo(full):
    paths = sorted((FACES / "train").glob("*/*"))
    assert len(paths) >= 9
    found = full.detect([load(p) for p in paths])
    assert [len(f) for f in found] == [1] * len(paths)


@needs_dev
@pytest.mark.parametrize(
    "name,count",
    [
        ("obama_and_biden.jpg", 2),
        ("kit_with_rose.jpg", 2),
        ("obama1.jpg", 1),
        ("alex_lacamoire1.jpg", 1),
        ("johnsnow_test1.jpg", 1),
    ],
)
def test_faces_in_test_photos(full, name, count):
    faces = full.detect([load(FACES / "test" / name)])[0]
    assert len(faces) == count
    for face in faces:
        x0, y0, x1, y1 = face.box
        eyes, nose = face.keypoints[:2], face.keypoints[2]
        assert (eyes[:, 0] > x0).all() and (eyes[:, 0] < x1).all() and (eyes[:, 1] > y0).all()
        assert eyes[0, 0] < nose[0] < eyes[1, 0]  # frontal faces: right eye, nose, left eye
        assert eyes[:, 1].max() < face.keypoints[3, 1] < y1  # mouth below the eyes


@needs_dev
def test_short_range_misses_small_faces_that_full_range_finds():
    # The reason "full" is the default: the faces in this 2000-px group photo are ~10 % of its side.
    image = load(FACES / "test" / "obama_and_biden.jpg")
    assert FaceDetector("short", threads=1).detect([image]) == [[]]


@needs_dev
def test_short_range_matches_mediapipe_face_detector():
    """MediaPipe's own FaceDetector on the same short-range tflite is the decoding oracle."""
    mp = pytest.importorskip("mediapipe", reason="the MediaPipe oracle needs gesture-audit[reference]")
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python.vision import FaceDetector as MediaPipeFaceDetector
    from mediapipe.tasks.python.vision import FaceDetectorOptions

    from gesture_audit.runtime import model_path

    ours = FaceDetector("short", threads=1)
    options = FaceDetectorOptions(
        base_options=BaseOptions(model_asset_path=str(model_path("face_detection_short_range.tflite")))
    )
    paths = sorted((FACES / "train").glob("*/*")) + sorted((FACES / "test").glob("*"))
    compared = 0
    with MediaPipeFaceDetector.create_from_options(options) as oracle:
        for path in paths:
            image = load(path)
            result = oracle.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image)))
            theirs = sorted(
                (d.bounding_box.origin_x, d.bounding_box.origin_y, d.categories[0].score) for d in result.detections
            )
            mine = sorted(ours.detect([image])[0], key=lambda f: (f.box[0], f.box[1]))
            assert len(mine) == len(theirs), path.name
            side = max(image.shape[:2])
            for face, (x, y, score) in zip(mine, theirs):
                # MediaPipe rounds the box to whole pixels; allow that plus 0.2 % of the photo.
                assert abs(face.box[0] - x) <= 1 + 0.002 * side and abs(face.box[1] - y) <= 1 + 0.002 * side
                assert abs(face.score - score) < 0.01
                compared += 1
    assert compared >= 12


@needs_dev
@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnx_matches_tflite(name):
    """The converted ONNX model against the tflite it came from (LiteRT), on real letterboxed photos."""
    litert = pytest.importorskip("ai_edge_litert.interpreter", reason="LiteRT comes with gesture-audit[reference]")
    from gesture_audit.runtime import model_path

    detector = FaceDetector(name, threads=1)
    images = [load(p) for p in sorted((FACES / "test").glob("*"))]
    batch, _ = detector.preprocess(images)
    regressors, logits = detector.infer(batch)
    interpreter = litert.Interpreter(
        model_path=str(model_path(detector.spec.file.replace(".onnx", ".tflite"))), num_threads=1
    )
    interpreter.allocate_tensors()
    compared = 0
    for x, reg, logit in zip(batch, regressors, logits):
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x[None])
        interpreter.invoke()
        ref_reg, ref_logit = sorted(
            (interpreter.get_tensor(o["index"])[0] for o in interpreter.get_output_details()),
            key=lambda o: -o.shape[-1],
        )
        assert np.abs(logit - ref_logit[:, 0]).max() < 0.05
        confident = ref_logit[:, 0] > 0  # score above 0.5: the anchors that become faces
        if confident.any():
            assert np.abs(reg[confident] - ref_reg[confident]).max() < 1e-3  # input pixels, of up to ~100
            compared += 1
    assert compared >= 4
