"""The real service, started as `python -m gesture_audit serve` on a free loopback port, once per session."""

from __future__ import annotations

import io
import secrets
import signal

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the service needs gesture-audit[serve]")
pytest.importorskip("httpx", reason="the service tests need httpx (gesture-audit[serve])")

from serve_harness import DEV_PHOTOS, MAX_BATCH, MAX_BYTES, Server, start_server  # noqa: E402

from gesture_audit.audit import Auditor  # noqa: E402


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    """The service with bearer tokens, a 2 MB photo limit and batches of up to 16."""
    running = start_server(
        tmp_path_factory.mktemp("serve"),
        "--max-bytes",
        str(MAX_BYTES),
        "--max-batch",
        str(MAX_BATCH),
        "--batch-wait-ms",
        "10",
        token=secrets.token_urlsafe(24),
    )
    yield running
    # uvicorn answers the requests in flight, then dies by the SIGTERM it was sent
    assert running.stop() == -signal.SIGTERM, running.log_text()[-3000:]
    assert "Application shutdown complete" in running.log_text()


@pytest.fixture(scope="session")
def auditor() -> Auditor:
    """The Python API in this process: what the service must answer."""
    return Auditor()


@pytest.fixture(scope="session")
def made_photos() -> dict[str, bytes]:
    """Photos made here, so the comparisons run without the dev set: rendered hands and a blank PNG."""
    from PIL import Image

    from gesture_audit.synth import render_hand

    photos = {
        f"{gesture}.jpg": render_hand(gesture=gesture, rng=np.random.default_rng(seed)).jpeg
        for seed, gesture in enumerate(["v", "three", "one", "five"])
    }
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 190, 180)).save(buf, "PNG")
    photos["blank.png"] = buf.getvalue()
    return photos


@pytest.fixture(scope="session")
def dev_photos(dev_root) -> dict[str, bytes]:
    return {name: (dev_root / name).read_bytes() for name in DEV_PHOTOS}
