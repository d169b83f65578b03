"""Tests for gesture_audit.load: every input is built here, in tmp_path or in memory."""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
import time
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from gesture_audit import load
from gesture_audit.load import (
    DEFAULT_MAX_PIXELS,
    IMAGE_SUFFIXES,
    ImageLoadError,
    LoadedImage,
    load_image,
    load_image_with_meta,
)

W, H = 48, 32  # asymmetric, so a wrong turn or flip changes the shape or the corners


def pattern() -> np.ndarray:
    """Four flat quadrants of distinct colours: survives JPEG and tells every orientation apart."""
    a = np.zeros((H, W, 3), np.uint8)
    a[: H // 2, : W // 2] = (255, 0, 0)
    a[: H // 2, W // 2 :] = (0, 255, 0)
    a[H // 2 :, : W // 2] = (0, 0, 255)
    a[H // 2 :, W // 2 :] = (255, 255, 0)
    return a


def corners(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    return np.stack([a[y, x] for y in (h // 4, 3 * h // 4) for x in (w // 4, 3 * w // 4)])


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_rgb(a: np.ndarray, shape: tuple[int, int]):
    assert a.dtype == np.uint8 and a.ndim == 3 and a.shape == (*shape, 3)
    assert a.flags.c_contiguous and a.flags.writeable


# --- formats -----------------------------------------------------------------------------------

LOSSLESS = 0
LOSSY = 40  # max abs error allowed per channel at the quadrant centres


@pytest.mark.parametrize(
    "suffix, fmt, kw, tol",
    [
        (".jpg", "JPEG", {"quality": 95}, LOSSY),
        (".png", "PNG", {}, LOSSLESS),
        (".webp", "WEBP", {"lossless": True}, LOSSLESS),
        (".webp", "WEBP", {"quality": 90}, LOSSY),
        (".bmp", "BMP", {}, LOSSLESS),
        (".tif", "TIFF", {}, LOSSLESS),
        (".tiff", "TIFF", {"compression": "tiff_lzw"}, LOSSLESS),
        (".gif", "GIF", {}, LOSSLESS),
    ],
)
def test_formats(tmp_path, suffix, fmt, kw, tol):
    path = write(tmp_path, "img" + suffix, encode(Image.fromarray(pattern()), fmt, **kw))
    assert suffix in IMAGE_SUFFIXES
    meta = load_image_with_meta(path)
    assert isinstance(meta, LoadedImage)
    assert_rgb(meta.image, (H, W))
    assert (meta.width, meta.height, meta.scale, meta.format) == (W, H, 1.0, fmt)
    diff = np.abs(corners(meta.image).astype(int) - corners(pattern()).astype(int))
    assert diff.max() <= tol


def test_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (W, H), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert (load_image(data) == (255, 0, 0)).all()


# --- EXIF orientation --------------------------------------------------------------------------

# What a camera stores for each tag value, given the upright picture: apply the inverse turn.
STORED = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, 1),  # stored turned 90° counter-clockwise, viewer turns it clockwise
    7: lambda a: np.rot90(a, 2).transpose(1, 0, 2),  # transverse: mirror on the anti-diagonal
    8: lambda a: np.rot90(a, -1),
}


def with_orientation(upright: np.ndarray, orientation: int) -> Image.Image:
    im = Image.fromarray(np.ascontiguousarray(STORED[orientation](upright)))
    im.getexif()[0x0112] = orientation
    return im


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation(fmt, orientation):
    im = with_orientation(pattern(), orientation)
    data = encode(im, fmt, exif=im.getexif().tobytes())
    meta = load_image_with_meta(data)
    assert_rgb(meta.image, (H, W))
    assert (meta.width, meta.height) == (W, H)
    assert np.abs(corners(meta.image).astype(int) - corners(pattern()).astype(int)).max() <= LOSSY


# --- colour modes ------------------------------------------------------------------------------


def gray_ramp(dtype=np.uint8, top=255) -> np.ndarray:
    return np.linspace(0, top, W * H).reshape(H, W).round().astype(dtype)


def palette_with_transparent_index() -> Image.Image:
    im = Image.new("P", (W, H), 0)
    im.putpalette([0, 0, 0, 10, 20, 30])
    im.info["transparency"] = 0  # tRNS: palette entry 0 is fully transparent
    return im


@pytest.mark.parametrize(
    "name, make, expected",
    [
        (
            "rgba over white",
            lambda: Image.fromarray(np.dstack([pattern(), np.full((H, W), 0, np.uint8)])),
            np.full((H, W, 3), 255),
        ),
        ("rgba opaque", lambda: Image.fromarray(np.dstack([pattern(), np.full((H, W), 255, np.uint8)])), pattern()),
        (
            "la half",
            lambda: Image.fromarray(np.dstack([np.zeros((H, W), np.uint8), np.full((H, W), 128, np.uint8)])),
            np.full((H, W, 3), 127),
        ),  # black at 50 % over white
        ("grayscale", lambda: Image.fromarray(gray_ramp()), np.repeat(gray_ramp()[..., None], 3, 2)),
        ("1-bit", lambda: Image.fromarray(gray_ramp() > 127), np.repeat((gray_ramp() > 127)[..., None] * 255, 3, 2)),
        (
            "palette",
            lambda: Image.fromarray(pattern()).convert("P", palette=Image.Palette.ADAPTIVE, colors=4),
            pattern(),
        ),
        ("palette transparent", palette_with_transparent_index, np.full((H, W, 3), 255)),
        ("16-bit gray", lambda: Image.fromarray(gray_ramp(np.uint16, 65535)), np.repeat(gray_ramp()[..., None], 3, 2)),
    ],
)
def test_png_modes(name, make, expected):
    a = load_image(encode(make(), "PNG"))
    assert_rgb(a, (H, W))
    assert np.abs(a.astype(int) - np.asarray(expected, int)).max() <= 1, name


def test_16bit_is_scaled_not_clipped():
    # convert("L") would clip: a mid-grey 16-bit sample (32768) must come out mid-grey, not 255.
    a = load_image(encode(Image.fromarray(np.full((H, W), 32768, np.uint16)), "PNG"))
    assert (a == 128).all()


@pytest.mark.parametrize(
    "mode, top, expected", [("I", 65535, 255), ("I", 257 * 100, 100), ("F", 1.0, 255), ("F", 0.5, 128)]
)
def test_32bit_tiff(mode, top, expected):
    dtype = np.int32 if mode == "I" else np.float32
    im = Image.fromarray(np.full((H, W), top, dtype))
    assert im.mode == mode
    a = load_image(encode(im, "TIFF"))
    assert_rgb(a, (H, W))
    assert (a == expected).all()


@pytest.mark.parametrize("ext", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_16bit_png_tiff(ext, channels):
    # Pillow cannot write 16-bit colour files; OpenCV can (in BGR order).
    rgb16 = pattern().astype(np.uint16) * 257
    opaque = np.full((H, W, 1), 65535, np.uint16)
    bgr16 = {1: rgb16[..., 0], 3: rgb16[..., ::-1], 4: np.dstack([rgb16[..., ::-1], opaque])}[channels]
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(bgr16))
    assert ok
    expected = np.repeat(pattern()[..., :1], 3, axis=2) if channels == 1 else pattern()
    assert (load_image(buf.tobytes()) == expected).all()


def test_cmyk_jpeg():
    a = load_image(encode(Image.fromarray(pattern()).convert("CMYK"), "JPEG", quality=95))
    assert_rgb(a, (H, W))
    assert np.abs(corners(a).astype(int) - corners(pattern()).astype(int)).max() <= LOSSY


# --- sources -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda data, path: data,
        lambda data, path: bytearray(data),
        lambda data, path: memoryview(data),
        lambda data, path: io.BytesIO(data),
        lambda data, path: Unseekable(data),
        lambda data, path: path,
        lambda data, path: str(path),
    ],
    ids=["bytes", "bytearray", "memoryview", "BytesIO", "unseekable", "Path", "str"],
)
def test_sources(tmp_path, make):
    data = encode(Image.fromarray(pattern()), "PNG")
    path = write(tmp_path, "a.png", data)
    assert (load_image(make(data, path)) == pattern()).all()


class Unseekable(io.RawIOBase):
    def __init__(self, data: bytes):
        self._buf = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, b):
        return self._buf.readinto(b)


def test_file_object_left_open_and_named(tmp_path):
    path = write(tmp_path, "a.png", encode(Image.fromarray(pattern()), "PNG"))
    with open(path, "rb") as f:
        load_image(f)
        assert not f.closed
    with open(write(tmp_path, "b.jpg", b""), "rb") as f, pytest.raises(ImageLoadError, match="b.jpg"):
        load_image(f)


# --- failures ----------------------------------------------------------------------------------


def png_bytes(width: int, height: int) -> bytes:
    """A valid PNG header declaring any size, with only 1 KiB of zeros behind it: a bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(1024))) + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    rng = np.random.default_rng(0)  # noise: the entropy-coded data is most of the file
    return encode(Image.fromarray(rng.integers(0, 255, (256, 256, 3), np.uint8)), "JPEG", quality=90)


def corrupt_png() -> bytes:
    data = bytearray(encode(Image.fromarray(pattern()), "PNG"))
    data[20] ^= 0xFF  # inside IHDR: the chunk's CRC no longer matches
    return bytes(data)


def noise_png() -> bytes:
    return encode(Image.fromarray(np.random.default_rng(1).integers(0, 255, (H, W, 3), np.uint8)), "PNG")


def corrupt_png_data() -> bytes:
    data = noise_png()
    start = data.index(b"IDAT") + 4
    return data[:start] + bytes(64) + data[start + 64 :]  # valid header, garbage in the zlib stream


@pytest.mark.parametrize(
    "name, make, reason, message",
    [
        ("empty.jpg", lambda: b"", "empty", "empty file"),
        (
            "notes.jpg",
            lambda: b"Dear committee,\nplease find the photos attached.\n",
            "not_image",
            r"not an image \(looks like text\)",
        ),
        ("cut.jpg", lambda: jpeg_bytes()[: len(jpeg_bytes()) // 2], "truncated", "truncated JPEG"),
        ("cut.png", lambda: noise_png()[: len(noise_png()) // 2], "truncated", "truncated PNG"),
        ("bad.png", corrupt_png, "corrupt", "corrupt PNG"),
        ("bad-data.png", corrupt_png_data, "corrupt", "corrupt PNG"),
        (
            "bomb.png",
            lambda: png_bytes(20000, 20000),
            "too_large",
            "image is 20000×20000 = 400 Mpx, over the limit of 64 Mpx",
        ),
        ("a.ppm", lambda: encode(Image.fromarray(pattern()), "PPM"), "unsupported", "unsupported format"),
        ("noise.jpg", lambda: bytes(range(256)), "unsupported", "unsupported format"),
    ],
)
def test_failures(tmp_path, name, make, reason, message):
    path = write(tmp_path, name, make())
    before = sha256(path)
    for source, shown in ((path, str(path)), (path.read_bytes(), "<bytes>")):
        with pytest.raises(ImageLoadError, match=message) as info:
            load_image(source)
        assert info.value.reason == reason
        assert str(info.value).startswith(f"{shown}: ")
    assert sha256(path) == before


def test_bomb_refused_before_decoding():
    data = png_bytes(20000, 20000)
    assert len(data) < 2000
    start = time.perf_counter()
    with pytest.raises(ImageLoadError) as info:
        load_image(data)
    assert time.perf_counter() - start < 0.5  # decoding 1.2 GB of pixels would take seconds
    assert info.value.reason == "too_large" and "raise with max_pixels" in str(info.value)


def test_max_pixels_is_per_call():
    data = encode(Image.fromarray(pattern()), "PNG")
    with pytest.raises(ImageLoadError, match="over the limit of 0.001 Mpx") as info:
        load_image(data, max_pixels=1000)
    assert info.value.reason == "too_large"
    assert load_image(data, max_pixels=W * H).shape == (H, W, 3)
    assert DEFAULT_MAX_PIXELS == 64_000_000


def test_unreadable(tmp_path):
    for source, message in (
        (tmp_path / "missing.jpg", "cannot read file"),
        (tmp_path, r"not a regular file \(a folder\)"),
    ):
        with pytest.raises(ImageLoadError, match=message) as info:
            load_image(source)
        assert info.value.reason == "unreadable"


def test_error_pickles_and_is_value_error():
    err = ImageLoadError("a.jpg", "empty", "empty file (0 bytes)")
    again = pickle.loads(pickle.dumps(err))
    assert isinstance(again, ValueError)
    assert (str(again), again.reason, again.source) == ("a.jpg: empty file (0 bytes)", "empty", "a.jpg")


def test_input_file_unchanged(tmp_path):
    im = with_orientation(pattern(), 6)
    path = write(tmp_path, "turned.jpg", encode(im, "JPEG", exif=im.getexif().tobytes()))
    before = sha256(path)
    load_image(path, max_side=10)
    assert sha256(path) == before


# --- reduced-scale decode ----------------------------------------------------------------------

BIG_W, BIG_H = 1600, 1200


def big_jpeg(orientation: int = 1) -> bytes:
    up = np.kron(pattern()[::16, ::24], np.ones((600, 800, 1), np.uint8))  # the quadrants, 800×600 each
    assert up.shape == (BIG_H, BIG_W, 3)
    im = with_orientation(up, orientation)
    return encode(im, "JPEG", quality=90, exif=im.getexif().tobytes())


@pytest.mark.parametrize(
    "max_side, orientation, shape, scale",
    [
        (None, 1, (1200, 1600), 1.0),
        (2000, 1, (1200, 1600), 1.0),  # already smaller: full decode
        (1600, 1, (1200, 1600), 1.0),
        (1000, 1, (1200, 1600), 1.0),  # 1/2 would give a long side of 800 < 1000
        (800, 1, (600, 800), 0.5),
        (500, 1, (600, 800), 0.5),  # 1/4 would give 400 < 500
        (400, 1, (300, 400), 0.25),
        (200, 1, (150, 200), 0.125),
        (50, 1, (38, 50), 0.03125),  # 1/8 is the smallest JPEG scale; then reduced by 4 as other formats
        (400, 6, (300, 400), 0.25),  # stored 1200×1600 turned upright: the long side is what counts
        (800, 8, (600, 800), 0.5),
    ],
)
def test_max_side_draft(max_side, orientation, shape, scale):
    data = big_jpeg(orientation)
    meta = load_image_with_meta(data, max_side=max_side)
    assert_rgb(meta.image, shape)
    assert (meta.width, meta.height, meta.scale) == (BIG_W, BIG_H, scale)
    assert max(meta.image.shape[:2]) >= min(max_side or 0, BIG_W)
    assert np.abs(corners(meta.image).astype(int) - corners(pattern()).astype(int)).max() <= LOSSY


def test_max_side_square_decode_of_turned_jpeg():
    # Stored 800×799, it decodes at 1/8 to 100×100, so only the EXIF tag tells the upright size.
    im = with_orientation(np.zeros((800, 799, 3), np.uint8), 6)
    meta = load_image_with_meta(encode(im, "JPEG", exif=im.getexif().tobytes()), max_side=100)
    assert meta.image.shape == (100, 100, 3)
    assert (meta.width, meta.height) == (799, 800)


@pytest.mark.parametrize("mode", ["RGB", "P", "RGBA", "I;16"])
def test_max_side_other_formats_reduce_by_whole_factors(mode):
    # as a JPEG's draft does: the largest whole factor that keeps the long side >= max_side
    big = Image.fromarray(np.kron(pattern(), np.ones((4, 4, 1), np.uint8)))  # 4 W × 4 H
    im = big.convert("L").convert("I;16") if mode == "I;16" else big.convert(mode)
    meta = load_image_with_meta(encode(im, "PNG"), max_side=W)
    assert (meta.width, meta.height, meta.scale) == (4 * W, 4 * H, 0.25)
    assert meta.image.shape == (H, W, 3)
    if mode in ("RGB", "RGBA"):
        assert np.abs(corners(meta.image).astype(int) - corners(pattern()).astype(int)).max() <= LOSSY
    assert load_image_with_meta(encode(im, "PNG"), max_side=W * 2).image.shape == (2 * H, 2 * W, 3)
    assert load_image_with_meta(encode(im, "PNG"), max_side=W * 3).image.shape == (4 * H, 4 * W, 3)  # 4W // 3W = 1


# --- HEIC --------------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", [1, 6])
def test_heic(tmp_path, orientation):
    pillow_heif = pytest.importorskip(
        "pillow_heif", reason="pillow-heif not installed (pip install 'gesture-audit[heif]')"
    )
    pillow_heif.register_heif_opener()  # only to write the file; load_image registers it on its own
    upright = np.kron(pattern(), np.ones((4, 4, 1), np.uint8))
    im = with_orientation(upright, orientation)
    path = write(tmp_path, "a.heic", encode(im, "HEIF", quality=95, exif=im.getexif().tobytes()))
    meta = load_image_with_meta(path)
    assert (meta.format, meta.width, meta.height) == ("HEIF", W * 4, H * 4)
    assert_rgb(meta.image, (H * 4, W * 4))
    assert np.abs(corners(meta.image).astype(int) - corners(upright).astype(int)).max() <= LOSSY


def test_heic_without_pillow_heif(monkeypatch):
    monkeypatch.setattr(load, "_heif_state", [False])  # as if pillow-heif were not installed
    data = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(64)
    with pytest.raises(ImageLoadError, match=r"pip install 'gesture-audit\[heif\]'") as info:
        load_image(data)
    assert info.value.reason == "unsupported"
