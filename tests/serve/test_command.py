"""`gesture-audit serve` refuses unusable settings before it listens, and stops when it cannot load."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from serve_harness import free_port, start_server


def serve(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gesture_audit", "serve", "--port", str(free_port()), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    "args, words",
    [
        (["--token-file", "/nonexistent/tokens"], "No such file"),
        (["--election", "pemilu-3000"], "no election file"),
        (["--max-batch", "0"], "--max-batch"),
        (["--max-bytes", "-5"], "--max-bytes"),
        (["--gallery", "/nonexistent/candidates.json"], "cannot read the gallery"),
    ],
)
def test_usage_errors_exit_2(args, words):
    result = serve(*args)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr


def test_empty_token_file_exit_2(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("# to be filled in\n")
    result = serve("--token-file", str(tokens))
    assert result.returncode == 2 and "no token" in result.stderr


def test_models_that_cannot_load_exit_1(tmp_path):
    result = serve(env={"GESTURE_AUDIT_MODELS": str(tmp_path)})  # a models folder without the models
    assert result.returncode == 1, result.stderr
    assert "cannot serve" in result.stderr and "manifest.json" in result.stderr


def test_service_with_a_candidate_gallery(tmp_path, candidate_gallery, dev_faces):
    running = start_server(tmp_path, "--gallery", str(candidate_gallery))
    try:
        photo = (dev_faces / "test" / "kit_with_rose.jpg").read_bytes()
        finding = httpx.post(running.url + "/v1/check", content=photo, timeout=120).json()
    finally:
        running.stop()
    assert finding["verdict"] == "flag", finding
    assert finding["reasons"][0].startswith("candidate 02 Kit Harington appears with 1 other person")
    assert sorted(f["candidate"] or "" for f in finding["faces"]) == ["", "Kit Harington"]
    assert "3 candidate(s)" in running.log_text()


def test_open_service_under_another_election(tmp_path, made_photos):
    running = start_server(tmp_path, "--election", "pilpres-2019")
    try:
        # no --token-file: no Authorization header needed
        finding = httpx.post(running.url + "/v1/check", content=made_photos["v.jpg"], timeout=120).json()
    finally:
        running.stop()
    assert finding["hands"] and finding["hands"][0]["ballot"] == 2
    assert any("Sandiaga" in reason for reason in finding["reasons"]), finding["reasons"]


def test_fast_service_answers_as_the_fast_auditor(tmp_path, made_photos):
    """`serve --fast` runs the fast profile: its answer equals Auditor(engine=EngineOptions.fast())."""
    from serve_harness import assert_same

    from gesture_audit.audit import Auditor
    from gesture_audit.detect.engine import EngineOptions

    running = start_server(tmp_path, "--fast")
    try:
        got = httpx.post(running.url + "/v1/check", content=made_photos["v.jpg"], timeout=120).json()
    finally:
        running.stop()
    want = Auditor(engine=EngineOptions.fast()).check(made_photos["v.jpg"])
    assert got["hands"] and want.hands
    assert_same(got, want)
