"""Identity metrics on the dev `faces` set: is the right candidate named, and nobody else?

    python -m gesture_audit.identify.eval DEV_ROOT [IDENTITIES.json]

Gallery: `faces/train/<identity>/*` (folder = identity), built the way `gallery add` builds one.
Genuine queries: the faces in `faces/test/`; labels.jsonl leaves their identity empty, so the
caller gives it per file, left to right (`{"photo.jpg": ["left", "right"]}`): the `identities`
argument, else `faces/test/identities.json`. Faces of people not in the gallery:
  * leave-one-out: every dev face (train and test) against the gallery without its own identity;
  * strangers: every face the detector finds in `hagrid/` (people who are not candidates).
Top-1 is closed-set (the nearest candidate is the right one). Per threshold: identification (right
candidate and within the threshold), false reject, wrong candidate, false match (a stranger within
the threshold of any candidate). Needs the `faces` extra; raises FacesUnavailable without it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

IDENTITIES_FILE = "identities.json"  # in faces/test: {file: [the people in it, left to right]}
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.30, 0.751, 0.05))
MAX_FALSE_MATCH = 0.02


def _faces_in(paths: list[Path], detector, embedder, batch: int = 16) -> list[tuple[Path, list, np.ndarray]]:
    """(path, faces left to right, embeddings) for each photo, detected `batch` photos at a time."""
    from gesture_audit.load import load_image

    out = []
    for start in range(0, len(paths), batch):
        chunk = paths[start : start + batch]
        images = [load_image(p) for p in chunk]
        for path, image, found in zip(chunk, images, detector.detect(images)):
            faces = sorted(found, key=lambda f: f.box[0] + f.box[2])
            out.append((path, faces, embedder.embed(image, faces)))
    return out


def read_identities(path: str | Path) -> dict[str, list[str]]:
    """The identities JSON file `path` ({photo file name: [people left to right]}); ValueError if malformed."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"cannot read identities from {path}: {e}") from None
    if not isinstance(data, dict) or not all(
        isinstance(people, list) and all(isinstance(p, str) for p in people) for people in data.values()
    ):
        raise ValueError(f'{path}: expected {{"photo.jpg": ["person left", "person right"], ...}}')
    return data


def _nearest(vectors: np.ndarray, references: np.ndarray, owners: np.ndarray, allowed=None):
    """Index of the nearest identity and the distance to it, per row of `vectors`."""
    d = np.linalg.norm(vectors[:, None] - references[None], axis=-1)
    if allowed is not None:
        d = np.where(allowed[None, :], d, np.inf)
    best = d.argmin(1)
    return owners[best], d[np.arange(len(d)), best]


def evaluate_faces(
    dev_root: str | Path, identities: dict[str, list[str]] | None = None, *, strangers: bool = True
) -> dict:
    """Measure identification on `dev_root/faces` (see the module docstring); `identities` names
    the people in each faces/test photo, left to right (None: read faces/test/identities.json).
    Returns a dict with top1, false_match and identification at the chosen threshold, the reason
    for it, the per-threshold table and the per-face results. Raises FileNotFoundError without the
    data or the identities, ValueError for a malformed identities file."""
    from gesture_audit.detect.faces import FaceDetector
    from gesture_audit.identify.embed import FaceEmbedder

    root = Path(dev_root) / "faces"
    if not (root / "train").is_dir() or not (root / "test").is_dir():
        raise FileNotFoundError(f"no faces/train and faces/test under {dev_root}")
    if identities is None:
        if not (root / "test" / IDENTITIES_FILE).is_file():
            raise FileNotFoundError(
                f"no {IDENTITIES_FILE} in {root / 'test'}: it names the people in each photo there, left to right"
            )
        identities = read_identities(root / "test" / IDENTITIES_FILE)
    detector, embedder = FaceDetector(), FaceEmbedder()

    # Gallery: one embedding per reference photo with exactly one face, as `gallery add` does.
    names = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    reference_list: list[np.ndarray] = []
    owner_list: list[int] = []
    refused: list[str] = []
    train_faces: list[tuple[int, np.ndarray]] = []
    for k, identity in enumerate(names):
        photos = sorted(p for p in (root / "train" / identity).iterdir() if p.is_file())
        for path, faces, vectors in _faces_in(photos, detector, embedder):
            if len(faces) != 1:
                refused.append(f"{path.relative_to(root)}: {len(faces)} faces")
                continue
            reference_list.append(vectors[0])
            owner_list.append(k)
            train_faces.append((k, vectors[0]))
    references, owners = np.array(reference_list), np.array(owner_list)

    # Genuine queries from faces/test, matched to their labels left to right.
    rows: list[dict[str, Any]] = []
    genuine: list[tuple[int, np.ndarray]] = []
    for path, faces, vectors in _faces_in([root / "test" / f for f in identities], detector, embedder):
        truth = identities[path.name]
        if len(faces) != len(truth):  # a miss or an extra face: the labels cannot be paired
            rows += [{"file": path.name, "truth": t, "nearest": None, "distance": None} for t in truth]
            continue
        who, dist = _nearest(vectors, references, owners)
        for t, w, d, v in zip(truth, who, dist, vectors):
            rows.append({"file": path.name, "truth": t, "nearest": names[w], "distance": float(d)})
            genuine.append((names.index(t) if t in names else -1, v))

    # Faces of people not in the gallery: leave-one-identity-out, then strangers.
    impostor_list = [_nearest(v[None], references, owners, owners != k)[1][0] for k, v in train_faces + genuine]
    n_leave_one_out = len(impostor_list)
    n_strangers = 0
    if strangers and (Path(dev_root) / "hagrid").is_dir():
        photos = sorted(p for p in (Path(dev_root) / "hagrid").rglob("*") if p.is_file())
        for _, _faces, vectors in _faces_in(photos, detector, embedder):
            if len(vectors):
                impostor_list += list(_nearest(vectors, references, owners)[1])
                n_strangers += len(vectors)
    impostor = np.array(impostor_list)

    labelled = len(rows)
    right = np.array([r["nearest"] == r["truth"] for r in rows])
    dist = np.array([np.inf if r["distance"] is None else r["distance"] for r in rows])
    table = []
    for t in THRESHOLDS:
        accepted = dist <= t
        table.append(
            {
                "threshold": t,
                "identification": float((right & accepted).sum() / labelled),
                "false_reject": float((right & ~accepted).sum() / labelled),
                "wrong_candidate": float((~right & accepted).sum() / labelled),
                "false_match": float((impostor <= t).mean()) if len(impostor) else 0.0,
            }
        )
    chosen, reason = _choose(table, dist[right], impostor)
    return {
        "gallery": {"identities": len(names), "photos": len(references), "refused": refused},
        "queries": {
            "labelled_faces": labelled,
            "detected": int(np.isfinite(dist).sum()),
            "not_in_gallery": len(impostor),
            "leave_one_out": n_leave_one_out,
            "strangers": n_strangers,
        },
        "top1": float(right.mean()),
        "threshold": chosen["threshold"],
        "identification": chosen["identification"],
        "false_match": chosen["false_match"],
        "reason": reason,
        "genuine_distance_max": float(dist[right].max()) if right.any() else None,
        "impostor_distance_min": float(impostor.min()) if len(impostor) else None,
        "per_threshold": table,
        "faces": rows,
    }


def _choose(table: list[dict], genuine: np.ndarray, impostor: np.ndarray) -> tuple[dict, str]:
    """Best identification with false match ≤ MAX_FALSE_MATCH; among ties the threshold with the
    widest margin to the nearest accepted genuine and the nearest impostor distance."""
    feasible = [r for r in table if r["false_match"] <= MAX_FALSE_MATCH]
    if not feasible:
        best = min(table, key=lambda r: (r["false_match"], -r["identification"]))
        return best, (
            f"no threshold keeps false match ≤ {MAX_FALSE_MATCH}; {best['threshold']} has the "
            f"fewest ({best['false_match']:.3f})"
        )
    top = max(r["identification"] for r in feasible)
    tied = [r for r in feasible if r["identification"] == top]
    far = impostor.min() if len(impostor) else np.inf

    def margin(r):
        inside = genuine[genuine <= r["threshold"]]
        return min(r["threshold"] - (inside.max() if len(inside) else 0.0), far - r["threshold"])

    best = max(tied, key=margin)
    return best, (
        f"highest identification ({top:.2f}) with false match ≤ {MAX_FALSE_MATCH}, reached by "
        f"{', '.join(str(r['threshold']) for r in tied)}; {best['threshold']} leaves the widest "
        f"margin ({margin(best):.3f}) to both the farthest genuine face and the nearest stranger"
    )


def format_face_eval(result: dict) -> str:
    """The result as the text block `gesture-audit eval` prints."""
    g, q = result["gallery"], result["queries"]
    lines = [
        f"faces: gallery {g['identities']} identities / {g['photos']} photos"
        + (f" (refused: {'; '.join(g['refused'])})" if g["refused"] else ""),
        f"  queries: {q['labelled_faces']} labelled faces ({q['detected']} detected); "
        f"{q['not_in_gallery']} faces of people not in the gallery "
        f"({q['leave_one_out']} leave-one-out, {q['strangers']} strangers)",
        f"  top-1 identification: {result['top1']:.3f}",
        "  threshold  identified  false-reject  wrong  false-match",
    ]
    for r in result["per_threshold"]:
        mark = "  <-" if r["threshold"] == result["threshold"] else ""
        lines.append(
            f"  {r['threshold']:9.2f}  {r['identification']:10.3f}  {r['false_reject']:12.3f}  "
            f"{r['wrong_candidate']:5.3f}  {r['false_match']:11.3f}{mark}"
        )
    lines += [
        f"  chosen threshold {result['threshold']}: identification {result['identification']:.3f}, "
        f"false match {result['false_match']:.3f}",
        f"  reason: {result['reason']}",
        f"  farthest genuine face {_fmt(result['genuine_distance_max'])}, "
        f"nearest face not in the gallery {_fmt(result['impostor_distance_min'])}",
    ]
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not 1 <= len(argv) <= 2:
        print("usage: python -m gesture_audit.identify.eval DEV_ROOT [IDENTITIES.json]", file=sys.stderr)
        return 2
    try:
        identities = read_identities(argv[1]) if len(argv) > 1 else None
        print(format_face_eval(evaluate_faces(argv[0], identities)))
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
