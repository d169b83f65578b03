"""MediaPipe's hand landmark model: rotated 224×224 hand crops -> 21 landmarks per hand.

preprocess -> infer -> postprocess, with every hand of every image in one batch. The crop (an
`Roi`) is derived from a palm as MediaPipe's hand graph does: rotate so the wrist→middle MCP axis
points up, enlarge 2.6×, shift half a box along the crop's y axis, square on the long side.
`Roi.from_landmarks` is the crop MediaPipe tracks a hand with in video, used for a refining pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gesture_audit.detect.palm import Palm
from gesture_audit.runtime import create_session, in_chunks

SIZE = 224


@dataclass
class Roi:
    """A rotated square in image pixels; `rotation` is clockwise in radians (image y points down)."""

    centre: np.ndarray  # (2,)
    size: float
    rotation: float

    # MediaPipe Tasks' HandDetectorGraph calls DetectionsToRectsCalculatorOptions
    # `set_rotation_vector_target_angle(90)`, but that field is in *radians* (degrees go in
    # `..._target_angle_degrees`): 90 rad = 116.6° mod 2π, so every palm crop is turned 26.6°
    # further than the intended π/2 (the legacy graph's). The landmark model copes, but its
    # landmarks move by 1-10 px and finger readings get worse. `EngineOptions.mediapipe_exact`
    # reproduces it for parity with the reference backend. Confirmed with a probe landmark model
    # that outputs constant points, which exposes MediaPipe's crop exactly.
    MEDIAPIPE_TASKS_TARGET_ANGLE = 90.0

    @classmethod
    def from_palm(cls, palm: Palm, scale: float = 2.6, shift_y: float = -0.5, target_angle: float = np.pi / 2) -> Roi:
        wrist, middle = palm.keypoints[0], palm.keypoints[2]
        angle = target_angle - np.arctan2(-(middle[1] - wrist[1]), middle[0] - wrist[0])
        rotation = float((angle + np.pi) % (2 * np.pi) - np.pi)
        width, height = palm.box[2:] - palm.box[:2]
        centre = (palm.box[:2] + palm.box[2:]) / 2 + shift_y * height * cls.axes(rotation)[1]
        return cls(centre.astype(np.float32), float(max(width, height) * scale), rotation)

    @classmethod
    def from_landmarks(cls, points: np.ndarray, scale: float = 2.0, shift_y: float = -0.1) -> Roi:
        """The crop MediaPipe tracks a hand with in video (HandLandmarksToRect, scale 2, shift -0.1):
        upright along wrist -> knuckles, around the palm and the lower finger joints."""
        p = points[[0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18], :2].astype(np.float64)
        knuckles = ((p[4] + p[8]) / 2 + p[6]) / 2  # index and ring MCP, then with the middle MCP
        angle = np.pi / 2 - np.arctan2(-(knuckles[1] - p[0, 1]), knuckles[0] - p[0, 0])
        rotation = float((angle + np.pi) % (2 * np.pi) - np.pi)
        u, v = cls.axes(rotation)
        local = p @ np.stack([u, v], 1)  # coordinates along the crop's axes
        lo, hi = local.min(0), local.max(0)
        centre = ((lo + hi) / 2) @ np.stack([u, v]) + shift_y * (hi - lo)[1] * v
        return cls(centre.astype(np.float32), float((hi - lo).max() * scale), rotation)

    @staticmethod
    def axes(rotation: float) -> np.ndarray:
        """The crop's x and y axes as unit vectors in the image."""
        c, s = np.cos(rotation), np.sin(rotation)
        return np.array([[c, s], [-s, c]], np.float32)

    def crop_to_image(self) -> np.ndarray:
        """2×3 affine map from crop pixels (0..SIZE) to image pixels."""
        u, v = self.axes(self.rotation) * (self.size / SIZE)
        origin = self.centre - (u + v) * SIZE / 2
        return np.array([[u[0], v[0], origin[0]], [u[1], v[1], origin[1]]], np.float32)


@dataclass
class Landmarks:
    """Raw model outputs for one hand, already projected to image pixels."""

    points: np.ndarray  # (21, 3): x, y in pixels, z in the same scale
    world: np.ndarray  # (21, 3) metres
    presence: float
    right: float  # the model's probability that this is a right hand


class HandLandmarker:
    """Batched landmark model: `run(crops)` for any number of (image, Roi) pairs in one call."""

    def __init__(self, model: str = "hand_landmark_full.onnx", **session_options):
        self.session = create_session(model, **session_options)
        self.input_name = self.session.get_inputs()[0].name

    def preprocess(self, crops: list[tuple[np.ndarray, Roi]]) -> np.ndarray:
        batch = np.empty((len(crops), SIZE, SIZE, 3), np.float32)
        for i, (image, roi) in enumerate(crops):
            # MediaPipe's landmark graph replicates the border (its default), unlike the palm stage.
            patch = cv2.warpAffine(
                image,
                roi.crop_to_image(),
                (SIZE, SIZE),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REPLICATE,
            )
            np.multiply(patch, np.float32(1 / 255), out=batch[i])
        return batch

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        return self.session.run(None, {self.input_name: batch})

    def postprocess(self, outputs: list[np.ndarray], rois: list[Roi]) -> list[Landmarks]:
        points, presence, handedness, world = outputs
        points = points.reshape(-1, 21, 3)
        results = []
        for pts, p, h, w, roi in zip(points, presence[:, 0], handedness[:, 0], world, rois):
            m = roi.crop_to_image()
            xy = pts[:, :2] @ m[:, :2].T + m[:, 2]
            z = pts[:, 2:] * (roi.size / SIZE)
            # World landmarks come out in the crop's frame: turn them back by the crop's rotation.
            world = w.reshape(21, 3).copy()
            c, s = np.cos(roi.rotation), np.sin(roi.rotation)
            world[:, :2] = world[:, :2] @ np.array([[c, s], [-s, c]], np.float32)
            results.append(Landmarks(np.concatenate([xy, z], 1), world, float(p), float(h)))
        return results

    def run(self, crops: list[tuple[np.ndarray, Roi]]) -> list[Landmarks]:
        return in_chunks(self._run, crops)  # a few crops at a time: memory bounded by the chunk

    def _run(self, crops: list[tuple[np.ndarray, Roi]]) -> list[Landmarks]:
        return self.postprocess(self.infer(self.preprocess(crops)), [roi for _, roi in crops])
