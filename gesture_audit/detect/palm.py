"""MediaPipe's palm detector: letterboxed 192×192 photos -> palm boxes with 7 keypoints.

preprocess -> infer -> postprocess, batched over images. Decoding follows MediaPipe's
palm_detection graph: SSD anchors (strides 8, 16, 16, 16; 2016 in all), sigmoid scores,
threshold 0.5, weighted non-maximum suppression at IoU 0.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gesture_audit.detect.core import sigmoid
from gesture_audit.runtime import create_session, in_chunks

SIZE = 192


@dataclass
class Palm:
    """A palm in image pixels: its box, score and 7 keypoints (0 wrist, 2 middle-finger MCP)."""

    box: np.ndarray  # (4,) x0, y0, x1, y1
    score: float
    keypoints: np.ndarray  # (7, 2)


@dataclass
class Letterbox:
    """How an image was fitted into the square input: input = image * scale + pad."""

    scale: float
    pad: tuple[float, float]


def letterbox(images: list[np.ndarray], size: int, *, low: float, high: float) -> tuple[np.ndarray, list[Letterbox]]:
    """Fit each image, aspect kept and centred, into a size×size float batch scaled to low..high.

    MediaPipe maps the padded image's outer corners onto the input's corners (warpAffine,
    INTER_LINEAR, zero border); cv2.resize's pixel-centre convention would shift every detection
    by up to half an input pixel and the landmarks after it by several image pixels.
    """
    batch = np.empty((len(images), size, size, 3), np.float32)
    letterboxes = []
    for i, image in enumerate(images):
        h, w = image.shape[:2]
        scale = size / max(h, w)
        pad = ((size - w * scale) / 2, (size - h * scale) / 2)
        m = np.array([[scale, 0, pad[0]], [0, scale, pad[1]]], np.float32)
        tensor = cv2.warpAffine(
            image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        np.multiply(tensor, np.float32((high - low) / 255), out=batch[i])
        if low:
            batch[i] += np.float32(low)  # the zero border becomes `low` (black), as in MediaPipe
        letterboxes.append(Letterbox(scale, pad))
    return batch, letterboxes


def ssd_anchors(size: int = SIZE, strides=(8, 16, 16, 16)) -> np.ndarray:
    """Anchor centres (2016, 2) in 0..1; layers with the same stride share a grid, 2 anchors each."""
    centres = []
    for stride in sorted(set(strides)):
        per_cell = 2 * strides.count(stride)
        n = size // stride
        grid = (np.stack(np.meshgrid(np.arange(n), np.arange(n)), -1).reshape(-1, 2) + 0.5) / n
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, points: np.ndarray, iou: float):
    """MediaPipe's WEIGHTED suppression: each kept box is the score-weighted mean of its cluster."""
    order = np.argsort(-scores)
    boxes, scores, points = boxes[order], scores[order], points[order]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    lt = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    rb = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    overlap = inter / (area[:, None] + area[None, :] - inter + 1e-9) > iou
    alive = np.ones(len(boxes), bool)
    kept = []
    for i in range(len(boxes)):
        if not alive[i]:
            continue
        members = alive & overlap[i]
        alive &= ~members
        w = scores[members][:, None]
        kept.append(
            ((boxes[members] * w).sum(0) / w.sum(), scores[i], (points[members] * w[:, :, None]).sum(0) / w.sum())
        )
    return kept


def decode_ssd(
    regressors: np.ndarray,
    logits: np.ndarray,
    anchors: np.ndarray,
    size: int,
    threshold: float,
    nms_iou: float,
    letterboxes: list[Letterbox],
) -> list[list[tuple[np.ndarray, float, np.ndarray]]]:
    """MediaPipe's SSD decoding, shared by the palm and face detectors: sigmoid scores kept from
    `threshold`, boxes and keypoints offset (in input pixels) from the anchors' centres (0..1),
    weighted suppression, then back through each image's letterbox. Per image: (box (4,), score,
    keypoints (k, 2)) in image pixels."""
    results: list[list[tuple[np.ndarray, float, np.ndarray]]] = []
    for reg, score, lb in zip(regressors, sigmoid(logits), letterboxes):
        keep = score >= threshold
        if not keep.any():
            results.append([])
            continue
        reg, score, centres = reg[keep], score[keep], anchors[keep]
        centre = reg[:, :2] / size + centres
        half = reg[:, 2:4] / size / 2
        boxes = np.concatenate([centre - half, centre + half], 1) * size
        points = (reg[:, 4:].reshape(len(reg), -1, 2) / size + centres[:, None]) * size
        pad = np.array(lb.pad, np.float32)
        results.append(
            [
                (((box.reshape(2, 2) - pad) / lb.scale).reshape(4), float(s), (pts - pad) / lb.scale)
                for box, s, pts in weighted_nms(boxes, score, points, nms_iou)
            ]
        )
    return results


class PalmDetector:
    """Batched palm detection. `detect(images)` returns one list of `Palm` per image."""

    def __init__(
        self,
        model: str = "palm_detection_full.onnx",
        *,
        threshold: float = 0.5,
        nms_iou: float = 0.3,
        **session_options,
    ):
        self.session = create_session(model, **session_options)
        self.input_name = self.session.get_inputs()[0].name
        self.threshold = threshold
        self.nms_iou = nms_iou
        self.anchors = ssd_anchors()

    def preprocess(self, images: list[np.ndarray]) -> tuple[np.ndarray, list[Letterbox]]:
        return letterbox(images, SIZE, low=0.0, high=1.0)

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        regressors, logits = self.session.run(None, {self.input_name: batch})
        return regressors, logits[..., 0]

    def postprocess(self, regressors: np.ndarray, logits: np.ndarray, letterboxes: list[Letterbox]) -> list[list[Palm]]:
        return [
            [Palm(*found) for found in palms]
            for palms in decode_ssd(regressors, logits, self.anchors, SIZE, self.threshold, self.nms_iou, letterboxes)
        ]

    def detect(self, images: list[np.ndarray]) -> list[list[Palm]]:
        return in_chunks(self._detect, images)  # a few images at a time: memory bounded by the chunk

    def _detect(self, images: list[np.ndarray]) -> list[list[Palm]]:
        batch, letterboxes = self.preprocess(images)
        return self.postprocess(*self.infer(batch), letterboxes)
