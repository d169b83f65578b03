"""Image loading shared by every entry point (CLI scan, Python API, HTTP service).

`load_image` turns a path, bytes or a binary file object into an upright RGB uint8 array, and
turns every way that can fail into one `ImageLoadError` that names the file and the problem.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 64_000_000

# Folder scans list HEIC even without pillow-heif: a clear "install pillow-heif" error beats a
# photo that is silently skipped.
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic", ".heif"}
)

# Only these decoders may run: uploads reach this code, and Pillow's exotic ones (EPS runs
# Ghostscript) are attack surface with nothing to gain. (The JPEG opener also yields MPO.)
_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")
_SIGNATURES = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"II*\0": "TIFF",
    b"MM\0*": "TIFF",
    b"BM": "BMP",
}
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
# Errors Pillow's decoders raise for damaged data (not programming errors, which propagate).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)

# Each call checks its own `max_pixels` against the header before decoding. Pillow's process-wide
# guard would fire first (a warning at 89 Mpx, an error at 179 Mpx) with no file name and no way
# to raise it per call, so it is switched off; this module is where the package opens images.
Image.MAX_IMAGE_PIXELS = None

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO

# Special files and their names in error messages (a folder walk refuses them without opening).
SPECIAL_FILES = {
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
}
# Bytes `open_regular_file` reads at most by default: far above any photo, far below the memory.
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024


class ImageLoadError(ValueError):
    """An image could not be loaded. `reason` is one of: empty, not_image, corrupt, truncated,
    too_large, unsupported, unreadable."""

    def __init__(self, source: str, reason: str, message: str):
        super().__init__(source, reason, message)  # all in args, so the error pickles across processes
        self.source, self.reason, self.message = source, reason, message

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass
class LoadedImage:
    image: np.ndarray  # H×W×3 RGB uint8, upright, possibly decoded at reduced scale
    width: int  # full size of the upright original
    height: int
    scale: float  # image width / original width
    format: str  # Pillow's name: JPEG, PNG, WEBP, HEIF, ...


_heif_lock = threading.Lock()
_heif_state: list[bool] = []  # empty until the first load tries to register pillow-heif


def _heif_available() -> bool:
    with _heif_lock:
        if not _heif_state:
            try:
                from pillow_heif import register_heif_opener
            except ImportError:
                _heif_state.append(False)
            else:
                register_heif_opener()
                _heif_state.append(True)
        return _heif_state[0]


def open_regular_file(path: str | os.PathLike | bytes, max_bytes: int | None = None) -> BinaryIO:
    """Open a regular file for reading, without ever blocking or reading endlessly.

    The file is opened with O_NONBLOCK (a named pipe would otherwise wait for a writer) and judged by
    fstat of the open descriptor, so a file swapped for a pipe or a device after it was listed is
    still caught. Raises ImageLoadError: "unreadable" for what cannot be opened or is not a regular
    file, "too_large" over `max_bytes` (None: any size; read in chunks, then).
    """
    name = os.fsdecode(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise ImageLoadError(name, "unreadable", f"cannot read file ({e.strerror or e})") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = SPECIAL_FILES.get(stat.S_IFMT(st.st_mode), "not a regular file")
            raise ImageLoadError(name, "unreadable", f"not a regular file ({kind}); not read")
        if max_bytes is not None and st.st_size > max_bytes:
            raise ImageLoadError(name, "too_large", f"file is {st.st_size} bytes, over the limit of {max_bytes} bytes")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def hash_file(fh: BinaryIO, chunk: int = 1024 * 1024) -> str:
    """SHA-256 of an open binary file from its position on, read in chunks (a large file costs no memory)."""
    digest = hashlib.sha256()
    while block := fh.read(chunk):
        digest.update(block)
    return digest.hexdigest()


def read_regular_file(path: str | os.PathLike | bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a regular file (see `open_regular_file`), never more than `max_bytes`."""
    with open_regular_file(path, max_bytes) as fh:
        data = fh.read(max_bytes + 1)  # a file that grew since fstat still stops here
    if len(data) > max_bytes:
        raise ImageLoadError(os.fsdecode(path), "too_large", f"file is over the limit of {max_bytes} bytes")
    return data


class PixelBudget:
    """Pixels that may be decoding at once, across threads: a decode waits until its image fits.

    A photo's decode holds several full-size copies at once (palette or 16-bit to RGB, alpha), so a
    folder of small PNGs that each unpack to 64 Mpx would otherwise take gigabytes with a few decoding
    threads. A single image over the whole budget still decodes, alone.
    """

    def __init__(self, pixels: int):
        self.pixels = pixels
        self._free = pixels
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        pixels = min(pixels, self.pixels)
        with self._cond:
            self._cond.wait_for(lambda: self._free >= pixels)
            self._free -= pixels
        try:
            yield
        finally:
            with self._cond:
                self._free += pixels
                self._cond.notify_all()


def _mpx(pixels: int) -> str:
    return f"{pixels / 1e6:.4g}"


def _sniff(head: bytes) -> str | None:
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "HEIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for sig, fmt in _SIGNATURES.items() if head.startswith(sig)), None)


def is_photo(path) -> bool:
    """Whether a file found in a folder is meant as a photo (or a video, which a scan samples): it
    has an image or video suffix, or its first bytes are an image's or a video's whatever its name.
    Anything else (notes, an export's JSON or HTML) is not a photo, and a folder scan skips it; a damaged photo is still a photo (its row
    says what is wrong). Extend this, not its callers, to let a scan read other kinds of files.
    `path`: a path, or an object in a store (`remote.RemoteFile`, read by its `name` and `head()`).
    """
    from gesture_audit.load_video import VIDEO_SUFFIXES, sniff_video  # videos are checked too

    local = isinstance(path, (str, os.PathLike))
    if os.path.splitext(os.fspath(path) if local else path.name)[1].lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
        return True
    try:
        if local:
            with open(path, "rb") as fh:
                head = fh.read(64)
        else:
            head = path.head(64)
    except OSError:
        return True  # the decoder then says why it cannot be read
    return _sniff(head) is not None or sniff_video(head) is not None


def _unidentified(fp: BinaryIO, name: str) -> ImageLoadError:
    """Why Pillow could not identify the file, judged from its first bytes."""
    fp.seek(0)
    head = fp.read(512)
    if not head:
        return ImageLoadError(name, "empty", "empty file (0 bytes)")
    if not any(b < 9 or 13 < b < 32 for b in head):
        return ImageLoadError(name, "not_image", "not an image (looks like text)")
    fmt = _sniff(head)
    if fmt == "HEIF" and not _heif_available():
        return ImageLoadError(
            name,
            "unsupported",
            "unsupported format HEIC/HEIF: install the optional "
            "pillow-heif package (pip install 'gesture-audit[heif]')",
        )
    if fmt:
        return ImageLoadError(name, "corrupt", f"corrupt {fmt} (the header cannot be parsed)")
    return ImageLoadError(
        name,
        "unsupported",
        "unsupported format (expected JPEG, PNG, WebP, BMP, "
        f"TIFF, GIF or HEIC; the file starts with {head[:8].hex(' ')})",
    )


def _reduced(im: Image.Image, factor: int) -> Image.Image:
    """`im` made `factor` times smaller before the conversions to RGB, which each copy it at full size
    (a 64 Mpx palette PNG would otherwise pass through ~1 GB of RGBA copies)."""
    if im.mode.startswith("I;16"):
        im = im.convert("I")
    elif im.mode in ("1", "P"):
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    return im.reduce(factor)


def _to_rgb(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # convert("L") would clip everything above 255; scale the range down instead:
        # integers are 16-bit samples, floats are 0..1 (or normalised by their maximum).
        a = np.asarray(im, dtype=np.float32)
        scaled = a * (255 / max(1.0, float(a.max()))) if im.mode == "F" else a / 257
        gray = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), rgba)
    return np.array(im.convert("RGB") if im.mode != "RGB" else im)  # np.array: writable copy


def load_image_with_meta(
    source: Source,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
    budget: PixelBudget | None = None,
) -> LoadedImage:
    """Load an image as an upright RGB uint8 array, with its original size and decode scale.

    With `max_side`, a larger image is reduced by a whole factor while its long side stays
    >= max_side (a JPEG is decoded at 1/2, 1/4 or 1/8 scale directly). With `budget`, the decode
    waits until its pixels fit in it. Paths are opened with `open_regular_file`. Raises
    ImageLoadError (see its `reason`).
    """
    owned = isinstance(source, (str, os.PathLike))
    fp: BinaryIO
    if isinstance(source, (str, os.PathLike)):
        name = os.fsdecode(source)
        fp = open_regular_file(source)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        name, fp = "<bytes>", io.BytesIO(source)
    else:
        given = getattr(source, "name", None)
        name = given if isinstance(given, str) else "<file object>"
        seekable = getattr(source, "seekable", lambda: False)()
        fp = source if seekable else io.BytesIO(source.read())
    try:
        return _load(fp, name, max_pixels, max_side, budget)
    finally:
        if owned:
            fp.close()


def _jpeg_too_short(fp: BinaryIO, w: int, h: int) -> str | None:
    """Why a JPEG's header cannot be true, or None. Huffman coding spends at least one bit per 8×8
    block of luma (a flat progressive image; baseline needs two), so a file with fewer bytes than
    blocks / 8 lacks most of its image: libjpeg would fill the rest in grey, silently."""
    here = fp.tell()
    size = fp.seek(0, io.SEEK_END)
    fp.seek(here)
    blocks = -(-w // 8) * -(-h // 8)
    if size * 8 >= blocks:
        return None
    return (
        f"damaged JPEG: its header says {w}×{h}, which needs at least {blocks // 8} bytes of image "
        f"data, but the file has {size} bytes"
    )


def _load(fp: BinaryIO, name: str, max_pixels: int, max_side: int | None, budget: PixelBudget | None) -> LoadedImage:
    formats = _FORMATS + (("HEIF",) if _heif_available() else ())
    try:
        im = Image.open(fp, formats=formats)  # lazy: reads the header only
    except UnidentifiedImageError:
        raise _unidentified(fp, name) from None
    except Image.DecompressionBombError as e:  # only if someone re-enabled Pillow's guard
        raise ImageLoadError(name, "too_large", f"image too large ({e})") from e
    except _DECODE_ERRORS as e:
        raise ImageLoadError(name, "corrupt", f"corrupt image ({e})") from e
    with im:
        w, h = im.size
        if w * h > max_pixels:
            raise ImageLoadError(
                name,
                "too_large",
                f"image is {w}×{h} = {_mpx(w * h)} Mpx, over the "
                f"limit of {_mpx(max_pixels)} Mpx (raise with max_pixels)",
            )
        fmt = im.format or "unknown"
        if fmt in ("JPEG", "MPO") and (why := _jpeg_too_short(fp, w, h)):
            raise ImageLoadError(name, "truncated", why)
        try:
            if max_side and max(w, h) > max_side:
                # draft() picks the largest JPEG scale whose decode still covers the requested
                # box; asking for max_side on the long side keeps it right whatever the EXIF rotation.
                long = max(w, h)
                im.draft(None, (max(1, w * max_side // long), max(1, h * max_side // long)))
            decoded = im.size
            turns = im.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8)
            with budget.hold(im.size[0] * im.size[1]) if budget else nullcontext():
                ImageOps.exif_transpose(im, in_place=True)  # decodes, then turns upright
                upright: Image.Image = im
                if max_side and (factor := max(im.size) // max_side) >= 2:
                    upright = _reduced(im, factor)  # what a JPEG's draft does, for every format
                image = _to_rgb(upright)
        except _DECODE_ERRORS as e:
            if isinstance(e, EOFError) or "truncated" in str(e):
                raise ImageLoadError(
                    name, "truncated", f"truncated {fmt} (the file ends before the image data does)"
                ) from e
            raise ImageLoadError(name, "corrupt", f"corrupt {fmt} ({e})") from e
    # TIFF and HEIF report an upright size from the start, JPEG turns in exif_transpose: the
    # shapes tell which, unless a reduced decode came out square; then the EXIF tag does.
    if (im.size != decoded) if decoded[0] != decoded[1] else turns:
        w, h = h, w
    return LoadedImage(image=image, width=w, height=h, scale=image.shape[1] / w, format=fmt)


def load_image(source: Source, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int | None = None) -> np.ndarray:
    """Load an image as an upright H×W×3 RGB uint8 array; raises ImageLoadError."""
    return load_image_with_meta(source, max_pixels=max_pixels, max_side=max_side).image
