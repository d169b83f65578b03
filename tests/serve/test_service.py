"""The real service on loopback answers what the Python API answers, alone, in batches and under load."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from serve_harness import assert_same, metric

from gesture_audit.report.schema import validation_errors


def test_probes_and_docs(server):
    with server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ready"}
        assert "swagger-ui" in client.get("/docs").text
        spec = client.get("/openapi.json").json()
    assert {"/v1/check", "/v1/check/batch", "/healthz", "/readyz", "/metrics"} <= set(spec["paths"])
    body = spec["paths"]["/v1/check"]["post"]["requestBody"]["content"]
    assert {"image/jpeg", "application/octet-stream", "multipart/form-data"} <= set(body)
    assert [s["scheme"] for s in spec["components"]["securitySchemes"].values()] == ["bearer"]


def test_made_photos_raw_and_multipart_equal_the_python_api(server, auditor, made_photos):
    with server.client() as client:
        for name, data in made_photos.items():
            want = auditor.check(data)
            raw = client.post("/v1/check", content=data, headers={"Content-Type": "application/octet-stream"})
            assert raw.status_code == 200, raw.text
            assert_same(raw.json(), want)
            form = client.post("/v1/check", files={"file": (name, data, "image/jpeg")})
            assert form.status_code == 200, form.text
            assert_same(form.json(), want, path=name)
            assert validation_errors(form.json()) == []
    v_sign = auditor.check(made_photos["v.jpg"])
    assert v_sign.ballots == [2], v_sign  # the comparisons are not vacuous


def test_dev_photos_equal_the_python_api(server, auditor, dev_photos):
    with server.client() as client:
        for data in dev_photos.values():
            got = client.post("/v1/check", content=data, headers={"Content-Type": "image/jpeg"})
            assert got.status_code == 200, got.text
            assert_same(got.json(), auditor.check(data))
    assert any(auditor.check(data).flagged for data in dev_photos.values())


def test_batch_answers_every_file_in_order(server, auditor, made_photos):
    files = [
        *made_photos.items(),
        ("notes.txt", b"rapat koordinasi, bukan foto\n"),
        ("cut.jpg", made_photos["v.jpg"][:2000]),
        ("v-again.jpg", made_photos["v.jpg"]),
    ]
    with server.client() as client:
        got = client.post("/v1/check/batch", files=[("files", (name, data, "image/jpeg")) for name, data in files])
    assert got.status_code == 200, got.text
    assert len(got.json()) == len(files)
    for finding, (name, data) in zip(got.json(), files):
        assert_same(finding, auditor.check(data), path=name)  # bad files: the API's own error rows
    assert [f["status"] for f in got.json()].count("error") == 2


def test_batch_of_dev_photos(server, auditor, dev_photos):
    with server.client() as client:
        got = client.post("/v1/check/batch", files=[("files", (n, d, "image/jpeg")) for n, d in dev_photos.items()])
    assert got.status_code == 200, got.text
    for finding, (name, data) in zip(got.json(), dev_photos.items()):
        assert_same(finding, auditor.check(data), path=name)


def test_32_clients_with_10_photos_each_share_engine_calls(server, auditor, made_photos):
    names = list(made_photos)
    want = {name: auditor.check(data) for name, data in made_photos.items()}
    with server.client() as client:
        before = client.get("/metrics").text

    async def one_client(i: int) -> list[tuple[str, httpx.Response]]:
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=600) as client:
            answers = []
            for k in range(10):
                name = names[(i + k) % len(names)]
                answers.append((name, await client.post("/v1/check", content=made_photos[name])))
            return answers

    async def all_clients():
        return await asyncio.gather(*(one_client(i) for i in range(32)))

    answers = [a for per_client in asyncio.run(all_clients()) for a in per_client]
    assert len(answers) == 320
    assert [r.status_code for _, r in answers] == [200] * 320, [r.text for _, r in answers if r.status_code != 200]
    for name, response in answers:
        assert_same(response.json(), want[name])

    with server.client() as client:
        after = client.get("/metrics").text

    def grew(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert grew("gesture_audit_requests_total", endpoint="/v1/check", method="POST", status="200") == 320
    calls, photos = grew("gesture_audit_batch_size_count"), grew("gesture_audit_batch_size_sum")
    singles = grew("gesture_audit_batch_size_bucket", le="1")
    assert photos == 320 and calls < 320 and singles < calls, (photos, calls, singles)
    assert grew("gesture_audit_batch_size_bucket", le="16") == calls  # no batch over the service's 16
    print(f"\n320 photos from 32 clients in {calls:.0f} engine calls, {photos / calls:.1f} photos per call")


@pytest.mark.parametrize("path", ["/v1/check", "/v1/check/batch"])
def test_metrics_count_requests_and_time_them(server, path):
    """This test's own request is counted and timed (counts read before and after it: other tests
    share the server)."""
    with server.client() as client:
        before = client.get("/metrics").text
        client.post(path, content=b"")
        text = client.get("/metrics").text
    assert "# TYPE gesture_audit_requests_total counter" in text
    assert "# TYPE gesture_audit_request_duration_seconds histogram" in text
    assert "# TYPE gesture_audit_batch_size histogram" in text
    for name, labels in (
        ("gesture_audit_request_duration_seconds_count", {}),
        ("gesture_audit_request_duration_seconds_bucket", {"le": "+Inf"}),
    ):
        assert metric(text, name, endpoint=path, **labels) - metric(before, name, endpoint=path, **labels) == 1
