"""The service under slow and odd clients: deadlines for headers and bodies, no token in the log,
garbage forms 400, strips and damaged photos never 500."""

from __future__ import annotations

import secrets
import signal
import socket
import time

import httpx
import pytest
from made import fake_size_jpeg, strip_png
from serve_harness import read_head, start_server

HEADER_TIMEOUT, BODY_TIMEOUT = 2, 3  # short, so the test waits little; the defaults are 10 and 60


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    running = start_server(
        tmp_path_factory.mktemp("strict"),
        "--header-timeout",
        str(HEADER_TIMEOUT),
        "--body-timeout",
        str(BODY_TIMEOUT),
        token=secrets.token_urlsafe(24),
    )
    yield running
    assert running.stop() == -signal.SIGTERM, running.log_text()[-3000:]


def connect(server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def closed(sock: socket.socket) -> bool:
    """Whether the server has closed this connection (reads end, or writes fail)."""
    try:
        sock.settimeout(0.05)
        return sock.recv(65536) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


@pytest.mark.timeout(90)
def test_slow_loris_is_cut_off_and_others_are_served(strict):
    head = b"POST /v1/check HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 100
    sockets = [connect(strict) for _ in range(9)]
    try:
        start = time.monotonic()
        sent = 0
        # one byte every 0.5 s per connection, never finishing the headers
        while time.monotonic() - start < HEADER_TIMEOUT + 6 and not all(closed(s) for s in sockets):
            for s in sockets:
                try:
                    s.sendall(head[sent % len(head) :][:1])
                except OSError:
                    pass
            sent += 1
            time.sleep(0.5)
        elapsed = time.monotonic() - start
        assert all(closed(s) for s in sockets), "slow clients still connected"
        assert elapsed < HEADER_TIMEOUT + 6  # the deadline, plus time for a loaded machine
        # a client that behaves is served all along
        assert httpx.get(strict.url + "/healthz", timeout=30).status_code == 200
    finally:
        for s in sockets:
            s.close()


@pytest.mark.timeout(60)
def test_slow_body_gets_408(strict):
    with connect(strict) as sock:
        sock.sendall(
            f"POST /v1/check HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {strict.token}\r\n"
            "Content-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n".encode()
            + b"\xff\xd8\xff"
        )
        start = time.monotonic()
        answer = read_head(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert BODY_TIMEOUT - 0.5 <= time.monotonic() - start < BODY_TIMEOUT + 20


@pytest.mark.timeout(60)
def test_token_in_query_is_never_logged(strict):
    secret = "query-token-" + secrets.token_hex(8)
    httpx.post(f"{strict.url}/v1/check?token={secret}&x=1", content=b"x", timeout=30)
    httpx.get(f"{strict.url}/healthz?token={secret}", timeout=30)
    time.sleep(0.5)  # the access log line is written after the answer
    log = strict.log_text()
    assert "/healthz?…" in log  # the line is there, without its query
    assert secret not in log


@pytest.mark.timeout(60)
@pytest.mark.parametrize("body", [b"--y\r\nnot a form", b"garbage \x00\x01\x02", b"--x--\r\n"])
def test_garbage_multipart_is_400_as_documented(strict, body):
    answer = httpx.post(
        strict.url + "/v1/check",
        content=body,
        timeout=30,
        headers={**strict.headers, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["reason"] == "bad_multipart"


@pytest.mark.timeout(120)
def test_strips_and_fake_sizes_are_never_500(strict):
    for data in (strip_png(65500, 2), strip_png(2, 65500), strip_png(8000, 10)):
        answer = httpx.post(
            strict.url + "/v1/check", content=data, timeout=60, headers={**strict.headers, "Content-Type": "image/png"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["verdict"] == "clear"  # a flat grey strip holds no hand
    answer = httpx.post(
        strict.url + "/v1/check",
        content=fake_size_jpeg(7000, 9000),
        timeout=60,
        headers={**strict.headers, "Content-Type": "image/jpeg"},
    )
    assert answer.status_code == 422 and "damaged JPEG" in answer.json()["detail"], answer.text
