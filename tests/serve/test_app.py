"""The app in this process (no server): readiness while the models load, token files, the metrics page."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from serve_harness import assert_same

from gesture_audit.serve import ServeOptions, create_app, load_tokens
from gesture_audit.serve.metrics import Counter, Histogram


async def until(client: httpx.AsyncClient, path: str, status: int) -> httpx.Response:
    for _ in range(600):
        response = await client.get(path)
        if response.status_code == status:
            return response
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never answered {status}")


def test_503_until_the_models_are_loaded_then_checks(auditor, made_photos):
    loaded = threading.Event()

    def make_auditor():
        loaded.wait(30)
        return auditor

    app = create_app(make_auditor=make_auditor)

    async def main():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app", timeout=120) as client:
                assert (await client.get("/healthz")).status_code == 200
                waiting = await client.get("/readyz")
                assert waiting.status_code == 503 and waiting.json()["status"] == "loading"
                early = await client.post("/v1/check", content=made_photos["v.jpg"])
                assert early.status_code == 503 and early.json()["reason"] == "not_ready"
                assert early.headers["retry-after"] == "1"
                loaded.set()
                await until(client, "/readyz", 200)
                return (await client.post("/v1/check", content=made_photos["v.jpg"])).json()

    assert_same(asyncio.run(main()), auditor.check(made_photos["v.jpg"]))


def test_models_that_fail_to_load_are_reported_and_stop_the_server():
    stopped = []

    def make_auditor():
        raise ValueError("candidates.json: cannot read the gallery (No such file or directory)")

    app = create_app(make_auditor=make_auditor, on_fatal=lambda: stopped.append(True))

    async def main():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
                failed = await until(client, "/readyz", 503)
                while failed.json()["status"] == "loading":
                    failed = await client.get("/readyz")
                    await asyncio.sleep(0.05)
                return failed.json(), (await client.post("/v1/check", content=b"x")).json()

    ready, check = asyncio.run(main())
    assert ready["status"] == "failed" and "gallery" in ready["detail"]
    assert check["reason"] == "not_ready" and "gallery" in check["detail"]
    assert stopped == [True]


def test_token_file(tmp_path):
    path = tmp_path / "tokens"
    path.write_text("# staff uploads\n  alpha-123  \n\nbeta-456\n")
    assert load_tokens(path) == ("alpha-123", "beta-456")
    path.write_text("# nothing yet\n\n")
    with pytest.raises(ValueError, match="no token"):
        load_tokens(path)
    with pytest.raises(OSError):
        load_tokens(tmp_path / "missing")


@pytest.mark.parametrize(
    "options",
    [
        dict(max_bytes=0),
        dict(max_batch=0),
        dict(batch_wait_ms=-1),
        dict(tokens=("",)),
        dict(tokens=(" padded",)),
        dict(tokens=("two words",)),
        dict(tokens=("kunci-rahasia-é",)),
    ],
)
def test_bad_options(options):
    with pytest.raises(ValueError):
        ServeOptions(**options)


def test_prometheus_text_format():
    requests = Counter("x_requests_total", "Requests.", ("endpoint", "status"))
    requests.inc("/v1/check", "200")
    requests.inc("/v1/check", "200")
    requests.inc('we"ird\\path\n', "404")
    sizes = Histogram("x_batch_size", "Batch sizes.", (1, 4))
    for size in (1, 3, 3, 9):
        sizes.observe(size)
    assert list(requests.render()) == [
        "# HELP x_requests_total Requests.",
        "# TYPE x_requests_total counter",
        'x_requests_total{endpoint="/v1/check",status="200"} 2',
        'x_requests_total{endpoint="we\\"ird\\\\path\\n",status="404"} 1',
    ]
    assert list(sizes.render()) == [
        "# HELP x_batch_size Batch sizes.",
        "# TYPE x_batch_size histogram",
        'x_batch_size_bucket{le="1"} 1',
        'x_batch_size_bucket{le="4"} 3',
        'x_batch_size_bucket{le="+Inf"} 4',
        "x_batch_size_sum 16",
        "x_batch_size_count 4",
    ]


def test_accept_language_indonesian_reasons_and_errors(auditor, made_photos):
    """Accept-Language: id answers reasons and error details in Bahasa Indonesia; keys, verdicts and
    reasons' English default stay as findings.jsonl has them; the server's --lang is the fallback."""
    from gesture_audit.i18n import translator

    async def main(app, headers):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app", timeout=120) as client:
                await until(client, "/readyz", 200)
                photo = await client.post("/v1/check", content=made_photos["v.jpg"], headers=headers)
                refused = await client.post("/v1/check", content=made_photos["v.jpg"])  # no token
                return photo, refused

    expected = auditor.check(made_photos["v.jpg"])
    assert expected.reasons, "the rendered V should give a reason to translate"
    app = create_app(ServeOptions(tokens=("t0ken",)), make_auditor=lambda: auditor)
    photo, refused = asyncio.run(main(app, {"Authorization": "Bearer t0ken", "Accept-Language": "id-ID,id;q=0.9"}))
    assert photo.status_code == 200 and photo.headers["content-language"] == "id"
    body = photo.json()
    assert body["verdict"] == expected.verdict and body["reasons"] == [
        translator("id").text(r) for r in expected.reasons
    ]
    assert "nomor urut" in body["reasons"][0] and body["reason_messages"][0]["msgid"] == expected.reasons[0].msgid
    assert refused.status_code == 401 and refused.json()["reason"] == "unauthorized"
    assert refused.json()["detail"] == "a bearer token is required"  # no Accept-Language: the server's (en)
    # The server's --lang id answers requests that name no language of ours in Indonesian too.
    app = create_app(ServeOptions(tokens=("t0ken",), lang="id"), make_auditor=lambda: auditor)
    photo, refused = asyncio.run(main(app, {"Authorization": "Bearer t0ken", "Accept-Language": "en"}))
    assert photo.json()["reasons"] == [str(r) for r in expected.reasons]
    assert refused.json()["detail"] == "token bearer diperlukan"
