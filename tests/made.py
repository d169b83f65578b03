"""Test inputs made in memory, shared by the tests that need them (never files of the repository)."""

from __future__ import annotations

import hashlib
import io
import struct

from PIL import Image

from gesture_audit.results import Finding


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


def hand_row(ballot: int | None = 2, **fields) -> dict:
    """A findings.jsonl hand object: a right hand showing a V sign (fingers 01100, count 2) read as
    `ballot`; `fields` replace or add keys (box, landmarks, person, ...)."""
    return {
        "box": [0, 0, 1, 1],
        "score": 0.9,
        "handedness": "right",
        "landmarks": [[0, 0, 0]] * 21,
        "fingers": "01100",
        "count": 2,
        "gesture": "v",
        "ballot": ballot,
        "confidence": 0.9,
        **fields,
    }


def finding(path: str, verdict: str = "clear", risk: float = 0.0, **fields) -> Finding:
    """A checked photo's row: a 10 x 10 photo whose sha256 is that of its path; `fields` are the
    rest of the Finding (reasons, hands, faces, post, ...)."""
    sha256 = hashlib.sha256(path.encode()).hexdigest()
    return Finding(path=path, sha256=sha256, width=10, height=10, verdict=verdict, risk=risk, **fields)
