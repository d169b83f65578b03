"""Evidence images under DIR/evidence/: each reported photo with its hands drawn, and hand crops.

Per photo (named by the first 16 hex digits of its sha256, so copies of one photo share them):
`<id>.thumb.jpg` for the report's card, `<id>.jpg` for the enlarged view, and for flagged and
review photos `<id>.hand<k>.jpg`, an undrawn crop around hand k from the full-size photo, and
`<id>.attr<k>.jpg` around campaign attribute k (printed text, a party symbol, a candidate's picture). For a video, the photo is its
keyframe (the frame at the finding's `video.keyframe` seconds).
Files are written atomically and reused when present, so a resumed scan or a re-render only
draws what is missing. The original photo is checked against the finding's sha256 first: a photo
changed since the scan gets a placeholder, never someone else's drawing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from gesture_audit.i18n import N_
from gesture_audit.load import ImageLoadError, LoadedImage, hash_file, load_image_with_meta, open_regular_file
from gesture_audit.load_video import Sample, open_video
from gesture_audit.results import FaceResult, Finding, HandResult

EVIDENCE = "evidence"
THUMB_SIDE = 480
FULL_SIDE = 1600
CROP_SIDE = 320
ENLARGE_TO = 960  # the enlarged view of a smaller photo is scaled up to this long side
_CROP_DECODE_SIDE = 4096

# MediaPipe's hand topology: thumb, index, middle, ring, pinky, and the palm's edge.
BONES = (
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 4),
    (0, 5),
    (5, 6),
    (6, 7),
    (7, 8),
    (5, 9),
    (9, 10),
    (10, 11),
    (11, 12),
    (9, 13),
    (13, 14),
    (14, 15),
    (15, 16),
    (13, 17),
    (17, 18),
    (18, 19),
    (19, 20),
    (0, 17),
)
PALM_BONES = {(0, 5), (5, 9), (9, 13), (13, 17), (0, 17)}
FINGER_COLOURS = ((255, 196, 0), (0, 200, 255), (120, 230, 80), (255, 120, 200), (180, 140, 255))
VERDICT_COLOURS = {"flag": (229, 57, 53), "review": (251, 140, 0), "clear": (67, 160, 71)}
NEUTRAL = (30, 136, 229)
CANDIDATE = (142, 36, 170)  # a face matching a candidate
FACE = (200, 200, 200)
ATTRIBUTE = (0, 137, 123)  # campaign material (printed text, symbols, pictures)


@dataclass
class Evidence:
    """Relative paths (under DIR) of a photo's evidence files; `missing` says why there are none."""

    thumb: str | None = None
    full: str | None = None
    crops: list[str] = field(default_factory=list)
    missing: str | None = None


def evidence_id(finding: Finding) -> str:
    return (finding.sha256 or hashlib.sha256((finding.path or "").encode()).hexdigest())[:16]


def hand_label(hand: HandResult) -> str:
    """Short text drawn beside a hand: ballot number, sign, confidence."""
    parts = []
    if hand.ballot is not None:
        parts.append(f"#{hand.ballot}")
    parts.append(str(hand.gesture or hand.fingers or "hand"))
    if hand.person is not None:
        parts.append(f"person {hand.person + 1}")
    parts.append(f"{hand.confidence:.2f}")
    return " · ".join(parts)


def hand_colour(finding: Finding, hand: HandResult) -> tuple[int, int, int]:
    if hand.ballot is not None:
        return VERDICT_COLOURS.get(finding.verdict or "", NEUTRAL)
    return NEUTRAL


def face_label(face: FaceResult) -> str | None:
    """Text beside a face: the candidate it matches, if any."""
    if not face.candidate:
        return None
    ballot = f" ({face.ballot:02d})" if face.ballot is not None else ""
    return f"{face.candidate}{ballot}"


def _label(draw: ImageDraw.ImageDraw, image: Image.Image, box, text: str, colour, font, width: int) -> None:
    """A filled label above `box` (below it when there is no room above)."""
    x0, y0, _, y1 = box
    tx0, ty0, tx1, ty1 = draw.textbbox((0, 0), text, font=font)
    th, tw = ty1 - ty0 + 2 * width, tx1 - tx0 + 2 * width
    top = y0 - th if y0 - th >= 0 else min(y1, image.height - th)
    left = min(max(0, x0), max(0, image.width - tw))
    draw.rectangle((left, top, left + tw, top + th), fill=colour)
    draw.text((left + width - tx0, top + width - ty0), text, font=font, fill=(255, 255, 255))


def draw_hands(image: Image.Image, finding: Finding, scale: float, *, small: bool = False) -> Image.Image:
    """`image` (the photo at `scale` × its full size) with every hand's box, skeleton and label,
    and the faces, when the finding has them (candidates named).

    `small`: drawn for a thumbnail, with thicker lines and larger labels so they stay legible.
    """
    image = image.convert("RGB")
    draw = ImageDraw.Draw(image)
    side = max(image.size)
    width = max(2, round(side / (160 if small else 320)))
    font = ImageFont.load_default(size=max(12, round(side / (17 if small else 40))))
    for face in finding.faces or []:
        box = [v * scale for v in face.box]
        text = face_label(face)
        draw.rectangle(box, outline=CANDIDATE if text else FACE, width=width if text else max(1, width // 2))
        if text:
            _label(draw, image, box, text, CANDIDATE, font, width)
    for attribute in finding.attributes or []:
        box = [v * scale for v in attribute["box"]]
        draw.rectangle(box, outline=ATTRIBUTE, width=width)
        number = "" if attribute["ballot"] is None else f"#{attribute['ballot']} "
        _label(draw, image, box, f"{number}{attribute['text']}", ATTRIBUTE, font, width)
    for hand in finding.hands:
        colour = hand_colour(finding, hand)
        x0, y0, x1, y1 = (v * scale for v in hand.box)
        pad = 0.08 * max(x1 - x0, y1 - y0)
        x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=width)
        points = [(p[0] * scale, p[1] * scale) for p in hand.landmarks]
        if len(points) == 21:
            for a, b in BONES:
                palm = (a, b) in PALM_BONES
                draw.line(
                    (points[a], points[b]),
                    width=max(1, width - 1),
                    fill=(255, 255, 255) if palm else FINGER_COLOURS[(b - 1) // 4],
                )
            r = max(1.5, width * 0.9)
            for x, y in points:
                draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255), outline=colour)
        _label(draw, image, (x0, y0, x1, y1), hand_label(hand), colour, font, width)
    return image


def _fit(image: Image.Image, side: int, *, enlarge: bool = False) -> tuple[Image.Image, float]:
    """`image` (RGB) with its long side at most `side` (exactly `side` with `enlarge`), and the factor.

    OpenCV's area (down) and bicubic (up) resampling: on 40 flagged dev scenes the evidence cost
    67.5 -> 46.1 ms of CPU per photo against Pillow's LANCZOS (benchmarks/README.md, "Whole process"),
    a third of a whole scan's CPU time when many photos are listed."""
    import cv2

    factor = side / max(image.size) if enlarge else min(1.0, side / max(image.size))
    if factor != 1.0:
        size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        image = Image.fromarray(
            cv2.resize(np.asarray(image), size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)
        )
    return image, factor


def _save(image: Image.Image, path: Path) -> None:
    # No `optimize` (a second Huffman pass): it took a third of the evidence's JPEG encoding time for
    # files ~3 % smaller (benchmarks/README.md, "Whole process").
    tmp = path.with_name(path.name + ".tmp")
    image.save(tmp, "JPEG", quality=85)
    os.replace(tmp, path)


def _files_for(finding: Finding, with_crops: bool) -> tuple[str, str, list[str]]:
    key = evidence_id(finding)
    crops = [f"{EVIDENCE}/{key}.hand{k + 1}.jpg" for k in range(len(finding.hands))] if with_crops else []
    if with_crops:
        crops += [f"{EVIDENCE}/{key}.attr{k + 1}.jpg" for k in range(len(finding.attributes or []))]
    return f"{EVIDENCE}/{key}.thumb.jpg", f"{EVIDENCE}/{key}.jpg", crops


def write_evidence(out_dir: str | os.PathLike, finding: Finding, source) -> Evidence:
    """Make (or reuse) a photo's evidence files under `out_dir`; never raises for a bad source
    (a Path, an archive Member: anything with read_bytes(), or None when unknown)."""
    out_dir = Path(out_dir)
    with_crops = finding.verdict in ("flag", "review")
    thumb, full, crops = _files_for(finding, with_crops)
    if all((out_dir / rel).is_file() for rel in (thumb, full, *crops)):
        return Evidence(thumb, full, crops)
    if source is None:
        return Evidence(missing=N_("the scan folder is not known (no scan.json)"))
    try:
        if finding.video is not None and isinstance(source, Path):
            # a video may be gigabytes: hashed in chunks and decoded from disk (an archive member
            # is read into memory, as photos are)
            with open_regular_file(source) as fh:
                digest = hash_file(fh)
            data = os.fspath(source)
        else:
            data = source.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
    except FileNotFoundError:
        return Evidence(missing=N_("the photo is no longer where it was scanned"))
    except ImageLoadError as e:  # a video gone, or no longer a regular file
        if isinstance(e.__cause__, FileNotFoundError):
            return Evidence(missing=N_("the photo is no longer where it was scanned"))
        return Evidence(missing=e.message)
    except (OSError, ValueError) as e:  # ValueError: an archive member that cannot be read any more
        return Evidence(missing=N_("the photo cannot be read ({why})", why=str(getattr(e, "strerror", None) or e)))
    if finding.sha256 and digest != finding.sha256:
        return Evidence(missing=N_("the photo has changed since it was scanned"))
    try:
        side = _CROP_DECODE_SIDE if crops else FULL_SIDE
        loaded: LoadedImage | Sample  # both: .image, .scale
        if finding.video is not None:
            clip = open_video(data)
            if clip is None:
                return Evidence(missing="the video cannot be read any more")
            loaded = clip.frame_at(finding.video.get("keyframe") or 0.0, max_side=side)
        else:
            loaded = load_image_with_meta(data, max_side=side)
    except ImageLoadError as e:  # VideoLoadError too
        return Evidence(missing=e.message)
    del data
    (out_dir / EVIDENCE).mkdir(parents=True, exist_ok=True)
    photo = Image.fromarray(loaded.image)
    # Small photos (a 100 px crop) are enlarged before drawing, so that labels stay legible.
    for rel, side in ((full, max(min(FULL_SIDE, max(photo.size)), ENLARGE_TO)), (thumb, THUMB_SIDE)):
        fitted, factor = _fit(photo, side, enlarge=True)
        _save(draw_hands(fitted, finding, loaded.scale * factor, small=rel == thumb), out_dir / rel)
    boxes = [h.box for h in finding.hands] + [a["box"] for a in finding.attributes or []]
    for rel, box in zip(crops, boxes):
        _save(_crop(loaded.image, np.asarray(box, dtype=np.float64) * loaded.scale), out_dir / rel)
    return Evidence(thumb, full, crops)


def _crop(image: np.ndarray, box: np.ndarray) -> Image.Image:
    """A square crop around a hand box with a margin, resized to at most CROP_SIDE."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = max(box[2] - box[0], box[3] - box[1], 8) * 0.75
    h, w = image.shape[:2]
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    crop = Image.fromarray(image[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)])
    return _fit(crop, CROP_SIDE)[0]
