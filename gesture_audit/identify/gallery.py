"""The candidate gallery: who the auditors look for, as face embeddings from reference photos.

A small versioned JSON file:

    {"format": "gesture-audit-gallery", "version": 1, "embedding": MODEL,
     "candidates": [{"name": ..., "ballot": 2 | null,
                     "photos": [{"file": ..., "sha256": ..., "embedding": BASE64}]}]}

An embedding is 128 little-endian float32 in base64: exact, and one line per photo.

Several photos per candidate (each compared on its own: a query's distance to a candidate is the
distance to that candidate's nearest photo). Reference photos must show exactly one face.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gesture_audit.identify.embed import DIMENSIONS, MODEL

FORMAT = "gesture-audit-gallery"
VERSION = 1


class GalleryError(ValueError):
    """A gallery file is unreadable or of another version, or a change to it is refused."""


@dataclass
class Photo:
    """One reference photo: where it came from and its face embedding."""

    file: str  # the name it was added under (for people; the hash identifies it)
    sha256: str  # of the photo's bytes
    embedding: np.ndarray  # (128,)

    def __post_init__(self) -> None:
        self.embedding = np.asarray(self.embedding, np.float32).reshape(DIMENSIONS)


@dataclass
class Candidate:
    name: str
    ballot: int | None
    photos: list[Photo] = field(default_factory=list)


@dataclass
class Gallery:
    """Candidates with their reference embeddings; `load`/`save` read and write the JSON file."""

    candidates: list[Candidate] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.candidates)

    def get(self, name: str) -> Candidate | None:
        return next((c for c in self.candidates if c.name == name), None)

    def add(self, name: str, photos: list[Photo], ballot: int | None = None) -> Candidate:
        """Add photos to a candidate, creating it if new. Raises GalleryError when a photo is
        already in the gallery under another candidate, or `ballot` contradicts the stored one.
        Photos already stored for this candidate are skipped."""
        if not name.strip():
            raise GalleryError("a candidate needs a name")
        owners = {p.sha256: c.name for c in self.candidates for p in c.photos}
        for photo in photos:
            if owners.get(photo.sha256, name) != name:
                raise GalleryError(f"{photo.file} is already in the gallery as {owners[photo.sha256]!r}")
        candidate = self.get(name)
        if candidate is None:
            candidate = Candidate(name, ballot)
            self.candidates.append(candidate)
        elif ballot is not None and candidate.ballot not in (None, ballot):
            raise GalleryError(
                f"{name!r} has ballot {candidate.ballot}, not {ballot}: remove it first to change the number"
            )
        elif ballot is not None:
            candidate.ballot = ballot
        stored = {p.sha256 for p in candidate.photos}
        candidate.photos.extend(p for p in photos if p.sha256 not in stored)
        return candidate

    def remove(self, name: str) -> Candidate:
        """Remove a candidate and all their photos; raises GalleryError if there is none."""
        candidate = self.get(name)
        if candidate is None:
            raise GalleryError(f"no candidate named {name!r} in the gallery")
        self.candidates.remove(candidate)
        return candidate

    def embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """All photo embeddings (m, 128) and, for each, the index of its candidate (m,)."""
        rows = [(i, p.embedding) for i, c in enumerate(self.candidates) for p in c.photos]
        if not rows:
            return np.empty((0, DIMENSIONS), np.float32), np.empty(0, np.int64)
        owners, vectors = zip(*rows)
        return np.stack(vectors), np.array(owners, np.int64)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "embedding": MODEL,
            "candidates": [
                {
                    "name": c.name,
                    "ballot": c.ballot,
                    "photos": [
                        {"file": p.file, "sha256": p.sha256, "embedding": _encode(p.embedding)} for p in c.photos
                    ],
                }
                for c in self.candidates
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Gallery:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise GalleryError("not a gesture-audit gallery")
        if data.get("version") != VERSION:
            raise GalleryError(f"gallery version {data.get('version')} is not supported (this is {VERSION})")
        if data.get("embedding") != MODEL:
            raise GalleryError(
                f"gallery embeddings come from {data.get('embedding')!r}, not {MODEL!r}: add the photos again"
            )
        try:
            return cls(
                [
                    Candidate(
                        c["name"],
                        c["ballot"],
                        [Photo(p["file"], p["sha256"], _decode(p["embedding"])) for p in c["photos"]],
                    )
                    for c in data["candidates"]
                ]
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise GalleryError(f"damaged gallery: {exc}") from exc

    @classmethod
    def load(cls, path: str | os.PathLike) -> Gallery:
        """Read a gallery file; raises GalleryError naming the file when it cannot be used."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise GalleryError(f"{path}: cannot read the gallery ({exc})") from exc
        except GalleryError as exc:
            raise GalleryError(f"{path}: {exc}") from exc

    def save(self, path: str | os.PathLike) -> None:
        """Write the gallery atomically (a crash leaves the old file, never half a new one)."""
        write_json_atomically(path, self.to_dict())


def write_json_atomically(path: str | os.PathLike, data: dict) -> None:
    """`data` as JSON at `path` through a temporary file and a rename: a crash leaves the old file,
    never half a new one (the face gallery and the symbols file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def _encode(embedding: np.ndarray) -> str:
    return base64.b64encode(embedding.astype("<f4").tobytes()).decode("ascii")


def _decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text, validate=True), "<f4")


def photo_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def reference_photos(sources: Sequence[str | os.PathLike], *, detector=None, embedder=None) -> list[Photo]:
    """Embed reference photos that each show exactly one face.

    Raises GalleryError listing every photo refused (unreadable, no face, several faces), so that
    nothing is added when any is wrong; FacesUnavailable without the `faces` extra.
    """
    from gesture_audit.detect.faces import FaceDetector
    from gesture_audit.identify.embed import FaceEmbedder
    from gesture_audit.load import ImageLoadError, load_image

    embedder = embedder or FaceEmbedder()  # first: without the extra, fail before any work
    detector = detector or FaceDetector()
    photos, problems = [], []
    for source in sources:
        name = os.fspath(source)
        try:
            data = Path(source).read_bytes()
            image = load_image(data)
        except (OSError, ImageLoadError) as exc:
            problems.append(f"{name}: {getattr(exc, 'message', exc)}")
            continue
        faces = detector.detect([image])[0]
        if len(faces) != 1:
            problems.append(
                f"{name}: {'no face' if not faces else f'{len(faces)} faces'} found; "
                "a reference photo must show exactly one face"
            )
            continue
        photos.append(Photo(Path(name).name, photo_sha256(data), embedder.embed(image, faces)[0]))
    if problems:
        raise GalleryError("refused:\n  " + "\n  ".join(problems))
    return photos
