"""Printed text in a photo: a cheap gate, then RapidOCR's PP-OCRv4 detector and recogniser.

`TextReader().read(images) -> list[list[TextLine]]`, one list per image, boxes in image pixels.

    gate        grey photo at 480 and 240 px: morphological gradient, Otsu, a horizontal closing;
                text-like lines (a line of strokes: wider than tall, half filled, strokes all
                along it, big enough to read), as boxes with a margin (`text_regions`), or
                nothing to read
    detect      RapidOCR's DB text detector inside those regions only, at full resolution up to
                `max_side` px (DBNet's time grows with the pixels: this is most of what reading
                text costs); on the whole photo at `max_side` when the regions cover much of it;
                a small region where it found a line (or a trace of one) looked at again at twice
                the scale, the look that reads more kept
    recognise   its CRNN recogniser on each line found at least MIN_READ px tall, cut from the photo
                at full resolution, batched (no angle classifier: printed campaign text stands
                upright within the perspective the detector box absorbs)
    (only the regions are converted to the BGR RapidOCR takes, and the whole photo only where a
    line, or a trace of one, was found: most photos hold none)

The models ship inside the `rapidocr-onnxruntime` wheel (optional extra `gesture-audit[ocr]`);
nothing downloads at run time. They run on ONNX Runtime, or on OpenVINO
(`TextReader(runtime="openvino")`, extra `gesture-audit[openvino]`), with RapidOCR's pre- and
post-processing. Without the extra `shared_reader()` returns None (logged once) and `TextReader()`
raises TextUnavailable.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gesture_audit.runtime import OpenVINOSession, installed_runtimes

INSTALL_HINT = "pip install 'gesture-audit[ocr]' (rapidocr-onnxruntime)"
# The gate looks at the grey photo at two scales: 480 px for lines 4-40 px tall there, 240 px for
# bigger print (whose letters the closing at 480 px does not join). A text line at the gate's scale:
# LINE_HEIGHT px tall, WIDE times as wide as tall or more ("02" is), OUTLINE filled (outer contour's
# area), its strokes filling 25-90 % of it after the gradient; strokes are edges above Otsu's level
# and at least MIN_EDGE (print is sharp; wall texture and sensor noise are not). Lines are looked
# for twice: as closed, and opened by 3 px (which cuts a line from the edge of the card it is
# printed on, which it joins when the card's margin is thin), an opened one only where at least RUNS
# strokes cross its middle (letters, not a blob). Tuned on 160 rendered composites (seeds 101, 102;
# the benchmark's are seed 0) and 80 clean dev scenes: a lower MIN_EDGE finds fainter print and
# gates more clean photos (48: 133/160 labels covered, 51 % of clean scenes gated; 32 with these
# sizes: 146/160, 70 %); see benchmarks/README.md. A line also has strokes in COLUMNS of its columns
# (letters all along it; a vent, a phone's camera or a shadow's edge have gaps), and is at least
# READABLE (tall, wide) px in the photo: lower than 12 px a line's letters are under the
# recogniser's MIN_READ once the detector's box is tight, and "02" at 12 px is 20 px wide. These two
# took the clean dev scenes gated from 72 % to 58 % and the regions sent to the detector from 586 to
# 360 (254 scenes), covering 189 labels of 200 composites (seeds 101, 102) as before less one.
GATE_SIDES = (480, 240)
LINE_HEIGHT = (4, 40)
WIDE = 1.0
FILL = (0.25, 0.9)
CLOSE = 5  # px: strokes of one line join across gaps this wide
MIN_EDGE = 32
RUNS = 4
# A ballot number ("01", "02", "03") is crossed by 3 strokes, not 4: a short opened line (narrower than
# SHORT line heights) passes with SHORT_RUNS where its outline fills SOLID of its box (solid print;
# the clutter of clean scenes that 3 strokes would let through is mostly ragged: issue 19g, seeds 1-3
# read 259 -> 265 of 300; 3 strokes on any line: 44 more of 392 clean dev scenes gated; benchmarks/README.md)
SHORT, SHORT_RUNS, SOLID = 2.5, 3, 0.7
# So does a line printed on a card: at most CARD of its margin (half its height all round) is strokes
# (a name tag, a sticker, a number on a plain shirt); and such a line is worth reading from
# CARD_READABLE px (the recogniser reads "GIBRAN" 11 px tall on a plain banner; issue 19, session 10:
# with the second look below, 10 seeds of 100 composites 912 -> 919 read; clean dev scenes gated
# 70.1 -> 71.7 %, the detector's share of their pixels 4.71 -> 4.78 %; benchmarks/README.md)
CARD = 0.05
# A line of print seen at a slant of up to SLANT degrees (perspective, a banner hung askew) has its
# outline measured in its own rotated box, where it is twice as wide as tall or more (issue 19g: a card
# hung 4-7 degrees askew was not gated at all; +1 of 1 000 tuning composites read, +1 of 300 on seeds
# 1-3, +1 on fresh seeds 11-13; clean dev scenes gated 156 -> 157 of 392, the reader's CPU the same)
SLANT = 8
COLUMNS = 0.8
# A line's outer contour fills OUTLINE of its box or more: 0.45, not 0.5 (issue 19x: ragged print on
# cloth and letters touching their card's edge fail 0.5 by a few points), paid for by WIDEN 1 below;
# 0.4 reads more (+9 of 400 tuning composites, not +2) but costs the reader +5 ms a throughput photo.
OUTLINE = 0.45
READABLE = (12, 20)  # px in the photo
CARD_READABLE = (11, 12)  # px in the photo, for a line on a card (see CARD)
# The detector runs only around the lines the gate found, each with a line's height of margin
# (at least PAD px), at full resolution up to MAX_SIDE; where those regions cover more than WHOLE
# of the photo, on the whole photo at MAX_SIDE instead.
PAD = 16
# Sideways a region reaches WIDEN margins (the rest of a row whose words did not join): 1, not 3
# (issue 19x: the reader's CPU on clean dev scenes 13.3 -> 8.4 ms a photo alone, 11.1 with OUTLINE
# 0.45, which reads +2 of 400 tuning composites, seeds 500-503; benchmarks/README.md)
WIDEN = 1
WHOLE = 0.4
# A region whose lines the gate saw taller than LINE_DETECT px goes to the detector smaller: 32, not 24
# (issue 19r: +3 of 400 tuning composites, seeds 500-503; the reader's CPU on clean dev scenes the same)
LINE_DETECT = 32
MAX_SIDE = 640  # the detector's input; the recogniser reads full-resolution crops
MIN_READ = 8  # px: lines lower than this in the photo are not read (nothing legible there)
# DBNet's lines break differently at different scales ("indon" at 1x, "Indonesia Adil Makmur untuk
# Semua" at 2x): a region of at most LOOK_PIXELS px is looked at again at LOOK_AGAIN times the scale
# (within max_side) where the first look found a line, or a trace of one (its text probability
# reached TRACE somewhere: on 285 regions of clean dev scenes where the first look found nothing, 7
# did), and the look whose lines read more (characters x confidence) is kept. Issue 19, session 10:
# 10 seeds of 100 composites 898 -> 912 read (a second look only where a line was found: 905; at
# any region: 915, but +8 ms a clean photo); the reader's CPU +0.4 ms a photo on clean dev scenes,
# +1.4 ms on the throughput suite's 240 dev scenes (each line read once; benchmarks/README.md).
LOOK_PIXELS = 40_000
LOOK_AGAIN = 2.0
TRACE = 0.1
# The models RapidOCR ships in its wheel, run on ONNX Runtime (the default) or OpenVINO: the same
# lines read on both; OpenVINO cost more CPU on clean dev scenes on an AVX2 CPU (11.7 ms a photo vs
# 8.5 on ONNX Runtime with its arena; issue 19o, benchmarks/README.md).
DET_MODEL = "ch_PP-OCRv4_det_infer.onnx"
REC_MODEL = "ch_PP-OCRv4_rec_infer.onnx"
READER_RUNTIMES = ("onnxruntime", "openvino")
CPU_ARENA = True  # ONNX Runtime's CPU arena for these two models (see _session)

log = logging.getLogger(__name__)
Read = tuple[np.ndarray, str, float]  # a line's quad (4, 2) in the photo, what it says, how surely


class TextUnavailable(RuntimeError):
    def __init__(self, detail: str = "", hint: str = INSTALL_HINT):
        super().__init__(f"reading text needs the optional extra: {hint}" + (f" ({detail})" if detail else ""))


def _session(path: Path, runtime: str, threads: int):
    """A session of one of RapidOCR's models, in place of the one RapidOCR makes: ONNX Runtime with
    its CPU arena on (RapidOCR turns it off), or OpenVINO (`runtime.OpenVINOSession`, the same
    interface). The arena keeps the largest buffers a call needed and grows by what is asked
    (kSameAsRequested): the detector's input is at most MAX_SIDE px, so what it keeps is bounded
    (+54 MB measured); it saves 12-18 % of the models' CPU time (issue 19o, benchmarks/README.md)."""
    if runtime == "openvino":
        return OpenVINOSession(str(path), threads=threads)
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = CPU_ARENA
    options.enable_mem_pattern = False  # planned per shape: the regions vary in size (+50 MB more, no faster)
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    provider = ("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})
    return ort.InferenceSession(str(path), options, providers=[provider])


@dataclass
class TextLine:
    """One line of text: its box (x0, y0, x1, y1 image pixels), what it says, how sure."""

    box: np.ndarray
    text: str
    confidence: float

    def __post_init__(self) -> None:
        self.box = np.asarray(self.box, np.float32).reshape(4)


def _gate_lines(grey: np.ndarray) -> list[tuple[int, int, int, int, bool]]:
    """Text-like lines (x0, y0, x1, y1, on a card) in a small grey photo (see the constants above)."""
    edges = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    level, strokes = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if level < MIN_EDGE:  # strokes are edges above Otsu's level and MIN_EDGE
        strokes = cv2.threshold(edges, MIN_EDGE, 255, cv2.THRESH_BINARY)[1]
    closed = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (CLOSE, 1)))
    opened = cv2.morphologyEx(closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    out = []
    for lines, runs_needed in ((closed, 0), (opened, RUNS)):
        # Outer contours: each line's box and filled area (cheaper than connected components' stats).
        contours = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
        for contour in contours:
            x, y, bw, bh = cv2.boundingRect(contour)
            if not LINE_HEIGHT[0] <= bh <= LINE_HEIGHT[1] or bw < WIDE * bh or bw > 0.9 * grey.shape[1]:
                continue
            area = cv2.contourArea(contour)
            outline = area / (bw * bh)
            if outline < OUTLINE:  # a slanted line fills its upright box less: measured along its slant
                _, (rw, rh), angle = cv2.minAreaRect(contour)
                if rw < rh:
                    rw, rh, angle = rh, rw, angle - 90
                if abs((angle + 90) % 180 - 90) <= SLANT and rw >= 2 * rh >= 2 * LINE_HEIGHT[0]:
                    outline = area / ((rw + 1) * (rh + 1))  # as boundingRect counts
            if outline < OUTLINE:
                continue
            crop = strokes[y : y + bh, x : x + bw]
            if not FILL[0] <= cv2.countNonZero(crop) / (bw * bh) <= FILL[1]:
                continue
            inside = crop > 0
            if np.count_nonzero(inside.any(0)) / bw < COLUMNS:
                continue
            card = _on_card(strokes, x, y, bw, bh)
            if runs_needed:  # strokes crossing the line's middle rows (rising edges, the most of three rows)
                middle = inside[max(0, bh // 2 - 1) : bh // 2 + 2]
                runs = ((middle[:, 1:] & ~middle[:, :-1]).sum(1) + middle[:, 0]).max()
                short = bw < SHORT * bh and outline >= SOLID
                if runs < (SHORT_RUNS if short or card else runs_needed):
                    continue
            out.append((x, y, x + bw, y + bh, card))
    return out


def _on_card(strokes: np.ndarray, x: int, y: int, bw: int, bh: int) -> bool:
    """Is the line printed on a plain ground: at most CARD of its margin (half its height all round) strokes?"""
    m = max(1, bh // 2)
    ring = strokes[max(0, y - m) : y + bh + m, max(0, x - m) : x + bw + m]
    outside = ring.size - bw * bh
    return (
        outside > 0 and (cv2.countNonZero(ring) - cv2.countNonZero(strokes[y : y + bh, x : x + bw])) <= CARD * outside
    )


def _merge(boxes: list[np.ndarray]) -> list[np.ndarray]:
    """Boxes (x0, y0, x1, y1, line height) that overlap, joined (until none does; the lower line kept)."""
    boxes = [b.copy() for b in boxes]
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    boxes[i] = np.concatenate([np.minimum(a[:2], b[:2]), np.maximum(a[2:4], b[2:4]), [min(a[4], b[4])]])
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return boxes


def text_regions(image: np.ndarray) -> list[np.ndarray]:
    """The gate: where in this photo (RGB) a line of printed text could be, as (x0, y0, x1, y1, h)
    full-size pixel boxes with a margin, overlapping ones joined, h the height of the lowest line
    in it; [] for nothing to read. A few ms, no model."""
    h, w = image.shape[:2]
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    found = []
    for side in GATE_SIDES:  # largest first: each scale is made from the one before (cheaper)
        scale = min(1.0, side / max(h, w))
        if scale * max(h, w) < max(grey.shape):
            grey = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        scale = grey.shape[1] / w
        for x0, y0, x1, y1, card in _gate_lines(grey):
            line = (y1 - y0) / scale
            tall, wide = CARD_READABLE if card else READABLE
            if line < tall or (x1 - x0) / scale < wide:
                continue
            pad = max(PAD, line)
            box = np.clip(
                np.array([x0, y0, x1, y1], np.float32) / scale + [-WIDEN * pad, -pad, WIDEN * pad, pad], 0, [w, h, w, h]
            )
            found.append(np.append(box, line).astype(np.float32))
    return _merge(found)


def text_like(image: np.ndarray) -> bool:
    """Could this photo hold a line of printed text? (the gate, see `text_regions`)"""
    return bool(text_regions(image))


class TextReader:
    """Reads printed text in photos; raises TextUnavailable without the `ocr` extra (or, for
    `runtime="openvino"`, without the `openvino` extra)."""

    def __init__(self, max_side: int = MAX_SIDE, threads: int = 1, runtime: str = "onnxruntime"):
        if runtime not in READER_RUNTIMES:
            raise ValueError(f"runtime must be {' or '.join(READER_RUNTIMES)}, not {runtime!r}")
        try:
            import rapidocr_onnxruntime
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise TextUnavailable(str(exc)) from exc
        if runtime == "openvino" and installed_runtimes()["openvino"] is None:
            raise TextUnavailable("openvino is not installed", hint="pip install 'gesture-audit[openvino]'")
        self.max_side = max_side
        self.runtime = runtime
        # One thread by default: the detector mostly sees small regions, where more threads add
        # their spinning's CPU time beside the hand models' more than they save (0: all cores).
        threads = threads or -1
        # limit_type "min" with a tiny limit: the detector keeps the size we hand it (max_side).
        self._ocr = RapidOCR(
            use_cls=False,
            det_limit_type="min",
            det_limit_side_len=32,
            intra_op_num_threads=threads,
            inter_op_num_threads=1,
        )
        # RapidOCR's own pre- and post-processing, on our sessions of its models (see _session).
        models = Path(rapidocr_onnxruntime.__file__).parent / "models"
        self._ocr.text_det.infer.session = _session(models / DET_MODEL, runtime, max(threads, 0))
        self._ocr.text_rec.session.session = _session(models / REC_MODEL, runtime, max(threads, 0))
        self._lock = threading.Lock()

    def read(self, images: list[np.ndarray]) -> list[list[TextLine]]:
        """The text lines in each image (RGB uint8), in reading order; [] where the gate says none."""
        out = []
        for image in images:
            regions = text_regions(image)
            out.append(self._read_one(image, regions) if regions else [])
        return out

    def _scale(self, shape: tuple, line: float = 0.0) -> float:
        """The detector's scale for a photo or region of `shape`: at most max_side px, smaller where
        the gate saw lines `line` px tall, so that they are LINE_DETECT px there."""
        return min(1.0, self.max_side / max(shape[:2]), LINE_DETECT / line if line else 1.0)

    def _detect(
        self, bgr: np.ndarray, scale: float, x0: float = 0.0, y0: float = 0.0
    ) -> tuple[list[np.ndarray], float]:
        """Text line quads (4, 2) at least MIN_READ px tall in `bgr` seen at `scale`, offset by x0,
        y0, and the highest text probability the detector saw (RapidOCR's TextDetector, its map kept)."""
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        small = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=interpolation) if scale != 1 else bgr
        det = self._ocr.text_det
        det.preprocess_op = det.get_preprocess(max(small.shape[:2]))
        tensor = det.preprocess_op(small)
        if tensor is None:  # an empty crop
            return [], 0.0
        probability = det.infer(tensor)[0]
        quads = det.filter_tag_det_res(det.postprocess_op(probability, small.shape[:2])[0], small.shape[:2])
        quads = [(np.asarray(q, np.float32) / scale + [x0, y0]).astype(np.float32) for q in quads]
        return [q for q in quads if q[:, 1].max() - q[:, 1].min() >= MIN_READ], float(probability.max())

    def _recognise(self, bgr: np.ndarray, quads: list[np.ndarray]) -> list[Read]:
        """Each line at `quads` in the whole photo `bgr` with what it says and how surely (one batch)."""
        if not quads:
            return []
        read, _ = self._ocr.text_rec(self._ocr.get_crop_img_list(bgr, quads), False)
        return [(q, str(text), float(score)) for q, (text, score, *_) in zip(quads, read)]

    def _legible(self, look: list[Read]) -> float:
        """How much a look's lines read: characters x confidence of the sure ones, summed."""
        return sum(len(text) * score for _, text, score in look if score >= self._ocr.text_score)

    def _read_one(self, image: np.ndarray, regions: list[np.ndarray]) -> list[TextLine]:
        # RapidOCR takes BGR arrays: only the regions are converted (most photos hold no line).
        def bgr(x0: int = 0, y0: int = 0, x1: int | None = None, y1: int | None = None) -> np.ndarray:
            return cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2BGR)

        area = sum(float((r[2] - r[0]) * (r[3] - r[1])) for r in regions)
        whole = None  # the whole photo in BGR, made once: for the detector (large regions) and the recogniser
        read: list[Read] = []  # lines of regions looked at twice, read to choose the look
        with self._lock:
            if area > WHOLE * image.shape[0] * image.shape[1]:
                whole = bgr()
                quads = self._detect(whole, self._scale(whole.shape))[0]
            else:
                quads = []
                for x0, y0, x1, y1, line in (r.astype(int) for r in regions):
                    crop = bgr(x0, y0, x1, y1)
                    scale = self._scale(crop.shape, line)
                    larger = min(LOOK_AGAIN * scale, self.max_side / max(crop.shape[:2]))
                    found, peak = self._detect(crop, scale, x0, y0)
                    if (found or peak >= TRACE) and larger > scale and crop.shape[0] * crop.shape[1] <= LOOK_PIXELS:
                        whole = bgr() if whole is None else whole
                        first = self._recognise(whole, found)
                        again = self._recognise(whole, self._detect(crop, larger, x0, y0)[0])
                        read += again if self._legible(again) > self._legible(first) else first
                    else:
                        quads += found
            if not quads and not read:
                return []
            read += self._recognise(bgr() if whole is None else whole, quads)
        # RapidOCR's reading order over every line read, each quad's reading found again by its bytes.
        said = {q.tobytes(): (text, score) for q, text, score in read}
        lines = [(q, *said[q.tobytes()]) for q in self._ocr.sorted_boxes(np.stack([q for q, _, _ in read]))]
        return [
            TextLine(np.concatenate([q.min(0), q.max(0)]), text, score)
            for q, text, score in lines
            if score >= self._ocr.text_score
        ]


_shared: dict[str, TextReader | None] = {}
_shared_lock = threading.Lock()


def shared_reader(runtime: str = "onnxruntime") -> TextReader | None:
    """The process-wide reader on `runtime`, or None without its extra (logged once)."""
    with _shared_lock:
        if runtime not in _shared:
            try:
                _shared[runtime] = TextReader(runtime=runtime)
            except TextUnavailable as exc:
                log.info("reading text is off: %s", exc)
                _shared[runtime] = None
        return _shared[runtime]
