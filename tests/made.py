"""Test inputs made in memory, shared by the tests that need them (never files of the repository)."""

from __future__ import annotations

import io
import struct

from PIL import Image


def fake_size_jpeg(width: int, height: int) -> bytes:
    """A small, whole JPEG whose header claims `width` × `height` (the rest would decode as grey)."""
    buf = io.BytesIO()
    Image.new("RGB", (70, 90), (200, 100, 50)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def strip_png(width: int, height: int) -> bytes:
    """A one-colour PNG of `width` × `height` (a thin strip compresses to almost nothing)."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (120, 110, 100)).save(buf, "PNG", optimize=True)
    return buf.getvalue()
