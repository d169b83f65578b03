"""The audit of one photo, as the CLI, the Python API and the service all see it.

`Finding` is one line of findings.jsonl. `Auditor` composes the stages (load -> detect -> judge)
and turns each input, good or bad, into exactly one `Finding`:

    from gesture_audit import Auditor

    auditor = Auditor()                          # default election: Pilpres 2024
    finding = auditor.check("photo.jpg")         # a path, the file's bytes, or an RGB array
    print(finding.verdict, finding.risk, finding.reasons)
    for finding in auditor.check_many(paths, batch=8):
        ...

With a candidate gallery (`Auditor(gallery="candidates.json")`), faces are found and matched too,
and a candidate posing with other people is flagged (see `gesture_audit.judge.candidates`).
With the `ocr` extra installed, printed campaign text (ballot numbers, the pairs' names and
slogans) is read too and becomes the finding's `attributes` (see `gesture_audit.judge.attributes`);
with a party-symbol gallery (`symbols=`), logos found become attributes too, and with a candidate
gallery a candidate's face printed on a banner or poster is an attribute ("picture"), not a person.

The two stages are public for callers that schedule them themselves (the HTTP service decodes per
request and judges per micro-batch):

    decoded = auditor.decode(source)             # never raises; `decoded.reason` says why it failed
    findings = auditor.judge([decoded, ...])     # one engine call for the whole list

Thread safety: an `Auditor` may be shared between threads. Engine calls run at most `engine.lanes`
at once (one, the default: ONNX Runtime already uses every core for one call, and the MediaPipe
backend is not thread-safe), face matching, symbols and the OCR models one at a time, the text
gate in every lane, decoding freely;
`check_many` is the fast way, since it decodes in a pool of threads while the engine runs the
previous batch (with `EngineOptions(lanes=0)`, as `gesture-audit scan` runs, one batch per core, at most two).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, BinaryIO, cast

import numpy as np

from gesture_audit.archives import ArchiveError, Member, is_archive
from gesture_audit.detect.core import Hand
from gesture_audit.load import (
    DEFAULT_MAX_PIXELS,
    ImageLoadError,
    PixelBudget,
    hash_file,
    load_image_with_meta,
    open_regular_file,
)
from gesture_audit.load_video import DEFAULT_MAX_SECONDS, DEFAULT_SAMPLE_RATE, Clip, Sample, VideoLoadError, open_video
from gesture_audit.remote import RemoteFile
from gesture_audit.results import FaceResult, Finding, HandResult, VerdictName, path_form
from gesture_audit.runtime import release_memory

if TYPE_CHECKING:
    from gesture_audit.identify.gallery import Gallery

Input = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO | np.ndarray | Member | RemoteFile
_DESCRIPTORS = (Member, RemoteFile)  # files read into memory by their read_bytes(), wherever they are

# Files up to this size are read once (hashed and decoded from memory); larger ones are hashed
# in chunks and decoded from disk, so a stray video in a photo folder costs no memory.
_READ_WHOLE = 64 * 1024 * 1024
# Pixels decoding at once across `workers` threads (see `load.PixelBudget`): two 12 MP phone photos,
# or one image at the 64 Mpx limit alone. Decoded photos are then reduced to `max_side`.
DECODE_BUDGET = 24_000_000


def _scaled(hand: Hand, factor: float) -> Hand:
    """The hand in the coordinates of an image `factor` times larger (decode at reduced scale);
    everything else, its `person` included, kept."""
    return replace(hand, box=hand.box * factor, landmarks=hand.landmarks * factor)


@dataclass
class Decoded:
    """One input after `Auditor.decode`: an image to judge, or the Finding that says why there is none.

    `image` is the photo as decoded (RGB uint8, possibly at reduced `scale` = its width / the full
    width); `finding` already has path, sha256, width and height. When decoding failed, `image` is
    None, the finding has status "error", and `reason` is the `ImageLoadError` reason (empty,
    not_image, corrupt, truncated, too_large, unsupported, unreadable), "unreadable" for a file that
    cannot be read, or None for an unexpected failure (the finding's error then quotes it).
    """

    finding: Finding
    image: np.ndarray | None = None
    scale: float = 1.0
    reason: str | None = None
    clip: Clip | None = None  # a video, sampled and judged by `Auditor.judge`


def hand_engine(options=None):
    """The hand `Engine` as the pipeline runs it: `options` (an `EngineOptions`, None for the
    defaults), its refining gated by the classify stage's finger reading."""
    from gesture_audit.classify.fingers import unsure
    from gesture_audit.detect.engine import Engine

    return Engine(options, unsure=unsure)


def default_max_side(engine) -> int:
    """The long side photos are decoded at for this engine (see `Auditor`'s `max_side`)."""
    return 1920 if getattr(engine, "groups", True) is not None else 1024


class Auditor:
    """Checks photos for ballot-number hand signs under one election.

    election: an `Election`, a path to an election TOML, or None for the default (Pilpres 2024).
    gallery: a candidate face gallery (a `Gallery`, or the path of a gallery file), or None: no face
        work at all. With one, every photo's faces are found and matched, findings get `faces`, and
        candidates with other people are flagged. Without the `faces` extra the faces are still found
        but none is matched (a warning says so once). A file that cannot be used raises GalleryError
        (a ValueError).
    engine: an object with `detect_hands(images) -> list[list[Hand]]` (an `Engine`, `MediaPipeHands`),
        or `EngineOptions` for a new `Engine`, or None for the default `Engine`.
    max_side: long side photos are decoded at (JPEGs decode at 1/2, 1/4, 1/8 scale while they stay
        at least this large), None for full size; hand coordinates are always reported in
        full-size pixels. The default, 0, means `default_max_side`: 1920 when the engine runs the
        group pass (small hands need the pixels; a 12 MP phone photo, 4000 px, then decodes at
        half size), else 1024 (a hand the whole-photo palm pass can find is still 80+ px there).
    max_pixels: larger images are refused before decoding (decompression bombs).
    workers: decoding threads of `check_many`.
    text: read printed campaign text (`attributes`): False (the default: it adds about 30 %
        to a scan of dev scenes, benchmarks/README.md), True to require it (TextUnavailable without the `ocr`
        extra), None when the extra is installed.
    symbols: a party-symbol gallery (a `SymbolGallery`, or the path of a symbols file), or None;
        when it holds symbols, each photo is searched for them (`attributes` of kind "symbol";
        see `gesture_audit.identify.symbols`). A file that cannot be used raises SymbolError.
    video_rate: frames sampled per second of a video (mp4, mov, webm, mkv, animated GIF/WebP).
    video_max: seconds of a video checked (None: all); a longer clip says it was cut short.

    A video is one Finding: its frames go through the engine in batches, each judged as a photo,
    and a sign counts when it is held (see `gesture_audit.judge.hold`). With a gallery, the faces
    in videos are not matched (hands only).

    `check` and `check_many` never raise for a bad input: it becomes a Finding with status "error".
    """

    def __init__(
        self,
        election=None,
        gallery=None,
        engine=None,
        *,
        max_side: int | None = 0,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        workers: int | None = None,
        text: bool | None = False,
        symbols=None,
        video_rate: float = DEFAULT_SAMPLE_RATE,
        video_max: float | None = DEFAULT_MAX_SECONDS,
    ):
        from gesture_audit.judge.election import Election, load_election

        if not isinstance(election, Election):
            election = load_election(election)
        self.election = election
        # The gallery first: a wrong path fails at once, before any model loads.
        self.gallery: Gallery | None = None
        self.faces = self.embedder = None
        if gallery is not None:
            from gesture_audit.identify.gallery import Gallery

            self.gallery = gallery if isinstance(gallery, Gallery) else Gallery.load(gallery)
        self.symbols = None  # a SymbolMatcher, only for a gallery with symbols in it
        if symbols is not None:
            from gesture_audit.identify.symbols import SymbolGallery, SymbolMatcher

            symbols = symbols if isinstance(symbols, SymbolGallery) else SymbolGallery.load(symbols)
            self.symbols = SymbolMatcher(symbols) if len(symbols) else None
        if engine is None or not hasattr(engine, "detect_hands"):
            engine = hand_engine(engine)
        self.engine = engine
        if self.gallery is not None:
            from gesture_audit.identify.embed import shared_embedder

            if not hasattr(engine, "detect"):  # an engine that finds no faces (the MediaPipe reference)
                from gesture_audit.detect.faces import FaceDetector

                self.faces = FaceDetector()
            self.embedder = shared_embedder()  # None without the extra: said once, here, not per photo
        self.text = None
        if text is not False:
            from gesture_audit.detect.text import TextReader, shared_reader

            # Text is read on the hand models' runtime (`--runtime`; the reference engine has none).
            runtime = getattr(getattr(engine, "choice", None), "runtime", "onnxruntime")
            self.text = TextReader(runtime=runtime) if text else shared_reader(runtime)
        self.max_side = default_max_side(engine) if max_side == 0 else max_side
        self.max_pixels = max_pixels
        self.workers = workers or min(4, os.cpu_count() or 1)
        if video_rate <= 0 or (video_max is not None and video_max <= 0):
            raise ValueError("video_rate and video_max must be positive")
        self.video_rate, self.video_max = video_rate, video_max
        # Called as a video's frames are judged: (seconds done, seconds to check or None), so that a
        # long clip shows progress (the scan's progress bar).
        self.on_video_progress: Callable[[float, float | None], None] | None = None
        self._lock = threading.Lock()  # face matching and symbols: one batch at a time
        self._lanes = getattr(engine, "lanes", 1)  # engine calls that may run at once
        self._engine_slots = threading.BoundedSemaphore(self._lanes)
        self._budget = PixelBudget(DECODE_BUDGET)

    # -- public API -------------------------------------------------------------------------------

    def check(self, source: Input) -> Finding:
        """Check one photo (a path, the bytes of an image file, an H×W×3 RGB uint8 array, an
        archive `Member`, or a `RemoteFile` in an object store)."""
        return self.judge([self.decode(source)])[0]

    def check_many(self, sources: Iterable[Input], batch: int = 8) -> Generator[Finding, None, None]:
        """Check many photos, yielding one Finding per input in input order.

        Inputs are decoded by `workers` threads while the engine runs batches of `batch` photos,
        `engine.lanes` batches at once; at most about (lanes + 1) × batch + workers decoded photos
        are held at once (the batches being judged and the next one), so memory stays flat however
        long `sources` is. Closing the iterator early stops the pending work.
        """
        if batch < 1:
            raise ValueError("batch must be at least 1")
        window = self._lanes * batch + self.workers
        sources = iter(sources)
        pending: deque[Future] = deque()
        judging: deque[Future] = deque()  # batches being judged, in input order
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="gesture-audit-decode")
        judges = ThreadPoolExecutor(self._lanes, thread_name_prefix="gesture-audit-judge") if self._lanes > 1 else None
        try:

            def refill() -> None:
                for source in itertools.islice(sources, window - len(pending)):
                    pending.append(pool.submit(self.decode, source))

            refill()
            while pending:
                group: list[Decoded] = []
                images = 0  # error rows ride along without taking a place in the engine's batch
                while pending and images < batch:
                    group.append(pending.popleft().result())
                    # a video fills a batch of its own: its frames are judged before the next photos
                    images += (group[-1].image is not None) + batch * (group[-1].clip is not None)
                    refill()
                if judges is None:
                    yield from self.judge(group, batch=batch)
                    continue
                judging.append(judges.submit(self.judge, group, batch=batch))
                if len(judging) == self._lanes:
                    yield from judging.popleft().result()
            while judging:
                yield from judging.popleft().result()
        finally:
            for future in [*pending, *judging]:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            if judges is not None:
                judges.shutdown(wait=True, cancel_futures=True)

    # -- stages -----------------------------------------------------------------------------------

    def decode(self, source: Input, *, videos: bool = True) -> Decoded:
        """Read, hash and decode one input (at most `max_side`, refused over `max_pixels`).

        A video is probed here and sampled by `judge`. With `videos=False` (the service) a video is
        refused ("unsupported") and an animated GIF or WebP is judged by its first frame, as a photo.
        Never raises: what goes wrong is on the Decoded's finding, and `reason` says which kind.
        """
        try:
            return self._read(source, videos)
        except Exception as e:  # e.g. MemoryError on a huge GIF, a source of the wrong type
            finding = Finding.failed(None, f"cannot check this input ({e!r})")
            if isinstance(source, (str, os.PathLike)):
                finding.path, finding.path_hex = path_form(source)
            elif isinstance(source, _DESCRIPTORS):
                finding.path = str(source)
            return Decoded(finding)

    def judge(self, decoded: list[Decoded], *, batch: int = 8) -> list[Finding]:
        """The findings of decoded inputs, in order: hands (and with a gallery, faces) found in all
        their images with one engine call, then each judged; a video's frames in engine calls of
        `batch`. Failed decodes pass through as they are.

        Each image is released once judged. Never raises for a bad photo: a failure is on its row.
        """
        todo = [d for d in decoded if d.image is not None]
        if todo:
            judged = self._verdicts([d.image for d in todo if d.image is not None], [d.scale for d in todo])
            for d, result in zip(todo, judged):
                d.image = None  # the pixels are no longer needed: let them go before the next batch
                if isinstance(result, str):
                    d.finding.status, d.finding.error = "error", result
                    continue
                verdict, faces, attributes = result
                d.finding.hands = [HandResult.from_dict(reading.to_dict()) for reading in verdict.hands]
                d.finding.faces = None if faces is None else [FaceResult.from_dict(m.to_dict()) for m in faces]
                d.finding.attributes = None if attributes is None else [a.to_dict() for a in attributes]
                d.finding.verdict = verdict.verdict
                d.finding.risk = round(float(verdict.risk), 4)
                d.finding.reasons = list(verdict.reasons)
        for d in decoded:
            if d.clip is not None:
                self._judge_clip(d, batch)
        release_memory()  # this batch's pixels and tensors are freed: their pages go back, not kept
        return [d.finding for d in decoded]

    def _verdicts(self, images: list[np.ndarray], scales: list[float], *, still: bool = True) -> list:
        """Per image: (Verdict, its FaceMatches or None, its attributes or None) or the error text.
        One engine call for all; hands (faces, text) in full-size pixels. `still`: a photo, whose
        faces are matched (with a gallery) and text read (when on); video frames are not."""
        from gesture_audit.classify.gestures import classify_hand
        from gesture_audit.detect.posters import printed_faces
        from gesture_audit.judge.attributes import judge_attributes, read_attributes, symbol_attributes
        from gesture_audit.judge.candidates import judge_candidates, picture_attributes
        from gesture_audit.judge.verdict import judge as judge_hands

        matches: list = [None] * len(images)  # per image: its FaceMatches, or the error that stopped them
        texts: list = [None] * len(images)  # per image: its TextLines (None: text not read)
        symbols: list = [None] * len(images)  # per image: its SymbolMatches (None: no symbol gallery)
        printed: list = [None] * len(images)  # per image: per face, whether it is a printed picture
        faces = self.gallery is not None and still
        with self._engine_slots:
            if faces and self.faces is None:  # the engine finds the faces with the hands: one face pass
                both = _batched(lambda batch: self.engine.detect(batch, faces=True), images)
                found = [b if isinstance(b, Exception) else b[0] for b in both]
                face_lists = [b if isinstance(b, Exception) else b[1] for b in both]
            else:
                found = _batched(self.engine.detect_hands, images)
                face_lists = _batched(self.faces.detect, images) if faces and self.faces is not None else []
        if self.text is not None and still:  # the gate in every lane; the reader runs its OCR models one at a time
            texts = _batched(self.text.read, images)
        with self._lock:
            matcher = self.symbols
            if matcher is not None and still:
                symbols = _batched(lambda batch: [matcher.match(image) for image in batch], images)
            for k, (image, image_faces) in enumerate(zip(images, face_lists)):
                matches[k] = (
                    RuntimeError(f"face detection failed ({image_faces})")
                    if isinstance(image_faces, Exception)
                    else self._match(image, image_faces)
                )
                if isinstance(matches[k], list) and any(m.candidate for m in matches[k]):
                    printed[k] = printed_faces(image, [m.box for m in matches[k]])
        results: list = []
        for hands, matched, lines, seen, flat, scale in zip(found, matches, texts, symbols, printed, scales):
            if isinstance(hands, Exception):
                results.append(f"hand detection failed ({hands})")
                continue
            if isinstance(matched, Exception):
                results.append(str(matched))
                continue
            if scale != 1.0:
                hands = [_scaled(h, 1.0 / scale) for h in hands]
            try:
                verdict = judge_hands([classify_hand(h) for h in hands], self.election)  # classify, then judge
                attributes = None  # None: neither text nor symbols looked for, and no candidate's picture
                if matched is not None:
                    matched = [replace(m, box=m.box / scale) for m in matched]
                    verdict = judge_candidates(verdict, matched, self.election.thresholds, flat)
                    if flat is not None and any(flat):
                        attributes = picture_attributes(matched, flat)
                if lines is not None and not isinstance(lines, Exception):
                    lines = [replace(line, box=line.box / scale) for line in lines]
                    attributes = (attributes or []) + read_attributes(lines, self.election)
                if seen is not None and not isinstance(seen, Exception):
                    seen = [replace(m, box=m.box / scale, quad=m.quad / scale) for m in seen]
                    attributes = (attributes or []) + symbol_attributes(seen, self.election)
                if attributes is not None:
                    ballots = [
                        m.ballot
                        for m, f in zip(matched or [], flat or [False] * len(matched or []))
                        if m.ballot is not None and m.candidate is not None and not f
                    ]
                    verdict = judge_attributes(verdict, attributes, self.election, ballots)
            except Exception as e:  # recorded on the row; a scan of 100k photos goes on
                results.append(f"judgement failed ({e!r})")
                continue
            results.append((verdict, matched, attributes))
        return results

    def _judge_clip(self, d: Decoded, batch: int) -> None:
        """Sample a video, judge its frames in engine batches, and judge the clip from them."""
        from gesture_audit.judge.hold import clock, judge_clip

        clip, d.clip = d.clip, None
        if clip is None:
            return
        finding = d.finding
        samples = []
        try:
            for chunk in _chunks(clip.samples(self.video_rate, self.video_max, self.max_side), batch):
                for sample, result in zip(
                    chunk, self._verdicts([s.image for s in chunk], [s.scale for s in chunk], still=False)
                ):
                    if isinstance(result, str):
                        raise VideoLoadError(clip.name, "corrupt", f"frame at {clock(sample.time)}: {result}")
                    samples.append((sample.time, result[0]))
                if self.on_video_progress is not None:
                    self.on_video_progress(
                        chunk[-1].time,
                        min(clip.duration, self.video_max or clip.duration)
                        if clip.duration is not None
                        else self.video_max,
                    )
        except VideoLoadError as e:
            finding.status, finding.error = "error", e.message
            return
        except Exception as e:  # a decoder failing in an unforeseen way: this video's row only
            finding.status, finding.error = "error", f"cannot check this video ({e!r})"
            return
        judged = judge_clip(samples, self.election)
        checked = samples[-1][0] + 1.0 / self.video_rate if samples else 0.0
        duration, cap = clip.duration, self.video_max
        capped = cap is not None and duration is not None and duration > cap + 1.0 / self.video_rate
        finding.hands = [HandResult.from_dict(reading.to_dict()) for reading in judged.hands]
        finding.verdict, finding.risk = cast(VerdictName, judged.verdict), round(float(judged.risk), 4)
        finding.reasons = list(judged.reasons)
        if cap is not None and duration is not None and capped:
            finding.reasons.append(
                f"only the first {clock(cap)} of {clock(duration)} was checked (raise the cap with --video-max)"
            )
        finding.video = {
            "format": clip.format,
            "duration": None if clip.duration is None else round(clip.duration, 3),
            "fps": None if clip.fps is None else round(clip.fps, 3),
            "sample_rate": self.video_rate,
            "samples": len(samples),
            "checked": round(min(checked, clip.duration or checked), 3),
            "capped": capped,
            "keyframe": judged.keyframe,
            "moments": [m.to_dict() for m in judged.moments],
        }

    def _match(self, image: np.ndarray, faces: list):
        """The faces of one image matched against the gallery, or the error that stopped it."""
        from gesture_audit.identify.match import match_faces

        faces = sorted(faces, key=lambda f: f.box[0] + f.box[2])  # left to right, as people are counted
        try:
            return match_faces(image, faces, self.gallery, embedder=self.embedder)
        except Exception as e:  # dlib on a strange crop: this photo's row, not the batch
            return RuntimeError(f"face matching failed ({e})")

    def _read(self, source: Input, videos: bool = True) -> Decoded:
        if isinstance(source, np.ndarray):
            return self._from_array(source)
        if isinstance(source, _DESCRIPTORS):
            try:
                data = source.read_bytes()
            except (ArchiveError, OSError) as e:
                what = "archive member" if isinstance(source, Member) else "file"
                return Decoded(Finding.failed(str(source), f"cannot read this {what} ({e})"), reason="unreadable")
            return self._from_data(Finding(str(source), hashlib.sha256(data).hexdigest()), data, videos)
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            return self._from_data(Finding(None, hashlib.sha256(data).hexdigest()), data, videos)
        if hasattr(source, "read"):  # a binary file object: read whole, as the bytes of a file
            data = source.read()
            if not isinstance(data, bytes):
                return Decoded(
                    Finding.failed(None, "expected a binary file object (opened with 'rb')"), reason="unsupported"
                )
            return self._read(data, videos)
        finding = Finding(None, None)
        finding.path, finding.path_hex = path_form(source)
        if is_archive(finding.path):
            finding.status, finding.error = (
                "error",
                ("an archive (zip, tar or 7z), not a photo: `gesture-audit scan` checks each of its members"),
            )
            return Decoded(finding, reason="unsupported")
        try:
            # Not a regular file (a pipe, a device, swapped in after a folder was listed): refused
            # from fstat of the open descriptor, without blocking or reading.
            with open_regular_file(source) as fh:
                if os.fstat(fh.fileno()).st_size <= _READ_WHOLE:
                    data = fh.read(_READ_WHOLE + 1)
                    finding.sha256 = hashlib.sha256(data).hexdigest()
                    return self._from_data(finding, data, videos)
                finding.sha256 = hash_file(fh)
        except (ImageLoadError, OSError) as e:
            finding.error = e.message if isinstance(e, ImageLoadError) else f"cannot read file ({e.strerror or e})"
            finding.status, finding.sha256 = "error", None
            return Decoded(finding, reason=getattr(e, "reason", "unreadable"))
        # A large file (a long video, say) is decoded from disk, not memory: by its path, which the
        # loaders open again (images through `open_regular_file`).
        return self._from_data(finding, os.fspath(source), videos)

    def _from_data(self, finding: Finding, data: bytes | str, videos: bool = True) -> Decoded:
        try:
            clip = open_video(data, max_pixels=self.max_pixels)
            if clip is not None and videos:
                finding.width, finding.height = clip.width, clip.height
                return Decoded(finding, clip=clip)
            if clip is not None and clip.format not in ("GIF", "WEBP"):
                raise VideoLoadError(
                    clip.name,
                    "unsupported",
                    "videos are not checked here: use `gesture-audit scan` or the Python API (Auditor.check)",
                )
            loaded = load_image_with_meta(data, max_pixels=self.max_pixels, max_side=self.max_side, budget=self._budget)
        except ImageLoadError as e:
            finding.status, finding.error = "error", e.message
            return Decoded(finding, reason=e.reason)
        finding.width, finding.height = loaded.width, loaded.height
        return Decoded(finding, loaded.image, loaded.scale)

    def _from_array(self, image: np.ndarray) -> Decoded:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
            return Decoded(
                Finding.failed(None, f"expected an H×W×3 RGB uint8 array, got shape {image.shape} of {image.dtype}"),
                reason="unsupported",
            )
        h, w = image.shape[:2]
        if h * w > self.max_pixels:
            return Decoded(
                Finding.failed(None, f"image is {w}×{h}, over the limit of {self.max_pixels} pixels"),
                reason="too_large",
            )
        return Decoded(Finding(None, None, width=w, height=h), np.ascontiguousarray(image))


def _batched(detect: Callable[[list[np.ndarray]], list], images: list[np.ndarray]) -> list:
    """`detect(images)`, one result per image; if the batch fails, each image alone, so that one
    poisoned photo costs only its own row (its result is then the exception)."""
    try:
        return detect(images)
    except Exception as e:
        if len(images) == 1:
            return [e]
    results = []
    for image in images:
        try:
            results.append(detect([image])[0])
        except Exception as e:
            results.append(e)
    return results


def _chunks(samples: Iterator[Sample], size: int) -> Iterator[list[Sample]]:
    while chunk := list(itertools.islice(samples, size)):
        yield chunk
