"""The HTTP service: FastAPI routes over one shared `Auditor`, with micro-batched engine calls.

    POST /v1/check        one photo (the raw body, or a multipart file field "file") -> a finding
    POST /v1/check/batch  several photos (multipart file fields "files")              -> [finding, ...]
    GET  /healthz         the process answers
    GET  /readyz          the models are loaded (503 until then)
    GET  /metrics         Prometheus text: requests, latency, batch sizes
    GET  /docs            OpenAPI in Swagger UI (/redoc: ReDoc), its assets served locally

A finding is a findings.jsonl line (`Finding.to_dict()`), `path` being the multipart file name.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gesture_audit import __version__
from gesture_audit.audit import Auditor, Decoded
from gesture_audit.i18n import N_, Translator, accept_language, translator
from gesture_audit.results import Finding
from gesture_audit.serve import uploads
from gesture_audit.serve.batcher import Batcher
from gesture_audit.serve.metrics import CONTENT_TYPE, ServiceMetrics
from gesture_audit.serve.uploads import ApiError, Upload

if TYPE_CHECKING:
    from gesture_audit.detect.engine import EngineOptions
    from gesture_audit.identify.gallery import Gallery
    from gesture_audit.judge.election import Election

log = logging.getLogger("gesture_audit.serve")


@dataclass
class ServeOptions:
    """How the service runs. `tokens` empty: no authentication (bind to loopback then)."""

    tokens: tuple[str, ...] = ()
    max_bytes: int = 20 * 1024 * 1024  # per photo
    max_batch: int = 16  # photos per engine call, and per /v1/check/batch request
    batch_wait_ms: float = 5.0
    election: Election | str | Path | None = None  # None: Pilpres 2024
    gallery: Gallery | str | Path | None = None  # None: no face work
    fast: bool = False  # the fast engine profile (EngineOptions.fast)
    engine: EngineOptions | None = None  # runtime, precision and --fast in one; None: from `fast`
    lang: str = "en"  # the language of reasons and errors when a request's Accept-Language names none of ours
    header_timeout: float = 10.0  # seconds for a request's headers (then the connection is closed)
    body_timeout: float = 60.0  # seconds for a request's body (then 408)
    max_connections: int = 64  # open connections and requests at once (beyond: 503)

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.max_batch < 1 or self.batch_wait_ms < 0:
            raise ValueError("max_bytes and max_batch must be at least 1, batch_wait_ms not negative")
        if self.header_timeout <= 0 or self.body_timeout <= 0 or self.max_connections < 1:
            raise ValueError("header_timeout and body_timeout must be positive, max_connections at least 1")
        if not all(token.isascii() and token.isprintable() and token and " " not in token for token in self.tokens):
            raise ValueError("a token must be printable ASCII without spaces (as it travels in a header)")


class HideQuery(logging.Filter):
    """Drops the query string from uvicorn's access log lines: a client may put a token there
    (`?token=...`), and a secret must never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            path, query, _ = record.args[2].partition("?")
            if query:
                record.args = (*record.args[:2], path + "?…", *record.args[3:])
        return True


def load_tokens(path: str | Path) -> tuple[str, ...]:
    """The bearer tokens in a file, one a line (several allow rotation); blank and # lines skipped.

    Raises OSError when the file cannot be read, ValueError when it holds no token.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    tokens = tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))
    if not tokens:
        raise ValueError(f"{path} holds no token (one a line)")
    return tokens


_IMAGE = {"schema": {"type": "string", "format": "binary"}}
_CHECK_BODY = {
    "requestBody": {
        "required": True,
        "description": "The photo: the raw file as the body, or "
        "a multipart form with the file in the field `file`. JPEG, PNG, WebP, BMP, TIFF, GIF (HEIC "
        "with pillow-heif).",
        "content": {
            "image/jpeg": _IMAGE,
            "image/png": _IMAGE,
            "application/octet-stream": _IMAGE,
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {"file": _IMAGE}}},
        },
    }
}
_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "description": "A multipart form with one `files` field per photo (at most the server's --max-batch).",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {"files": {"type": "array", "items": _IMAGE}},
                }
            }
        },
    }
}
_ERROR = {
    "content": {
        "application/json": {
            "example": {"detail": "truncated JPEG (the file ends before the image data does)", "reason": "truncated"}
        }
    }
}
_CHECK_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"description": "A finding: one findings.jsonl line (gesture_audit/report/findings.schema.json)"},
    400: {"description": "Empty body or broken multipart", **_ERROR},
    401: {"description": "Missing or wrong bearer token", **_ERROR},
    413: {"description": "Over the size limit (bytes, or pixels)", **_ERROR},
    415: {"description": "Not an image, or an unsupported format", **_ERROR},
    408: {"description": "The body did not arrive within the server's --body-timeout", **_ERROR},
    422: {"description": "A damaged or truncated image, or no file in the form's field", **_ERROR},
    503: {"description": "The models are still loading", **_ERROR},
}


class _Service:
    """The state behind the routes: the Auditor (loaded in the background), its batcher and decoders."""

    def __init__(self, options: ServeOptions, make_auditor: Callable[[], Auditor], on_fatal: Callable[[], None]):
        self.options, self.make_auditor, self.on_fatal = options, make_auditor, on_fatal
        self.metrics = ServiceMetrics()
        self.auditor: Auditor | None = None
        self.failure: str | None = None
        self.batcher: Batcher[Decoded, Finding] | None = None
        self.decoders: ThreadPoolExecutor | None = None
        self._loading: asyncio.Task | None = None

    def start(self) -> None:
        self._loading = asyncio.get_running_loop().create_task(self._load(), name="gesture-audit-load")

    async def _load(self) -> None:
        started = time.perf_counter()
        log.info("loading the models")
        try:
            auditor = await asyncio.to_thread(self.make_auditor)
        except Exception as e:
            self.failure = f"{type(e).__name__}: {e}"
            log.error("cannot serve: %s", self.failure)
            self.on_fatal()
            return
        self.decoders = ThreadPoolExecutor(auditor.workers, thread_name_prefix="gesture-audit-decode")
        # The Auditor's own two stages: decode per request here, judge per micro-batch there.
        self.batcher = Batcher(
            auditor.judge,
            max_batch=self.options.max_batch,
            wait=self.options.batch_wait_ms / 1000,
            on_batch=self.metrics.batch_size.observe,
        )
        self.batcher.start()
        self.auditor = auditor
        log.info(
            "ready in %.1f s: election %s, %s, batches of up to %d after %g ms, %s, photos up to %d bytes",
            time.perf_counter() - started,
            auditor.election.name,
            "no candidate gallery" if auditor.gallery is None else f"{len(auditor.gallery)} candidate(s)",
            self.options.max_batch,
            self.options.batch_wait_ms,
            "bearer tokens required" if self.options.tokens else "no authentication",
            self.options.max_bytes,
        )

    async def stop(self) -> None:
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        if self.batcher is not None:
            await self.batcher.close()
        if self.decoders is not None:
            self.decoders.shutdown(wait=True, cancel_futures=True)

    def ready(self) -> Auditor:
        if self.auditor is None:
            detail = (
                N_("cannot serve: {failure}", failure=self.failure)
                if self.failure
                else N_("the models are still loading")
            )
            raise ApiError(503, "not_ready", detail, {"Retry-After": "1"})
        return self.auditor

    async def check(self, upload: Upload) -> Finding:
        """The finding for one upload; ApiError when the upload is unusable."""
        auditor = self.ready()
        loop = asyncio.get_running_loop()
        decoded = await loop.run_in_executor(self.decoders, uploads.decode, auditor, upload, self.options.max_bytes)
        if self.batcher is None:  # never: _load starts it before setting the auditor that ready() returned
            raise RuntimeError("the batcher is not started")
        return await self.batcher.submit(decoded)


class _Metrics:
    """Counts and times every HTTP request, labelled by route template (bounded cardinality)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 500

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            endpoint = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe_request(endpoint, scope["method"], status, time.perf_counter() - started)


def create_app(
    options: ServeOptions | None = None,
    *,
    make_auditor: Callable[[], Auditor] | None = None,
    on_fatal: Callable[[], None] = lambda: None,
) -> FastAPI:
    """The ASGI app. Models load in the background once it starts (see /readyz).

    make_auditor: builds the Auditor (default: `Auditor(election=..., gallery=...)` from `options`).
    on_fatal: called when that fails, e.g. to stop the server; /readyz then says why.
    """
    options = options or ServeOptions()

    def default_auditor() -> Auditor:
        from gesture_audit.detect.engine import EngineOptions

        return Auditor(
            election=options.election,
            gallery=options.gallery,
            engine=options.engine or (EngineOptions.fast() if options.fast else None),
        )

    service = _Service(options, make_auditor or default_auditor, on_fatal)
    tokens = [token.encode() for token in options.tokens]
    bearer = HTTPBearer(auto_error=False, description="The token from the server's --token-file.")

    def authorize(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if not tokens:
            return
        if credentials is None:
            raise ApiError(401, "unauthorized", N_("a bearer token is required"), {"WWW-Authenticate": "Bearer"})
        given = credentials.credentials.encode()
        if not any([hmac.compare_digest(given, token) for token in tokens]):  # every one: constant time
            raise ApiError(
                401,
                "unauthorized",
                N_("the bearer token is not valid"),
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start()
        try:
            yield
        finally:
            await service.stop()

    # FastAPIOffline: /docs and /redoc serve Swagger UI and ReDoc from the fastapi-offline package,
    # not from a CDN, so the docs work on a network without internet.
    app = FastAPIOffline(
        title="gesture-audit",
        version=__version__,
        lifespan=lifespan,
        description="Checks photos for ballot-number hand signs (Indonesian elections) before "
        "they are published. A finding is one findings.jsonl line.",
    )
    app.state.service = service
    app.add_middleware(_Metrics, metrics=service.metrics)

    def language(request: Request) -> Translator:
        """The request's language: its Accept-Language, else the server's --lang."""
        return translator(accept_language(request.headers.get("accept-language"), options.lang))

    def answer(content, tr: Translator, status: int = 200, headers: dict | None = None) -> JSONResponse:
        return JSONResponse(
            content, status, headers={**(headers or {}), "Content-Language": tr.lang, "Vary": "Accept-Language"}
        )

    @app.exception_handler(ApiError)
    async def api_error(request: Request, e: ApiError) -> JSONResponse:
        tr = language(request)
        return answer({"detail": tr.text(e.detail), "reason": e.reason}, tr, e.status, e.headers)

    @app.exception_handler(ClientDisconnect)
    async def gone(request: Request, e: ClientDisconnect) -> Response:
        return Response(status_code=499)  # nginx's "client closed request": counted, not logged as a 500

    @app.post(
        "/v1/check",
        dependencies=[Depends(authorize)],
        openapi_extra=_CHECK_BODY,
        responses=_CHECK_ERRORS,
        summary="Check one photo",
    )
    async def check(request: Request) -> JSONResponse:
        """The finding for one photo: verdict (flag / review / clear), risk, reasons, hands.
        Reasons (and error details) are in Bahasa Indonesia with `Accept-Language: id`."""
        service.ready()
        if uploads.is_multipart(request):
            (upload,) = await uploads.read_form(
                request, field="file", max_files=1, max_bytes=options.max_bytes, timeout=options.body_timeout
            )
        else:
            upload = await uploads.read_body(request, options.max_bytes, options.body_timeout)
        finding = await service.check(upload)
        if not finding.ok:  # decoded fine, then the engine failed: ours, so not a 4xx
            raise ApiError(500, "check_failed", finding.error or "the check failed")
        return answer(finding.to_dict(language(request)), language(request))

    @app.post(
        "/v1/check/batch",
        dependencies=[Depends(authorize)],
        openapi_extra=_BATCH_BODY,
        responses=_CHECK_ERRORS,
        summary="Check several photos",
    )
    async def check_batch(request: Request) -> JSONResponse:
        """One finding per photo, in order. A photo that cannot be checked gets a finding with
        status "error" and the reason in `error`, as in findings.jsonl; check `status`."""
        service.ready()
        if not uploads.is_multipart(request):
            raise ApiError(415, "not_multipart", "send multipart/form-data with one 'files' field per photo")
        batch = await uploads.read_form(
            request,
            field="files",
            max_files=options.max_batch,
            max_bytes=options.max_bytes,
            timeout=options.body_timeout,
        )

        async def one(upload: Upload) -> Finding:
            try:
                return await service.check(upload)
            except ApiError as e:
                return uploads.failed(upload, e)

        tr = language(request)
        return answer([finding.to_dict(tr) for finding in await asyncio.gather(*map(one, batch))], tr)

    @app.get("/healthz", summary="The process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="The models are loaded", responses={503: {"description": "Not yet (or failed)"}})
    async def readyz() -> JSONResponse:
        if service.auditor is not None:
            return JSONResponse({"status": "ready"})
        return JSONResponse(
            {"status": "failed" if service.failure else "loading", "detail": service.failure},
            503,
            headers={"Retry-After": "1"},
        )

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(service.metrics.render(), media_type=CONTENT_TYPE)

    return app
