"""Candidate matching on the dev faces: the per-threshold table and how small a face may be.

    python -m benchmarks.faces     (it embeds every face in the dev set: 17 min on the shared, overloaded 2-core VM)

1. `gesture_audit.identify.eval.evaluate_faces`: the gallery from faces/train (every reference photo
   of each identity, 1-2 here), genuine queries from faces/test, impostors leave-one-identity-out
   plus every face in hagrid/; identification and false match per threshold.
2. Face size: each genuine test photo downscaled so its faces are 16-96 px wide, matched again
   against the same gallery: the distance to the right candidate per width (where `MIN_FACE` in
   `identify/match.py` comes from).
3. Three reference photos per candidate (`three_references`), see its docstring: which decision rule
   (nearest reference, mean of the two nearest, centroid) and which threshold, per threshold.
Writes benchmarks/results/faces-<date>-<machine>.json.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import cv2
import numpy as np

from benchmarks import machine, write_results
from benchmarks.dev_faces import DEV_ROOT, TEST_IDENTITIES
from gesture_audit.identify.eval import MAX_FALSE_MATCH, evaluate_faces

WIDTHS = (16, 24, 32, 40, 48, 64, 96)
REFERENCES = 3
RULES = ("nearest", "mean2", "centroid")
THRESHOLDS = tuple(round(t, 3) for t in np.arange(0.30, 0.7001, 0.025))
# Sets whose faces are nobody in the gallery (the dev set's other photos).
STRANGER_SETS = ("hagrid", "subhih", "epsrc", "mediapipe", "asl_digits", "negatives")
# Each labelled face, cut out with its surroundings, becomes 9 queries: as shot and 8 variants.
# A variant's face is found again by the detector; one that is lost counts as not identified.
VARIANTS = ("as shot", "mirrored", "dark", "bright", "jpeg 30", "blurred", "turned +12", "turned -12", "56 px")
FILL = ("mirrored", "bright", "dark")  # variants that stand in for a missing 2nd/3rd reference photo


def _variant(crop: np.ndarray, name: str, width: float) -> np.ndarray:
    """`crop` (the face at its centre, `width` px wide) as `name` in VARIANTS says."""
    if name == "mirrored":
        return crop[:, ::-1].copy()
    if name in ("dark", "bright"):
        gamma = 1.8 if name == "dark" else 0.55
        return (255 * (crop / 255.0) ** gamma).astype(np.uint8)
    if name == "jpeg 30":
        _, data = cv2.imencode(".jpg", crop[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 30])
        return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1].copy()
    if name == "blurred":
        return cv2.GaussianBlur(crop, (0, 0), max(1.0, width / 80))
    if name.startswith("turned"):
        h, w = crop.shape[:2]
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), float(name.split()[1]), 1.0)
        return cv2.warpAffine(crop, turn, (w, h), borderMode=cv2.BORDER_REFLECT)
    if name == "56 px" and width > 56:
        return cv2.resize(crop, None, fx=56 / width, fy=56 / width, interpolation=cv2.INTER_AREA)
    return crop


def _labelled_faces(root: Path, detector, embedder) -> dict:
    """{(photo, identity): {variant: embedding or None}} for every labelled dev face."""
    from gesture_audit.load import load_image

    photos = [(p, [p.parent.name]) for p in sorted((root / "train").glob("*/*")) if p.is_file()]
    photos += [(root / "test" / name, people) for name, people in TEST_IDENTITIES.items()]
    out = {}
    for path, people in photos:
        image = load_image(path)
        faces = sorted(detector.detect([image])[0], key=lambda f: f.box[0] + f.box[2])
        if len(faces) != len(people):
            continue
        for face, person in zip(faces, people):
            centre, width = (face.box[:2] + face.box[2:]) / 2, float(face.box[2] - face.box[0])
            x0, y0 = np.maximum(0, centre - 1.5 * width).astype(int)
            x1, y1 = (centre + 1.5 * width).astype(int)
            crop = np.ascontiguousarray(image[y0:y1, x0:x1])
            found = {}
            for name in VARIANTS:
                shown = _variant(crop, name, width)
                seen = detector.detect([shown])[0]
                mid = np.array(shown.shape[1::-1]) / 2
                best = min(seen, key=lambda f: np.abs((f.box[:2] + f.box[2:]) / 2 - mid).sum(), default=None)
                found[name] = None if best is None else embedder.embed(shown, [best])[0]
            out[(str(path.relative_to(root)), person)] = found
    return out


def _stranger_faces(dev: Path, detector, embedder) -> tuple[np.ndarray, dict]:
    from gesture_audit.identify.eval import _faces_in

    vectors, counts = [], {}
    for name in STRANGER_SETS:
        photos = sorted(p for p in (dev / name).rglob("*") if p.is_file())
        found = [v for _, _, v in _faces_in(photos, detector, embedder) if len(v)]
        counts[name] = {"photos": len(photos), "faces": int(sum(len(v) for v in found))}
        vectors += found
    return np.concatenate(vectors), counts


def _gallery(faces: dict, identities: list[str], leave_out: str | None = None, references: int = REFERENCES):
    """References (m, 128) and owners (m,): per identity its photos other than `leave_out` as shot,
    then FILL variants of them, up to `references`."""
    vectors, owners = [], []
    for k, person in enumerate(identities):
        mine = [v for (photo, who), v in sorted(faces.items()) if who == person and photo != leave_out]
        chosen = [v["as shot"] for v in mine if v["as shot"] is not None][:references]
        chosen += [v[f] for f in FILL for v in mine if v[f] is not None][: references - len(chosen)]
        vectors += chosen
        owners += [k] * len(chosen)
    return np.array(vectors), np.array(owners)


def three_references(dev: Path) -> dict:
    """Identification and false match with 3 reference photos per candidate, per rule and threshold.

    The 5 dev identities (alex_lacamoire, biden, kit_harington, obama, rose_leslie) have 2-4 photos
    each (faces/train plus the faces in faces/test). Each photo in turn is held out: the gallery is
    every identity's other photos (3 per candidate: distinct photos where there are 3, else FILL
    variants of them; alex_lacamoire has 1 other photo, biden and rose_leslie 2) and the queries are
    the held-out photo's faces in the 9 VARIANTS. Faces of people not in the gallery: every labelled
    face variant against the gallery of all photos without its own identity, and every face the
    detector finds in STRANGER_SETS against the gallery of all photos.
    """
    from gesture_audit.detect.faces import FaceDetector
    from gesture_audit.identify.embed import FaceEmbedder
    from gesture_audit.identify.eval import _choose
    from gesture_audit.identify.match import candidate_distances

    detector, embedder = FaceDetector(), FaceEmbedder()
    faces = _labelled_faces(dev / "faces", detector, embedder)
    identities = sorted({who for _, who in faces})
    strangers, stranger_counts = _stranger_faces(dev, detector, embedder)

    result = {
        "identities": identities,
        "photos": {p: sorted(w for q, w in faces if q == p) for p in sorted({q for q, _ in faces})},
        "variants": list(VARIANTS),
        "strangers": stranger_counts,
        "rules": {},
    }
    for rule, references in [(r, REFERENCES) for r in RULES] + [("nearest", 1)]:
        genuine_right, genuine_dist, impostor = [], [], []
        for photo in result["photos"]:
            refs, owners = _gallery(faces, identities, leave_out=photo, references=references)
            for (p, who), found in faces.items():
                if p != photo:
                    continue
                for vector in found.values():
                    if vector is None:  # the detector lost this variant: not identified
                        genuine_right.append(False)
                        genuine_dist.append(np.inf)
                        continue
                    d = candidate_distances(vector[None], refs, owners, len(identities), rule)[0]
                    genuine_right.append(identities[int(d.argmin())] == who)
                    genuine_dist.append(float(d.min()))
        refs, owners = _gallery(faces, identities, references=references)
        for (_, who), found in faces.items():
            others = owners != identities.index(who)
            vectors = np.array([v for v in found.values() if v is not None])
            impostor += list(candidate_distances(vectors, refs[others], owners[others], len(identities), rule).min(1))
        n_leave_one_out = len(impostor)
        impostor += list(candidate_distances(strangers, refs, owners, len(identities), rule).min(1))
        right, dist, impostor = np.array(genuine_right), np.array(genuine_dist), np.array(impostor)
        table = [
            {
                "threshold": t,
                "identification": float((right & (dist <= t)).mean()),
                "wrong_candidate": float((~right & (dist <= t)).mean()),
                "false_match": float((impostor <= t).mean()),
            }
            for t in THRESHOLDS
        ]
        chosen, reason = _choose(table, dist[right], impostor)
        result["rules"][f"{rule}, {references} reference{'s' * (references > 1)}"] = {
            "rule": rule,
            "references": references,
            "genuine_queries": len(right),
            "lost_by_detector": int(np.isinf(dist).sum()),
            "top1": float(right.mean()),
            "impostors": len(impostor),
            "leave_one_out": n_leave_one_out,
            "strangers": len(strangers),
            "threshold": chosen["threshold"],
            "identification": chosen["identification"],
            "false_match": chosen["false_match"],
            "reason": reason,
            "genuine_distance_max": float(dist[right & np.isfinite(dist)].max()),
            "impostor_distance_min": float(impostor.min()),
            "per_threshold": table,
        }
    return result


def face_sizes(root: Path) -> list[dict]:
    from gesture_audit.detect.faces import FaceDetector
    from gesture_audit.identify.embed import FaceEmbedder
    from gesture_audit.identify.gallery import Gallery, reference_photos
    from gesture_audit.identify.match import match_faces
    from gesture_audit.load import load_image

    detector, embedder, gallery = FaceDetector(), FaceEmbedder(), Gallery()
    for folder in sorted(p for p in (root / "train").iterdir() if p.is_dir()):
        gallery.add(folder.name, reference_photos(sorted(folder.iterdir()), detector=detector, embedder=embedder))
    rows = []
    for name, people in TEST_IDENTITIES.items():
        image = load_image(root / "test" / name)
        faces = detector.detect([image])[0]
        width = float(np.mean([f.box[2] - f.box[0] for f in faces]))
        for target in WIDTHS:
            if target >= width:
                continue
            small = cv2.resize(image, None, fx=target / width, fy=target / width, interpolation=cv2.INTER_AREA)
            found = sorted(detector.detect([small])[0], key=lambda f: f.box[0] + f.box[2])
            for match in match_faces(small, found, gallery, embedder=embedder):
                rows.append(
                    {
                        "photo": name,
                        "target_width": target,
                        "width": round(float(match.box[2] - match.box[0]), 1),
                        "nearest": match.nearest,
                        "distance": round(match.distance, 4),
                        "matched": match.candidate is not None,
                        "people": people,
                    }
                )
    return rows


def main() -> None:
    root = DEV_ROOT / "faces"
    if not root.is_dir():
        raise SystemExit(f"dev faces not found at {root}")
    result = evaluate_faces(DEV_ROOT, TEST_IDENTITIES)
    result.pop("faces")
    sizes = face_sizes(root)
    three = three_references(DEV_ROOT)
    record = {
        "date": date.today().isoformat(),
        **machine(),
        "identification": result,
        "face_sizes": sizes,
        "three_references": three,
    }
    out = write_results("faces", record)
    print("threshold  identified  false-match")
    for r in result["per_threshold"]:
        print(f"{r['threshold']:9.2f}  {r['identification']:10.3f}  {r['false_match']:11.3f}")
    for target in WIDTHS:
        at = [r for r in sizes if r["target_width"] == target]
        if at:
            print(
                f"faces ~{target:3d} px: {sum(r['matched'] for r in at)}/{len(at)} matched their candidate, "
                f"max distance {max(r['distance'] for r in at):.3f}"
            )
    for name, r in three["rules"].items():
        print(
            f"{name}: {r['genuine_queries']} genuine queries, {r['impostors']} faces not in the gallery; "
            f"threshold {r['threshold']}: identification {r['identification']:.3f}, "
            f"false match {r['false_match']:.3f} (needs <= {MAX_FALSE_MATCH})"
        )
    print("wrote", out)


if __name__ == "__main__":
    main()
