"""The dev set's faces, for benchmarks/faces.py and the tests: where they are (beside the repo, at
../shared/data/dev, never copied in) and who is in each faces/test photo, which labels.jsonl leaves
empty. Not part of the package: `evaluate_faces` takes the mapping from its caller."""

from __future__ import annotations

from pathlib import Path

DEV_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"

# faces/test/<file>: the people in it from left to right (by box centre).
TEST_IDENTITIES = {
    "alex_lacamoire1.jpg": ["alex_lacamoire"],
    "johnsnow_test1.jpg": ["kit_harington"],
    "kit_with_rose.jpg": ["rose_leslie", "kit_harington"],
    "obama1.jpg": ["obama"],
    "obama_and_biden.jpg": ["biden", "obama"],
}
