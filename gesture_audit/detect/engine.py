"""The hand engine: photos -> palms -> rotated crops -> 21 landmarks per hand, batched.

One palm-detector call for all images of a batch, one landmark call for all their hands (plus
`refine` more, on crops re-derived from the landmarks, for the hands whose fingers read uncertain).
Images where no hand was found get up to two more palm passes (`recover`): on padded copies (the
detector misses hands that fill the frame or touch its border, and padding gives them context), then
on four overlapping zoomed quarters (hands too small for the detector's 192 px view of the photo).
Large photos without a close-up hand then get the group pass (`groups.py`): tiles and person-guided
crops for small hands, and each hand's person.

Thread safety: an `Engine` holds ONNX Runtime sessions, whose `run` is thread-safe, and no mutable
state of its own, so one Engine may be shared between threads. Each call uses all cores unless
`EngineOptions.lanes` splits them between calls running at once; share one Engine rather than
making one per thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from gesture_audit.detect.beside import skin_beside
from gesture_audit.detect.core import Hand, deduplicate
from gesture_audit.detect.faces import Face, FaceDetector
from gesture_audit.detect.groups import GroupFinder, GroupOptions, grid, merge, palms_in_tiles
from gesture_audit.detect.landmarks import HandLandmarker, Landmarks, Roi
from gesture_audit.detect.palm import SIZE as PALM_SIZE
from gesture_audit.detect.palm import Palm, PalmDetector
from gesture_audit.runtime import choose

# The most engine calls `lanes=0` runs at once, whatever the core count: each lane holds a batch of
# decoded photos ((lanes + 1) x batch in memory), and two already let one call's Python work overlap
# the other's inference on the 2-core machine where lanes were measured (benchmarks/README.md).
MAX_LANES = 2


@dataclass
class EngineOptions:
    """Models, thresholds and ONNX Runtime settings of an `Engine`."""

    palm_model: str = "palm_detection_full.onnx"
    landmark_model: str = "hand_landmark_full.onnx"
    max_hands: int = 8  # per image, as MediaPipe's num_hands
    min_detection: float = 0.5  # palm score
    min_presence: float = 0.5  # landmark model's hand presence
    recover: bool = True  # padded, then zoomed palm passes for images with no hand
    # Landmarks on the palm's crop, then `refine` more passes on the crop re-derived from them (as
    # MediaPipe tracks in video), for hands whose least certain finger, or whose side (left/right),
    # reads below `refine_below` (None: every hand). Dev set (1601 hands): one pass changes 21
    # finger patterns and 7 sides; subhih count 96.5 -> 97.3 %. Gated at 0.9, 18 % of hands are
    # refined, with the same accuracy per set (within one hand) for 82 % less refining work.
    refine: int = 1
    refine_below: float | None = 0.9
    # Reproduce MediaPipe Tasks' HandLandmarker exactly (its 26.6° palm-crop quirk, no refining):
    # landmarks then match the reference backend to ~0.1 px, at some cost in finger accuracy.
    mediapipe_exact: bool = False
    recover_pads: tuple[float, ...] = (0.5, 1.0)  # padding on each side, fraction of the long side
    # Then 2 x 2 overlapping tiles of this share of the long side. Dev set: hand recall asl_digits
    # 99.8 -> 100, epsrc 99.7 -> 100, subhih 97.8 -> 98.5 %; no more negatives flagged or reviewed.
    recover_zoom: float | None = 0.6
    groups: GroupOptions | None = field(default_factory=GroupOptions)  # small hands in group photos; None: off
    threads: int = 0  # inference threads in all; 0 = all cores
    # Engine calls that may run at once, sharing `threads` (0: one per core up to MAX_LANES, each on
    # cores // lanes threads). A scan runs that many batches side by side (`Auditor.check_many`): one
    # call's Python work then overlaps another's inference, and no call waits on ONNX Runtime's threads
    # meeting (benchmarks/README.md, "Throughput"). Callers that send one batch at a time keep 1.
    lanes: int = 1
    providers: list[str] | None = None  # ONNX Runtime's, e.g. ["CUDAExecutionProvider", "CPUExecutionProvider"]
    # "auto" | "onnxruntime" | "openvino", and "auto" | "fp32" | "bf16" | "int8": resolved by
    # `runtime.choose` (auto: the fastest profile that passed the accuracy guard on this CPU).
    runtime: str = "auto"
    precision: str = "auto"
    models_dir: str | None = None

    @classmethod
    def fast(cls, **kwargs) -> EngineOptions:
        """The `--fast` profile: the lite models, no zoomed recovery and no group-photo pass. Hand
        recall on the dev sets stays >= 0.97, but finger readings are worse (asl_digits 98.8 -> 94.1 %
        exact) and small hands in large group photos are missed; speed: benchmarks/README.md."""
        kwargs = {
            "palm_model": "palm_detection_lite.onnx",
            "landmark_model": "hand_landmark_lite.onnx",
            "recover_zoom": None,
            "groups": None,
            **kwargs,
        }
        return cls(**kwargs)

    @classmethod
    def exact(cls, **kwargs) -> EngineOptions:
        """MediaPipe Tasks' HandLandmarker, step for step (the parity and benchmark reference)."""
        return cls(mediapipe_exact=True, refine=0, recover=False, groups=None, **kwargs)


class Engine:
    """Finds hands and their landmarks. Reuse one Engine across calls (sessions load once).

    `unsure(hand, floor)`: whether the reading of a hand's fingers is less sure than `floor`, the
    gate of the refining pass (`EngineOptions.refine_below`). Reading fingers is the classify
    stage's work, a layer above this one, so the pipeline passes it in (`audit.hand_engine`:
    `classify.fingers.unsure`); without it only an unsure handedness sends a hand to refining.
    """

    def __init__(self, options: EngineOptions | None = None, *, unsure: Callable[[Hand, float], bool] | None = None):
        self.options = options = options or EngineOptions()
        self.unsure = unsure
        self.choice = choose(options.runtime, options.precision)  # what runs the models, and why
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self.lanes = options.lanes or min(cores, MAX_LANES)  # calls that may run at once (see EngineOptions.lanes)
        threads = options.threads if self.lanes == 1 else max(1, (options.threads or cores) // self.lanes)
        self._session: dict[str, Any] = dict(
            directory=options.models_dir,
            threads=threads,
            providers=options.providers,
            runtime=self.choice.runtime,
            precision=self.choice.precision,
        )
        session = self._session
        self.palms = PalmDetector(options.palm_model, threshold=options.min_detection, **session)
        self.landmarker = HandLandmarker(options.landmark_model, **session)
        self._face_detector: FaceDetector | None = None
        self._face_lock = threading.Lock()
        self.groups = GroupFinder(self.palms, options.groups, self.face_detector) if options.groups else None

    def face_detector(self) -> FaceDetector:
        """The one face detector (full range, this engine's session options): the group pass's, and
        the one `detect(..., faces=True)` uses on the photos the group pass left alone. Loaded on
        first use: a run of small photos without a gallery never loads it."""
        with self._face_lock:
            if self._face_detector is None:
                self._face_detector = FaceDetector("full", **self._session)
            return self._face_detector

    def detect_hands(self, images: list[np.ndarray]) -> list[list[Hand]]:
        """Hands per image, best first. Images are RGB uint8 arrays (H, W, 3), EXIF-upright.

        One palm call and one landmark call (+ `options.refine`) for the whole batch; images left
        without a hand get up to two more of each (padded, then zoomed) when `options.recover` is
        set; large photos without a close-up hand then get the group pass (`options.groups`: one
        face, palm and landmark call more), which also sets each of their hands' `person`. Each
        hand's `beside` (skin of a second hand around it, `detect.beside`) is measured last.
        """
        return [hands for hands, _ in self.detect(images)]

    def detect(self, images: list[np.ndarray], *, faces: bool = False) -> list[tuple[list[Hand], list[Face] | None]]:
        """Per image: its hands (as `detect_hands`) and, with `faces`, its faces left to right (else
        None). The face detector sees each photo once as a whole: where the group pass ran (its first
        face tile is the whole photo), its faces are taken from there, else one whole-photo pass of the
        same detector runs. (The group pass's other tiles find smaller faces, with more false ones:
        good enough to tie hands to persons, not to count who a candidate poses with.)"""
        images = [_as_rgb(im) for im in images]
        hands = self._hands(images, self.palms.detect(images))
        if self.options.recover:
            self.recover(images, hands)
        groups = self.groups.add_hands(images, hands, self._hands) if self.groups is not None else [None] * len(images)
        for image, in_image in zip(images, hands):
            for hand in in_image:
                hand.beside = skin_beside(image, hand)
        if not faces:
            return [(found, None) for found in hands]
        seen: list[list[Face] | None] = [None if g is None else g.whole for g in groups]
        todo = [i for i, f in enumerate(seen) if f is None]
        for i, found in zip(todo, self.face_detector().detect([images[i] for i in todo])):
            seen[i] = found
        return list(zip(hands, seen))

    def recover(self, images: list[np.ndarray], hands: list[list[Hand]]) -> None:
        """Look again where no hand was found (in place): padded copies, then zoomed tiles."""
        tries = [self._detect_padded] + ([self._detect_zoomed] if self.options.recover_zoom else [])
        for detect in tries:
            missing = [i for i, found in enumerate(hands) if not found]
            if not missing:
                return
            retry = [images[i] for i in missing]
            for i, found in zip(missing, self._hands(retry, detect(retry))):
                hands[i] = found

    def _hands(
        self, images: list[np.ndarray], palms: list[list[Palm]], limits: list[int] | None = None
    ) -> list[list[Hand]]:
        limits = limits or [self.options.max_hands] * len(images)
        palms = [sorted(found, key=lambda p: -p.score)[:limit] for found, limit in zip(palms, limits)]
        owners = [i for i, found in enumerate(palms) for _ in found]
        angle = Roi.MEDIAPIPE_TASKS_TARGET_ANGLE if self.options.mediapipe_exact else np.pi / 2
        crops = [
            (images[i], Roi.from_palm(palm, target_angle=angle)) for i, found in enumerate(palms) for palm in found
        ]
        scores = [palm.score for found in palms for palm in found]
        found = self.landmarker.run(crops)
        for _ in range(self.options.refine):
            todo = [k for k, lm in enumerate(found) if self._uncertain(lm)]
            again = self.landmarker.run([(crops[k][0], Roi.from_landmarks(found[k].points)) for k in todo])
            for k, lm in zip(todo, again):
                found[k] = lm
        hands: list[list[Hand]] = [[] for _ in images]
        for i, score, lm in zip(owners, scores, found):
            if lm.presence < self.options.min_presence:
                continue
            # The model's output is the person's own hand in the photo as given. (The old "assumes a
            # mirrored selfie" advice was wrong here: on 30 dev photos of palms facing the camera,
            # the thumb's side gave the opposite of the swapped label every time.)
            side = "right" if lm.right > 0.5 else "left"
            hands[i].append(
                Hand.from_landmarks(
                    lm.points,
                    lm.world,
                    score=score,
                    presence=lm.presence,
                    handedness=side,
                    handedness_score=max(lm.right, 1 - lm.right),
                )
            )
        return [deduplicate(found) for found in hands]

    def _uncertain(self, lm: Landmarks) -> bool:
        """Whether a refining pass may change this hand's reading (`options.refine_below`)."""
        floor = self.options.refine_below
        if floor is None or max(lm.right, 1 - lm.right) < floor:
            return True
        if self.unsure is None:
            return False
        hand = Hand.from_landmarks(
            lm.points, lm.world, score=1.0, presence=lm.presence, handedness="right", handedness_score=1.0
        )
        return self.unsure(hand, floor)  # the reading decides, not the pixels

    def _detect_zoomed(self, images: list[np.ndarray]) -> list[list[Palm]]:
        """Palms on overlapping tiles of `recover_zoom` of the long side (2 x 2 at 0.6), one batch,
        merged across tiles (as the group pass merges its tiles)."""
        side = self.options.recover_zoom
        cuts = [
            (i, t)
            for i, im in enumerate(images)
            for t in grid(0, 0, im.shape[1], im.shape[0], side * max(im.shape[:2]), 0.25)
        ]
        return [merge(found, self.palms.nms_iou) for found in palms_in_tiles(self.palms, images, cuts)]

    def _detect_padded(self, images: list[np.ndarray]) -> list[list[Palm]]:
        """Palms on zero-padded copies, all pads in one batch; the smallest pad that finds any wins.

        The detector sees 192 px, so each image is first shrunk to at most 2 × 192 px: padding a
        4000 px photo at full size would cost a 12000 px copy for nothing."""
        fractions = self.options.recover_pads
        tries = []
        for im in images:
            shrink = min(1.0, 2 * PALM_SIZE / max(im.shape[:2]))
            # dsize, not fx/fy: the short side of a 768:1 strip would round to 0 px (an OpenCV assertion)
            size = (max(1, round(im.shape[1] * shrink)), max(1, round(im.shape[0] * shrink)))
            small = im if shrink == 1.0 else cv2.resize(im, size, interpolation=cv2.INTER_AREA)
            tries += [(small, round(max(small.shape[:2]) * f), shrink) for f in fractions]
        found = self.palms.detect(
            [cv2.copyMakeBorder(im, p, p, p, p, cv2.BORDER_CONSTANT, value=0) for im, p, _ in tries]
        )
        for palms, (_, p, shrink) in zip(found, tries):
            for palm in palms:
                palm.box = (palm.box - p) / shrink
                palm.keypoints = (palm.keypoints - p) / shrink
        per_image = [found[i : i + len(fractions)] for i in range(0, len(found), len(fractions))]
        return [next((palms for palms in attempts if palms), []) for attempts in per_image]


def _as_rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}; "
            "use gesture_audit.load_image to read files"
        )
    return image
