"""Faces in a photo matched against the candidate gallery.

`match_faces(image, faces, gallery)` -> one `FaceMatch` per face, in the order given. A face is a
candidate when the Euclidean distance between its embedding and that candidate's nearest reference
photo is at most `MATCH_THRESHOLD`.

Both come from `python -m benchmarks.faces` (benchmarks/README.md, "Candidate matching"): with 3
reference photos per candidate, 144 genuine queries (the 16 dev faces of 5 people, each held out
with its photo, in 9 variants) and 504 faces of people not in the gallery (leave-one-identity-out
plus every face in the other dev sets), the nearest reference, the mean of the two nearest and
the centroid all identify every genuine query with no false match; the nearest keeps the widest
margin at 0.5 (genuine faces ≤ 0.460, strangers ≥ 0.539), tied with the centroid at 0.475, so the
simplest rule stays. dlib's own documented threshold, 0.6, lets 9 % of those strangers through, so
distances in (MATCH_THRESHOLD, REVIEW_DISTANCE] are "near": worth a human look, not a match.

A face that is not matched says why (`FaceMatch.unmatched`): "too small" when it is narrower than
`MIN_FACE` pixels (dlib's descriptor drifts on tiny faces: the genuine dev faces downscaled to 14-104
px all matched their candidate from 36 px up; the widest that did not was 35.5 px, and under 25 px
almost none did; `python -m benchmarks.faces`), "below threshold" otherwise, "matching off" without
a gallery or the `faces` extra.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gesture_audit.detect.faces import Face
from gesture_audit.identify.embed import FaceEmbedder, shared_embedder
from gesture_audit.identify.gallery import Gallery

MATCH_THRESHOLD = 0.5
REVIEW_DISTANCE = 0.6
RULE = "nearest"
MIN_FACE = 40  # px wide: below this a candidate's own face may fall past the threshold


@dataclass
class FaceMatch:
    """A face and who it is. `candidate`/`ballot` are set only for a match; `nearest` and `distance`
    name the closest candidate whatever the distance (None without a gallery or the `faces` extra)."""

    box: np.ndarray  # (4,) x0, y0, x1, y1 image pixels
    score: float  # face-detector confidence
    candidate: str | None
    ballot: int | None
    distance: float | None
    nearest: str | None

    def __post_init__(self) -> None:
        self.box = np.asarray(self.box, dtype=np.float32).reshape(4)

    @property
    def near(self) -> bool:
        """Not a match, but close enough to the nearest candidate to be worth a review."""
        return self.candidate is None and self.distance is not None and self.distance <= REVIEW_DISTANCE

    @property
    def unmatched(self) -> str | None:
        """Why this face is no candidate: "too small", "below threshold", "matching off"; None for a match."""
        if self.candidate is not None:
            return None
        if self.distance is None:
            return "matching off"
        return "too small" if self.box[2] - self.box[0] < MIN_FACE else "below threshold"

    def to_dict(self) -> dict:
        return {
            "box": [round(float(v), 1) for v in self.box],
            "score": round(self.score, 4),
            "candidate": self.candidate,
            "ballot": self.ballot,
            "distance": None if self.distance is None else round(self.distance, 4),
            "nearest": self.nearest,
            "unmatched": self.unmatched,
        }


def match_faces(
    image: np.ndarray,
    faces: list[Face],
    gallery: Gallery | None,
    *,
    threshold: float = MATCH_THRESHOLD,
    embedder: FaceEmbedder | None = None,
) -> list[FaceMatch]:
    """Match `faces` (from `FaceDetector.detect` on `image`, RGB uint8) against `gallery`.

    Never raises for a missing extra: without dlib every face comes back unmatched with
    distance None, and a warning says once per process that matching is off.
    """
    unmatched = [FaceMatch(f.box, f.score, None, None, None, None) for f in faces]
    if not faces or gallery is None or not len(gallery):
        return unmatched
    embedder = embedder or shared_embedder()
    if embedder is None:
        return unmatched
    references, owners = gallery.embeddings()
    if not len(references):
        return unmatched
    distances = candidate_distances(embedder.embed(image, faces), references, owners, len(gallery))
    matches = []
    for face, row in zip(faces, distances):
        best = int(np.argmin(row))
        candidate = gallery.candidates[best]
        hit = row[best] <= threshold
        matches.append(
            FaceMatch(
                face.box,
                face.score,
                candidate.name if hit else None,
                candidate.ballot if hit else None,
                float(row[best]),
                candidate.name,
            )
        )
    return matches


def candidate_distances(
    queries: np.ndarray, references: np.ndarray, owners: np.ndarray, candidates: int, rule: str = RULE
) -> np.ndarray:
    """(n, candidates) distance of each query (n, 128) to each candidate, from the reference
    embeddings (m, 128) and their owners (m,): "nearest" reference photo, "mean2" (mean of the
    two nearest; the nearest where there is one), or "centroid" (distance to the mean reference).
    A candidate without references is infinitely far."""
    out = np.full((len(queries), candidates), np.inf, np.float32)
    for c in range(candidates):
        mine = references[owners == c]
        if not len(mine):
            continue
        if rule == "centroid":
            out[:, c] = np.linalg.norm(queries - mine.mean(0), axis=-1)
            continue
        d = np.sort(np.linalg.norm(queries[:, None] - mine[None], axis=-1), axis=1)
        out[:, c] = d[:, 0] if rule == "nearest" else d[:, :2].mean(1)
    return out
