"""Printed text in a photo: a cheap gate, then RapidOCR's PP-OCRv4 detector and recogniser.

`TextReader().read(images) -> list[list[TextLine]]`, one list per image, boxes in image pixels.

    gate        grey photo at GATE_SIDE px: morphological gradient, Otsu, a horizontal closing;
                text-like blobs (a line of strokes: wider than tall, half filled) or nothing to read
    detect      RapidOCR's DB text detector on the photo at most `max_side` px (bounded cost:
                DBNet's time grows with the pixels, so this is most of what reading text costs)
    recognise   its CRNN recogniser on each line found, cut from the photo at full resolution
                (no angle classifier: printed campaign text stands upright within the perspective
                the detector box absorbs)

The models ship inside the `rapidocr-onnxruntime` wheel (optional extra `gesture-audit[ocr]`);
nothing downloads at run time. Without the extra `shared_reader()` returns None (logged once)
and `TextReader()` raises TextUnavailable.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import cv2
import numpy as np

INSTALL_HINT = "pip install 'gesture-audit[ocr]' (rapidocr-onnxruntime)"
GATE_SIDE = 480
# A text line at the gate's scale: 4-60 px tall, at least as wide as tall (two digits, "02",
# are), its strokes filling 25-90 % of it after the gradient; strokes are edges above Otsu's
# level and at least MIN_EDGE (print is sharp; wall texture and sensor noise are not). Tuned on 60
# rendered composites against 261 clean dev photos: the gate passes 97 % of composites and 42 % of
# clean photos (a tighter gate lost composites faster than it saved clean photos: at 320 px,
# 87 % / 47 %; MIN_EDGE 80: 80 % / 30 %).
LINE_HEIGHT = (4, 60)
FILL = (0.25, 0.9)
CLOSE = 5  # px: strokes of one line join across gaps this wide
MIN_EDGE = 48
MAX_SIDE = 640  # the detector's input; the recogniser reads full-resolution crops

log = logging.getLogger(__name__)


class TextUnavailable(RuntimeError):
    def __init__(self, detail: str = ""):
        super().__init__(f"reading text needs the optional extra: {INSTALL_HINT}" + (f" ({detail})" if detail else ""))


@dataclass
class TextLine:
    """One line of text: its box (x0, y0, x1, y1 image pixels), what it says, how sure."""

    box: np.ndarray
    text: str
    confidence: float

    def __post_init__(self) -> None:
        self.box = np.asarray(self.box, np.float32).reshape(4)


def text_like(image: np.ndarray) -> bool:
    """The gate: could this photo hold a line of printed text? (a few ms, no model)"""
    h, w = image.shape[:2]
    scale = min(1.0, GATE_SIDE / max(h, w))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    edges = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    level, _ = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    strokes = ((edges > max(level, MIN_EDGE)) * 255).astype(np.uint8)
    lines = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (CLOSE, 1)))
    _, _, stats, _ = cv2.connectedComponentsWithStats(lines)
    for x, y, bw, bh, area in stats[1:]:
        if not LINE_HEIGHT[0] <= bh <= LINE_HEIGHT[1] or bw < bh or bw > 0.9 * grey.shape[1]:
            continue
        if area / (bw * bh) >= 0.5 and FILL[0] <= strokes[y : y + bh, x : x + bw].mean() / 255 <= FILL[1]:
            return True
    return False


class TextReader:
    """Reads printed text in photos; raises TextUnavailable without the `ocr` extra."""

    def __init__(self, max_side: int = MAX_SIDE, threads: int = 0):
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise TextUnavailable(str(exc)) from exc
        self.max_side = max_side
        threads = threads or -1
        # limit_type "min" with a tiny limit: the detector keeps the size we hand it (max_side).
        self._ocr = RapidOCR(
            use_cls=False,
            det_limit_type="min",
            det_limit_side_len=32,
            intra_op_num_threads=threads,
            inter_op_num_threads=1,
        )
        self._lock = threading.Lock()

    def read(self, images: list[np.ndarray]) -> list[list[TextLine]]:
        """The text lines in each image (RGB uint8), in reading order; [] where the gate says none."""
        return [self._read_one(image) if text_like(image) else [] for image in images]

    def _read_one(self, image: np.ndarray) -> list[TextLine]:
        bgr = np.ascontiguousarray(image[..., ::-1])  # RapidOCR takes BGR arrays
        scale = min(1.0, self.max_side / max(image.shape[:2]))
        small = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else bgr
        with self._lock:
            quads, _ = self._ocr.text_det(small)
            if quads is None or not len(quads):
                return []
            quads = [np.asarray(q, np.float32) / scale for q in self._ocr.sorted_boxes(quads)]
            read, _ = self._ocr.text_rec(self._ocr.get_crop_img_list(bgr, quads), False)
        return [
            TextLine(np.concatenate([q.min(0), q.max(0)]), str(text), float(score))
            for q, (text, score, *_) in zip(quads, read)
            if score >= self._ocr.text_score
        ]


_shared: list[TextReader | None] = []
_shared_lock = threading.Lock()


def shared_reader() -> TextReader | None:
    """The process-wide reader, or None without the `ocr` extra (logged once)."""
    with _shared_lock:
        if not _shared:
            try:
                _shared.append(TextReader())
            except TextUnavailable as exc:
                log.info("reading text is off: %s", exc)
                _shared.append(None)
        return _shared[0]
