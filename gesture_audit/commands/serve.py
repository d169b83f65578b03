"""`gesture-audit serve`: the check as an HTTP service for upload pipelines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gesture_audit.commands import (
    ElectionOption,
    FastOption,
    GalleryOption,
    LangOption,
    PrecisionOption,
    RuntimeOption,
    engine_options,
    fail,
    language,
)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")] = 8080,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            help="File of bearer tokens, one a line; /v1/ requests must carry one. "
            "Without it anyone who reaches the port can use the service.",
        ),
    ] = None,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", min=1, help="Largest photo accepted, in bytes (larger: 413).")
    ] = 20 * 1024 * 1024,
    election: ElectionOption = None,
    gallery: GalleryOption = None,
    batch_wait_ms: Annotated[
        float,
        typer.Option("--batch-wait-ms", min=0, help="How long a photo waits for others to share its engine call."),
    ] = 5.0,
    max_batch: Annotated[
        int, typer.Option("--max-batch", min=1, help="Photos per engine call, and per /v1/check/batch request.")
    ] = 16,
    header_timeout: Annotated[
        float,
        typer.Option(
            "--header-timeout",
            min=0.1,
            help="Seconds a client has to send a request's headers (slow clients are disconnected).",
        ),
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option("--body-timeout", min=0.1, help="Seconds a client has to send a request's body (then 408).")
    ] = 60.0,
    max_connections: Annotated[
        int, typer.Option("--max-connections", min=1, help="Open connections and requests at once (beyond: 503).")
    ] = 64,
    fast: FastOption = False,
    runtime: RuntimeOption = "auto",
    precision: PrecisionOption = "auto",
    lang: LangOption = None,
) -> None:
    """Serve the check over HTTP: POST /v1/check (a photo) and /v1/check/batch (several) answer with
    findings.jsonl lines; GET /healthz, /readyz, /metrics; API docs at /docs.

    Ctrl-C or SIGTERM stops it after the requests in flight are answered (exit status 130, or death
    by SIGTERM as the signal asks). Exit status 1: the models could not be loaded; 2: usage error.
    """
    try:
        import uvicorn
        from uvicorn.config import LOGGING_CONFIG

        from gesture_audit.identify.gallery import Gallery
        from gesture_audit.judge.election import load_election
        from gesture_audit.serve import ServeOptions, create_app, load_tokens
        from gesture_audit.serve.protocol import HeaderDeadlineProtocol
    except ModuleNotFoundError as e:
        typer.echo(
            f"Error: the service needs the serve extra ({e.name} is missing): pip install 'gesture-audit[serve]'",
            err=True,
        )
        raise typer.Exit(2) from None

    try:
        tokens = load_tokens(token_file) if token_file else ()
        options = ServeOptions(
            tokens=tokens,
            max_bytes=max_bytes,
            max_batch=max_batch,
            batch_wait_ms=batch_wait_ms,
            election=load_election(election),
            gallery=Gallery.load(gallery) if gallery else None,
            fast=fast,
            engine=engine_options(fast, runtime, precision)[0],
            lang=language(lang),
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            max_connections=max_connections,
        )
    except (OSError, ValueError) as e:
        fail(str(e))
    if not tokens and host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"Warning: listening on {host} without --token-file: anyone who can reach it can use it", err=True)

    def stop() -> None:  # the models failed to load: there is nothing to serve
        server.should_exit = True

    app = create_app(options, on_fatal=stop)
    # The access log has method, path (no query: a token may be there) and status only: never a header
    # (tokens) or a body (photos). The multipart parser's warnings quote bytes of the client's broken
    # form, which got its 400.
    log_config = {
        **LOGGING_CONFIG,
        "filters": {"hide_query": {"()": "gesture_audit.serve.app.HideQuery"}},
        "handlers": {
            **LOGGING_CONFIG["handlers"],
            "access": {**LOGGING_CONFIG["handlers"]["access"], "filters": ["hide_query"]},
        },
        "loggers": {
            **LOGGING_CONFIG["loggers"],
            "gesture_audit": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "python_multipart": {"level": "ERROR"},
        },
    }
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=log_config,
            server_header=False,
            timeout_graceful_shutdown=30,
            limit_concurrency=max_connections,
            http=HeaderDeadlineProtocol.with_timeout(header_timeout),
        )
    )
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it drained the requests for
        raise typer.Exit(130) from None
    if app.state.service.failure:
        raise typer.Exit(1)
