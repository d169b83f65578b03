"""Shared fixtures: the dev photos beside the repo (skipped when absent) and one engine per run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "data" / "dev"


@pytest.fixture(scope="session")
def dev_root() -> Path:
    if not (DEV / "labels.jsonl").is_file():
        pytest.skip(f"dev photos not found at {DEV} (../shared/data/dev beside the repo)")
    return DEV


@pytest.fixture(scope="session")
def dev_labels(dev_root) -> list[dict]:
    return [json.loads(line) for line in (dev_root / "labels.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def engine():
    from gesture_audit.detect.engine import Engine

    return Engine()


@pytest.fixture(scope="session")
def mediapipe_hands():
    pytest.importorskip("mediapipe", reason="the MediaPipe reference backend needs gesture-audit[reference]")
    from gesture_audit.detect.reference import MediaPipeHands

    return MediaPipeHands()
