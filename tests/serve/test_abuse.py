"""What a careless or hostile client can send: every answer is a 4xx with a reason, never a 500."""

from __future__ import annotations

import base64
import io
import socket
import struct
import time
import zlib

import httpx
import numpy as np
import pytest
from serve_harness import MAX_BATCH, MAX_BYTES, metric, read_head


@pytest.fixture(scope="module")
def photo(made_photos) -> bytes:
    return made_photos["v.jpg"]


def post(server, path: str = "/v1/check", headers: dict | None = None, **kwargs) -> httpx.Response:
    return httpx.post(server.url + path, headers=server.headers if headers is None else headers, timeout=120, **kwargs)


def refused(response: httpx.Response, status: int, reason: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["reason"] == reason and body["detail"], body
    return body


def raw_exchange(server, head: str, body: bytes = b"", *, close_after: bool = False, timeout: float = 30) -> bytes:
    """Send bytes exactly as given (a lying Content-Length, say); the first response's head comes back."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        try:
            sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        except (BrokenPipeError, ConnectionResetError):  # refused early: the answer is still there to read
            pass
        if close_after:
            return b""
        return read_head(sock)


def auth_line(server) -> str:
    return f"Authorization: Bearer {server.token}\n"


# -- authentication ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/check", "/v1/check/batch"])
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-the-token",
        "Bearer",
        "Token {token}",
        "Basic {basic}",
        "Bearer {token}x",
        "Bearer {token} {token}",
    ],
)
def test_without_the_right_token_401(server, photo, path, authorization):
    headers = {}
    if authorization is not None:
        basic = base64.b64encode(f"user:{server.token}".encode()).decode()
        headers["Authorization"] = authorization.format(token=server.token, basic=basic)
    files = [("file" if path == "/v1/check" else "files", ("v.jpg", photo, "image/jpeg"))]
    response = post(server, path, headers=headers, files=files)
    refused(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_any_listed_token_and_any_case_of_the_scheme_pass(server, photo):
    token_file = server.log.parent / "tokens"
    other = [line for line in token_file.read_text().splitlines() if line and not line.startswith("#")][0]
    assert other != server.token
    for header in (f"Bearer {other}", f"bearer {server.token}", f"BEARER {server.token}"):
        assert post(server, headers={"Authorization": header}, content=photo).status_code == 200


def test_probes_and_metrics_need_no_token(server):
    for path in ("/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"):
        assert httpx.get(server.url + path, timeout=30).status_code == 200, path


def test_401_comes_before_the_body_is_read(server):
    started = time.monotonic()
    answer = raw_exchange(server, "POST /v1/check HTTP/1.1\nHost: t\nContent-Length: 1000000000\n")
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert time.monotonic() - started < 20  # not waiting for a gigabyte that never comes


# -- size --------------------------------------------------------------------------------------------


def test_declared_oversize_413_before_the_body_is_read(server):
    answer = raw_exchange(
        server,
        f"POST /v1/check HTTP/1.1\nHost: t\n{auth_line(server)}Content-Type: image/jpeg\nContent-Length: {10**12}\n",
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"connection: close" in answer.lower()


@pytest.mark.parametrize("how", ["content-length", "chunked", "multipart", "multipart-chunked"])
def test_oversize_413(server, photo, how):
    big = photo + bytes(MAX_BYTES)  # a valid JPEG start: only the size can refuse it
    if how == "content-length":
        response = post(server, content=big)
    elif how == "chunked":  # no Content-Length at all: counted while it streams
        response = post(server, content=(big[i : i + 65536] for i in range(0, len(big), 65536)))
    elif how == "multipart":
        response = post(server, files={"file": ("big.jpg", big, "image/jpeg")})
    else:
        request = httpx.Request("POST", "/", files={"file": ("big.jpg", big, "image/jpeg")})
        body, content_type = request.read(), request.headers["content-type"]
        response = post(
            server,
            headers={**server.headers, "Content-Type": content_type},
            content=(body[i : i + 65536] for i in range(0, len(body), 65536)),
        )
    refused(response, 413, "too_large")
    assert str(MAX_BYTES) in response.json()["detail"]


def test_photo_over_the_limit_inside_a_form_that_is_not(server, photo):
    just_over = photo + bytes(MAX_BYTES + 1 - len(photo))  # the form's envelope is allowed on top
    refused(post(server, files={"file": ("big.jpg", just_over, "image/jpeg")}), 413, "too_large")
    batch = post(
        server,
        "/v1/check/batch",
        files=[("files", ("big.jpg", just_over, "image/jpeg")), ("files", ("v.jpg", photo, "image/jpeg"))],
    )
    assert batch.status_code == 200
    big, fine = batch.json()
    assert big["status"] == "error" and "over the limit" in big["error"] and big["path"] == "big.jpg"
    assert fine["status"] == "ok" and fine["hands"]


def test_lying_content_length_reads_no_more_than_declared(server, photo):
    # Declared 4 KB, then 2.5 MB sent: the photo is the first 4 KB (a truncated JPEG) and the rest is
    # never taken for a photo; the server does not wait for, or buffer, more than it was told.
    answer = raw_exchange(
        server,
        f"POST /v1/check HTTP/1.1\nHost: t\n{auth_line(server)}Content-Type: image/jpeg\nContent-Length: 4096\n",
        (photo * (2_500_000 // len(photo) + 1))[:2_500_000],
    )
    assert answer.startswith(b"HTTP/1.1 422"), answer[:300]
    # Both framings at once (request smuggling's favourite): refused, whatever the body holds.
    body = f"{MAX_BYTES * 2:x}\r\n".encode() + bytes(MAX_BYTES * 2) + b"\r\n0\r\n\r\n"
    answer = raw_exchange(
        server,
        f"POST /v1/check HTTP/1.1\nHost: t\n{auth_line(server)}Content-Length: 100\nTransfer-Encoding: chunked\n",
        body,
    )
    assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 413")), answer[:300]
    assert httpx.get(server.url + "/readyz", timeout=30).status_code == 200


def test_too_many_files_in_a_batch_400(server, photo):
    files = [("files", (f"{i}.jpg", photo, "image/jpeg")) for i in range(MAX_BATCH + 1)]
    refused(post(server, "/v1/check/batch", files=files), 400, "bad_multipart")


# -- content -----------------------------------------------------------------------------------------


def png_header(width: int, height: int) -> bytes:
    """A PNG that says it is width × height (8-bit RGB) and holds almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "body, status, reason",
    [
        (b"rapat koordinasi kecamatan, bukan foto\n" * 20, 415, "not_image"),
        (b'{"image": "photo.jpg"}', 415, "not_image"),
        (b"\x00\x01\x02\x03" * 64, 415, "unsupported"),
        (b"", 400, "empty"),
        (b"\xff\xd8\xff\xe0" + bytes(40), 422, "corrupt"),
        (b"\x89PNG\r\n\x1a\n" + bytes(30), 422, "corrupt"),
        (png_header(9000, 9000), 413, "too_large"),  # 81 Mpx in 65 bytes: refused from the header
    ],
)
def test_what_is_not_a_usable_image(server, body, status, reason):
    refused(post(server, content=body, headers={**server.headers, "Content-Type": "image/jpeg"}), status, reason)
    name = "empty.jpg" if not body else "upload.jpg"
    refused(post(server, files={"file": (name, body, "image/jpeg")}), status, reason)


def test_videos_are_refused_415(server, made_photos):
    """Minutes of frames would hold up the micro-batch: videos go through scan or the Python API."""
    av = pytest.importorskip("av", reason="videos need gesture-audit[video]")
    from PIL import Image

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 256, 256, "yuv420p"
        frame = np.asarray(Image.open(io.BytesIO(made_photos["v.jpg"])).convert("RGB").resize((256, 256)))
        for _ in range(5):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode())
    body = refused(post(server, content=buf.getvalue()), 415, "unsupported")
    assert "videos are not checked here" in body["detail"]


@pytest.mark.parametrize("kind", ["v.jpg", "blank.png"])
def test_truncated_image_422(server, made_photos, kind):
    data = made_photos[kind]
    body = refused(post(server, content=data[: len(data) // 2]), 422, "truncated")
    assert "truncated" in body["detail"]


def test_batch_wants_multipart(server, photo):
    refused(post(server, "/v1/check/batch", content=photo), 415, "not_multipart")


@pytest.mark.parametrize(
    "path, fields",
    [
        ("/v1/check", {"image": ("v.jpg", "PHOTO", "image/jpeg")}),
        ("/v1/check", {"files": ("v.jpg", "PHOTO", "image/jpeg")}),
        ("/v1/check", {"file": (None, "not a file")}),
        ("/v1/check/batch", {"file": ("v.jpg", "PHOTO", "image/jpeg")}),
        ("/v1/check/batch", {"note": (None, "no files")}),
    ],
)
def test_wrong_multipart_field_422(server, photo, path, fields):
    files = {name: tuple(photo if part == "PHOTO" else part for part in value) for name, value in fields.items()}
    body = refused(post(server, path, files=files), 422, "missing_file")
    assert ("'file'" if path == "/v1/check" else "'files'") in body["detail"]


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data", b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--x--\r\n'),
        ("multipart/form-data; boundary=x", b"this is not multipart at all"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; filename="a.jpg"\r\n\r\n'),
    ],
)
def test_broken_multipart_400(server, content_type, body):
    refused(post(server, content=body, headers={**server.headers, "Content-Type": content_type}), 400, "bad_multipart")


def test_two_files_for_one_photo_400(server, photo):
    files = [("file", ("a.jpg", photo, "image/jpeg")), ("file", ("b.jpg", photo, "image/jpeg"))]
    refused(post(server, files=files), 400, "bad_multipart")


def test_client_that_leaves_mid_upload(server, photo):
    raw_exchange(
        server,
        f"POST /v1/check HTTP/1.1\nHost: t\n{auth_line(server)}Content-Length: 100000\n",
        photo[:1000],
        close_after=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = httpx.get(server.url + "/metrics", timeout=30).text
        if metric(text, "gesture_audit_requests_total", endpoint="/v1/check", method="POST", status="499"):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the abandoned upload was not counted as 499")
    assert post(server, content=photo).status_code == 200


def test_no_500_and_no_secrets_or_photos_in_the_log(server):
    marker = "bukan-foto-7c1e"  # in a body the log must not show
    wrong = "wrong-token-5b9f2d"
    post(server, content=f"{marker}\n".encode())
    post(server, headers={"Authorization": f"Bearer {wrong}"}, content=b"x")
    post(
        server,
        headers={**server.headers, "Content-Type": "multipart/form-data; boundary=x"},
        content=f"--y\r\n{marker}".encode(),
    )
    text = httpx.get(server.url + "/metrics", timeout=30).text
    statuses = [line for line in text.splitlines() if line.startswith('gesture_audit_requests_total{endpoint="/v1/')]
    assert statuses and not [s for s in statuses if 'status="5' in s], statuses  # (/readyz said 503 at start)
    log = server.log_text()
    for secret in (server.token, wrong, marker, "\\xff\\xd8", "JFIF"):
        assert secret not in log, secret
    assert "Traceback" not in log and "ERROR" not in log
