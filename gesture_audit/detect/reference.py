"""The MediaPipe reference backend: current mediapipe's HandLandmarker on the committed tflites.

It is the test oracle and the comparison in benchmarks, not the fast path. The `.task` bundle is a
plain zip of the two tflite files under the names MediaPipe expects; it is built in memory.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from gesture_audit.detect.core import Hand
from gesture_audit.runtime import model_path


def task_bundle() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(model_path("palm_detection_full.tflite"), "hand_detector.tflite")
        zf.write(model_path("hand_landmark_full.tflite"), "hand_landmarks_detector.tflite")
    return buf.getvalue()


class MediaPipeHands:
    """MediaPipe HandLandmarker in IMAGE mode, one photo at a time, returning our `Hand`s."""

    def __init__(self, num_hands: int = 8, min_detection: float = 0.5, min_presence: float = 0.5):
        try:
            from mediapipe.tasks.python import BaseOptions
            from mediapipe.tasks.python.vision import HandLandmarker, HandLandmarkerOptions
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError("the MediaPipe backend needs `pip install gesture-audit[reference]`") from exc
        options = HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=task_bundle()),
            num_hands=num_hands,
            min_hand_detection_confidence=min_detection,
            min_hand_presence_confidence=min_presence,
        )
        self._landmarker = HandLandmarker.create_from_options(options)

    def detect_hands(self, images: list[np.ndarray]) -> list[list[Hand]]:
        return [self._detect(image) for image in images]

    def _detect(self, image: np.ndarray) -> list[Hand]:
        import mediapipe as mp

        h, w = image.shape[:2]
        mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        result = self._landmarker.detect(mp_image)
        hands = []
        for lms, world, side in zip(result.hand_landmarks, result.hand_world_landmarks, result.handedness):
            lm = np.array([[p.x * w, p.y * h, p.z * w] for p in lms], np.float32)
            wl = np.array([[p.x, p.y, p.z] for p in world], np.float32)
            # The label is the person's own hand in the photo as given (see Engine._hands).
            label = side[0].category_name.lower()
            hands.append(
                Hand.from_landmarks(
                    lm, wl, score=side[0].score, presence=1.0, handedness=label, handedness_score=side[0].score
                )
            )
        return hands

    def close(self) -> None:
        self._landmarker.close()
