"""Starting the real service in a subprocess, and comparing what it answers with the Python API."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from gesture_audit.results import Finding

MAX_BYTES = 2_000_000  # the dev photos are at most about 1.1 MB
MAX_BATCH = 16
# The dev photos the comparisons use: a V sign, thumbs up, three fingers, a street, a fist.
DEV_PHOTOS = [
    "hagrid/peace/peace_00004.jpg",
    "mediapipe/hand_thumb_up.jpg",
    "hagrid/three/three_00001.jpg",
    "negatives/bus.jpg",
    "hagrid/fist/fist_00003.jpg",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running `gesture-audit serve` and what a test needs to talk to it."""

    process: subprocess.Popen
    url: str
    log: Path
    token: str | None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=120, **kwargs)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: uvicorn drains requests and exits 0
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(folder: Path, *args: str, token: str | None = None, timeout: float = 180) -> Server:
    """Start the service with `args`, wait until /readyz says the models are loaded."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "gesture_audit", "serve", "--host", "127.0.0.1", *args]
    if token:
        token_file = folder / "tokens"
        token_file.write_text(f"# rotated monthly\n{secrets.token_urlsafe(16)}\n\n{token}\n")
        command += ["--token-file", str(token_file)]
    port = free_port()
    log = folder / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    server = Server(process, f"http://127.0.0.1:{port}", log, token)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{server.log_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"the server was not ready after {timeout} s:\n{server.log_text()[-3000:]}")


def assert_same(got: dict, want: Finding, path: str | None = None, tol: float = 0.5) -> None:
    """The service's finding equals the Python API's: identical but for the batch's float noise
    (boxes and landmarks within `tol` pixels, as between `check` and `check_many`)."""
    want = want.to_dict()
    want["path"] = path
    assert set(got) == set(want)
    for key in ("path", "sha256", "status", "error", "width", "height", "verdict", "reasons"):
        assert got[key] == want[key], (key, got[key], want[key])
    if want["risk"] is None:
        assert got["risk"] is None
    else:
        assert got["risk"] == pytest.approx(want["risk"], abs=1e-3)
    assert len(got["hands"]) == len(want["hands"])
    for a, b in zip(got["hands"], want["hands"]):
        assert set(a) == set(b)
        assert (a["fingers"], a["count"], a["gesture"], a["ballot"]) == (
            b["fingers"],
            b["count"],
            b["gesture"],
            b["ballot"],
        )
        assert np.allclose(a["box"], b["box"], atol=tol) and np.allclose(a["landmarks"], b["landmarks"], atol=tol)


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text page (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    sample = f"{name}{{{want}}}" if want else name
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def read_head(sock: socket.socket) -> bytes:
    """What a raw socket receives up to the end of the answer's headers (or until it closes)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer
