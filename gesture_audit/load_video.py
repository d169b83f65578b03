"""Video loading: frames sampled at a steady rate from mp4/mov/webm/mkv (PyAV) and animated GIF/WebP.

    clip = open_video("reel.mp4")              # None when the file is not a video; VideoLoadError if damaged
    for sample in clip.samples(rate=2.0, max_seconds=600, max_side=1920):
        sample.time, sample.image              # seconds from the start, RGB uint8 (upright)
    clip.frame_at(3.5)                         # the same picture again (evidence keyframes)

A sample at time t is the frame a viewer sees at t: the last frame that starts at or before t, so
a frame held on screen for two seconds is seen by every sample in those two seconds, and samples
lie on an exact grid (0, 0.5, 1.0, ... at 2 per second). Sources are a path, bytes or a binary file
object (a member read from an archive), never written to disk. Containers are read with PyAV
(`pip install 'gesture-audit[video]'`); animated GIF and WebP with Pillow.
"""

from __future__ import annotations

import io
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
from PIL import Image

from gesture_audit.load import ImageLoadError, Source, _to_rgb

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".3gp", ".webm", ".mkv", ".avi"})
DEFAULT_SAMPLE_RATE = 2.0  # samples per second
DEFAULT_MAX_SECONDS = 600.0  # longer clips are checked up to here, and the finding says so

# ISO media (mp4, mov, 3gp) starts with a box, usually `ftyp`; HEIF stills share it (see load.py).
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis")
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")
# A video that stops decoding this long before its stated end is damaged, not merely rounded.
_TRUNCATION_SLACK = 1.0
# Browsers show GIF frames with a delay of 10 ms or less for 100 ms; so does this module.
_GIF_MIN_DELAY = 0.02


class VideoLoadError(ImageLoadError):
    """A video could not be read. `reason` as for ImageLoadError: empty, corrupt, truncated,
    too_large, unsupported, unreadable."""


@dataclass
class Sample:
    time: float  # seconds from the clip's first frame
    image: np.ndarray  # H×W×3 RGB uint8, upright, possibly scaled down
    scale: float  # image width / the clip's width


@dataclass
class Clip:
    """A video ready to sample. `width` × `height` is the upright frame size; `duration` and `fps`
    are None when the container does not say."""

    source: str | bytes = field(repr=False)
    name: str
    format: str  # "MP4", "QuickTime", "Matroska", "WebM", "AVI", "GIF", "WEBP"
    width: int
    height: int
    duration: float | None = None
    fps: float | None = None
    frames: int | None = None  # frames in the file, when known

    def samples(
        self,
        rate: float = DEFAULT_SAMPLE_RATE,
        max_seconds: float | None = DEFAULT_MAX_SECONDS,
        max_side: int | None = None,
    ) -> Iterator[Sample]:
        """The frames shown at 0, 1/rate, 2/rate, ... seconds, up to `max_seconds` (None: no cap),
        scaled so that the long side is at most `max_side`. Raises VideoLoadError when the video
        turns out damaged part-way (frames already yielded stay valid)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        frames = self._pillow_frames() if self.format in ("GIF", "WEBP") else self._pyav_frames()
        factor = 1.0 if not max_side else min(1.0, max_side / max(self.width, self.height))
        k, held, last = 0, None, 0.0
        for start, frame in frames:
            # Every grid time before this frame's start showed the frame held until now.
            while held is not None and k / rate < start:
                if max_seconds is not None and k / rate > max_seconds:
                    return
                yield Sample(k / rate, self._picture(held, factor), factor)
                k += 1
            held, last = frame, start
        if held is None:
            raise VideoLoadError(self.name, "corrupt", f"damaged {self.format} video (no frame could be decoded)")
        while k / rate <= last and (max_seconds is None or k / rate <= max_seconds):
            yield Sample(k / rate, self._picture(held, factor), factor)
            k += 1
        stated = self.duration
        if stated is not None and last + _TRUNCATION_SLACK < stated:
            raise VideoLoadError(
                self.name, "truncated", f"truncated {self.format} video (frames end at {last:.1f} s of {stated:.1f} s)"
            )

    def frame_at(self, time: float, max_side: int | None = None) -> Sample:
        """The frame shown at `time` seconds (as `samples` gives it): an evidence keyframe. Containers
        seek to the key frame before `time` rather than decode from the start."""
        held = None
        for seek in ((time,) if self.format not in ("GIF", "WEBP") and time > 0 else ()) + (None,):
            frames = self._pillow_frames() if self.format in ("GIF", "WEBP") else self._pyav_frames(seek)
            try:
                for start, frame in frames:
                    if start > time + 1e-6:
                        break  # with nothing held, the seek overshot: decode from the start instead
                    held = frame
            finally:
                frames.close()
            if held is not None:
                break
        if held is None:
            raise VideoLoadError(self.name, "corrupt", f"damaged {self.format} video (no frame could be decoded)")
        factor = 1.0 if not max_side else min(1.0, max_side / max(self.width, self.height))
        return Sample(time, self._picture(held, factor), factor)

    # -- decoders ---------------------------------------------------------------------------------

    def _open(self) -> BinaryIO | str:
        return io.BytesIO(self.source) if isinstance(self.source, bytes) else self.source

    def _pyav_frames(self, seek: float | None = None) -> Generator[tuple[float, object], None, None]:
        """(start time, frame) from the stream's start (or from the key frame before `seek` seconds)."""
        import av

        t0 = None
        try:
            with av.open(self._open(), "r") as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                if stream.start_time is not None and stream.time_base:
                    t0 = float(stream.start_time * stream.time_base)
                if seek is not None and t0 is not None:
                    container.seek(int((t0 + seek) / stream.time_base), stream=stream, backward=True)
                for frame in container.decode(stream):
                    if frame.time is None:
                        continue
                    t0 = frame.time if t0 is None else t0
                    yield frame.time - t0, frame
        except av.FFmpegError as e:
            at = "" if t0 is None else " part-way"
            raise VideoLoadError(self.name, "corrupt", f"damaged {self.format} video{at} ({_ffmpeg(e)})") from e

    def _pillow_frames(self) -> Generator[tuple[float, object], None, None]:
        start = 0.0
        try:
            with Image.open(self._open(), formats=(self.format,)) as im:
                for i in range(getattr(im, "n_frames", 1)):
                    im.seek(i)
                    yield start, _to_rgb(im)
                    delay = float(im.info.get("duration") or 0) / 1000
                    start += delay if delay >= _GIF_MIN_DELAY else 0.1
        except (OSError, ValueError, EOFError, SyntaxError) as e:
            raise VideoLoadError(self.name, "corrupt", f"damaged animated {self.format} ({e})") from e

    def _picture(self, frame, factor: float) -> np.ndarray:
        if isinstance(frame, np.ndarray):  # a Pillow frame, already RGB
            image = frame
            if factor < 1.0:
                image = np.asarray(
                    Image.fromarray(image).resize(
                        (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor))),
                        Image.Resampling.BILINEAR,
                    )
                )
            return np.array(image)
        turns = round((frame.rotation or 0) / 90) % 4  # the display matrix: counter-clockwise degrees
        w, h = (self.width, self.height) if turns % 2 == 0 else (self.height, self.width)
        image = frame.to_ndarray(format="rgb24", width=max(1, round(w * factor)), height=max(1, round(h * factor)))
        return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def _ffmpeg(e: Exception) -> str:
    return getattr(e, "strerror", None) or str(e)


def sniff_video(head: bytes) -> str | None:
    """The container a file's first bytes announce, or None (also for HEIF stills)."""
    if head[4:8] in _ISO_BOXES:
        if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
            return None
        return "QuickTime" if head[8:12] == b"qt  " else "MP4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "WebM" if b"webm" in head[:64] else "Matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def open_video(source: Source, *, max_pixels: int | None = None) -> Clip | None:
    """The clip in `source` (a path, bytes or a binary file object), or None when it is not a video
    (a still GIF or WebP is an image). Raises VideoLoadError for a video that cannot be read."""
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        try:
            with open(name, "rb") as fh:
                head = fh.read(64)
        except OSError as e:
            raise VideoLoadError(name, "unreadable", f"cannot read file ({e.strerror or e})") from e
        data: str | bytes = name
    else:
        name = "<bytes>"
        if not isinstance(source, (bytes, bytearray, memoryview)):
            given = getattr(source, "name", None)
            name = given if isinstance(given, str) else "<file object>"
            source = source.read()
        data = bytes(source)
        head = data[:64]
    fmt = sniff_video(head)
    if fmt is None:
        return None
    clip = _probe_pillow(data, name, fmt) if fmt in ("GIF", "WEBP") else _probe_pyav(data, name, fmt)
    if clip is not None and max_pixels is not None and clip.width * clip.height > max_pixels:
        raise VideoLoadError(
            name,
            "too_large",
            f"video frames are {clip.width}×{clip.height}, over the limit of {max_pixels / 1e6:.4g} Mpx",
        )
    return clip


def _probe_pillow(data: str | bytes, name: str, fmt: str) -> Clip | None:
    try:
        with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data, formats=(fmt,)) as im:
            if not getattr(im, "is_animated", False):
                return None
            frames = im.n_frames
            duration = 0.0
            for i in range(frames):
                im.seek(i)
                delay = float(im.info.get("duration") or 0) / 1000
                duration += delay if delay >= _GIF_MIN_DELAY else 0.1
            w, h = im.size
    except (OSError, ValueError, EOFError, SyntaxError):
        return None  # damaged: the image loader says how
    return Clip(data, name, fmt, w, h, duration=duration, fps=frames / duration if duration else None, frames=frames)


def _probe_pyav(data: str | bytes, name: str, fmt: str) -> Clip:
    try:
        import av
    except ImportError:
        raise VideoLoadError(
            name,
            "unsupported",
            f"unsupported format: {fmt} video needs the optional PyAV package (pip install 'gesture-audit[video]')",
        ) from None
    try:
        with av.open(io.BytesIO(data) if isinstance(data, bytes) else data, "r") as container:
            if not container.streams.video:
                raise VideoLoadError(name, "unsupported", f"{fmt} file without a video track (sound only?)")
            stream = container.streams.video[0]
            w, h = stream.codec_context.width, stream.codec_context.height
            if not w or not h:
                raise VideoLoadError(name, "corrupt", f"damaged {fmt} video (no frame size)")
            duration = (
                float(stream.duration * stream.time_base)
                if stream.duration and stream.time_base
                else container.duration / 1e6
                if container.duration
                else None
            )
            fps = float(stream.average_rate) if stream.average_rate else None
            frames = stream.frames or None
            # The first frame proves the track decodes and carries the display rotation (phones
            # store portrait videos as landscape frames turned on playback).
            first = next(container.decode(stream), None)
    except av.FFmpegError as e:
        raise VideoLoadError(name, "corrupt", f"damaged {fmt} video ({_ffmpeg(e)})") from e
    if first is None:
        raise VideoLoadError(name, "corrupt", f"damaged {fmt} video (no frame could be decoded)")
    if round((first.rotation or 0) / 90) % 2:
        w, h = h, w
    return Clip(data, name, fmt, w, h, duration=duration, fps=fps, frames=frames)
