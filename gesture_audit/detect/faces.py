"""MediaPipe's BlazeFace detectors: letterboxed photos -> face boxes with 6 keypoints.

preprocess -> infer -> postprocess, batched over images, like `palm.py`. Input and decoding follow
MediaPipe's face_detection graphs: letterbox with a black border into −1..1 (not 0..1 as for
hands), SSD anchors, sigmoid scores, weighted non-maximum suppression at IoU 0.3.

Two models: full range (192², one anchor per 4-pixel cell, score threshold 0.6) finds faces down to
a few percent of the photo's long side, as in group photos; short range (128², threshold 0.5) is
MediaPipe's default for faces that fill much of a selfie and misses small ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gesture_audit.detect.palm import Letterbox, decode_ssd, letterbox, ssd_anchors
from gesture_audit.runtime import create_session, in_chunks

# Keypoint order of both models; "right" is the person's own right (the left one in the photo).
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_centre", "right_ear", "left_ear")


@dataclass(frozen=True)
class FaceModel:
    """What MediaPipe's graph says about one face detector file."""

    file: str
    size: int
    strides: tuple[int, ...]
    threshold: float
    one_anchor_per_cell: bool  # interpolated_scale_aspect_ratio 0: no second anchor per cell

    def anchors(self) -> np.ndarray:
        anchors = ssd_anchors(self.size, self.strides)
        # `ssd_anchors` repeats every centre twice per layer (palm and short-range face layout).
        return anchors[::2] if self.one_anchor_per_cell else anchors


MODELS = {
    "full": FaceModel("face_detection_full_range.onnx", 192, (4,), 0.6, True),
    "short": FaceModel("face_detection_short_range.onnx", 128, (8, 16, 16, 16), 0.5, False),
}


@dataclass
class Face:
    """A face in image pixels: its box, detector score and 6 keypoints (see `KEYPOINTS`)."""

    box: np.ndarray  # (4,) x0, y0, x1, y1
    score: float
    keypoints: np.ndarray  # (6, 2)

    def __post_init__(self) -> None:
        self.box = np.asarray(self.box, dtype=np.float32).reshape(4)
        self.keypoints = np.asarray(self.keypoints, dtype=np.float32).reshape(6, 2)

    def to_dict(self) -> dict:
        return {
            "box": [round(float(v), 1) for v in self.box],
            "score": round(self.score, 4),
            "keypoints": np.round(self.keypoints, 1).tolist(),
        }


class FaceDetector:
    """Batched face detection. `detect(images)` returns one list of `Face` per image.

    `model` is "full" (default: faces at any distance) or "short" (close-ups only); `threshold`
    overrides the model's own score threshold. Images are RGB uint8 arrays of any size.
    """

    def __init__(self, model: str = "full", *, threshold: float | None = None, nms_iou: float = 0.3, **session_options):
        if model not in MODELS:
            raise ValueError(f"face model must be one of {sorted(MODELS)}, not {model!r}")
        self.spec = MODELS[model]
        self.session = create_session(self.spec.file, **session_options)
        self.input_name = self.session.get_inputs()[0].name
        self.threshold = self.spec.threshold if threshold is None else threshold
        self.nms_iou = nms_iou
        self.anchors = self.spec.anchors()

    def preprocess(self, images: list[np.ndarray]) -> tuple[np.ndarray, list[Letterbox]]:
        # MediaPipe's face range is −1..1, the zero border becoming −1 (black), as in its graph.
        return letterbox(images, self.spec.size, low=-1.0, high=1.0)

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        outputs = self.session.run(None, {self.input_name: batch})
        # The two files name their outputs differently; the box tensor is the one with 16 values.
        regressors, logits = sorted(outputs, key=lambda o: -o.shape[-1])
        return regressors, logits[..., 0]

    def postprocess(self, regressors: np.ndarray, logits: np.ndarray, letterboxes: list[Letterbox]) -> list[list[Face]]:
        return [
            [Face(*found) for found in faces]
            for faces in decode_ssd(
                regressors, logits, self.anchors, self.spec.size, self.threshold, self.nms_iou, letterboxes
            )
        ]

    def detect(self, images: list[np.ndarray]) -> list[list[Face]]:
        return in_chunks(self._detect, images)  # a few images at a time: memory bounded by the chunk

    def _detect(self, images: list[np.ndarray]) -> list[list[Face]]:
        batch, letterboxes = self.preprocess(images)
        return self.postprocess(*self.infer(batch), letterboxes)
