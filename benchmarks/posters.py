"""Printed faces: how often a real person's face in the dev photos is taken for a printed picture.

    python -m benchmarks.posters

Every dev photo (labels.jsonl, and faces/test/), the default face detector, then
`gesture_audit.detect.posters.printed_faces` on its faces: all of them are people in the photo, so
every face called printed is a mistake (a candidate there would be reported as their picture, not
as posing with a candidate). Writes benchmarks/results/posters-<date>-<machine>.json.
"""

from __future__ import annotations

import json
from datetime import date

from benchmarks import machine, write_results
from benchmarks.attributes import DEV


def main() -> None:
    from gesture_audit.detect import posters
    from gesture_audit.detect.faces import FaceDetector
    from gesture_audit.load import load_image

    if not (DEV / "labels.jsonl").is_file():
        raise SystemExit(f"dev photos not found at {DEV}")
    rows = [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines() if line.strip()]
    paths = [DEV / r["path"] for r in rows] + sorted((DEV / "faces" / "test").iterdir())
    detector = FaceDetector(threads=1)
    photos = faces = printed = 0
    mistaken, group_faces, group_printed = [], 0, 0
    for path in paths:
        image = load_image(path)
        found = detector.detect([image])[0]
        if not found:
            continue
        flags = posters.printed_faces(image, [f.box for f in found])
        photos, faces, printed = photos + 1, faces + len(found), printed + sum(flags)
        if len(found) > 1:
            group_faces, group_printed = group_faces + len(found), group_printed + sum(flags)
        if any(flags):
            mistaken.append({"path": str(path.relative_to(DEV)), "faces": len(found), "printed": sum(flags)})
    summary = {
        "photos_with_faces": photos,
        "faces": faces,
        "printed": printed,
        "printed_rate": round(printed / max(1, faces), 4),
        "faces_in_photos_with_several": group_faces,
        "printed_among_them": group_printed,
    }
    record = {
        "date": date.today().isoformat(),
        **machine(),
        "larger": posters.LARGER,
        "body": posters.BODY,
        "frame_area": posters.FRAME_AREA,
        "summary": summary,
        "mistaken": mistaken,
    }
    out = write_results("posters", record)
    print(json.dumps(summary, indent=1))
    print("wrote", out)


if __name__ == "__main__":
    main()
