"""``scipix serve``: the Mathpix-v3-compatible REST API and the web page, on uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from scipix.cli.common import state, stderr_console
from scipix.errors import ConfigError

GRACEFUL_SHUTDOWN_S = 30


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to bind (default: server.host).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help="Port (default: server.port; 0 = any)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Worker processes (default: server.workers)."),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option("--log-level", help="debug|info|warning|error.")
    ] = None,
) -> None:
    """Serve /v3/text, /v3/latex, /v3/strokes, /v3/batch, /v3/pdf, /v3/ocr-results,
    /v3/ocr-usage, /v3/app-tokens, /v3/corrections, /health, /openapi.json and the web page at /."""
    try:
        import uvicorn

        from scipix.server.app import create_app
        from scipix.server.auth import is_loopback
    except ImportError as exc:
        raise ConfigError(
            f"scipix serve needs the server extra: pip install 'scipix[server]' ({exc})"
        ) from exc
    cli = state(ctx)
    settings = cli.settings()
    host = host or settings.server.host
    port = settings.server.port if port is None else port
    workers = workers or settings.server.workers
    level = log_level or (
        "info" if settings.runtime.log_level == "debug" else settings.runtime.log_level
    )
    err = stderr_console()
    if settings.server.auth == "none_on_loopback":
        err.print(
            "[yellow]auth: requests from loopback addresses need no key (server.auth)[/yellow]"
        )
    if not is_loopback(host) and host != "localhost":
        err.print(f"[yellow]listening on {host}: reachable from other machines[/yellow]")
    err.print(f"scipix serving on http://{host}:{port}/ ({workers} worker(s))")
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level=level,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        return
    if cli.config is not None:  # each worker process reads the same file
        os.environ["SCIPIX_CONFIG"] = str(cli.config.resolve())
    uvicorn.run(
        "scipix.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
