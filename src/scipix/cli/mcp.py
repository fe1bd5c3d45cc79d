"""``scipix mcp``: scipix's tools for AI assistants over the Model Context Protocol, on stdio
(what Claude Desktop and IDE agents start) or, with ``--http``, streamable HTTP at ``/mcp``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scipix.cli.common import state, stderr_console
from scipix.errors import ConfigError


def mcp_command(
    ctx: typer.Context,
    http: Annotated[
        bool, typer.Option("--http", help="Serve streamable HTTP at /mcp instead of stdio.")
    ] = False,
    host: Annotated[
        str | None,
        typer.Option("--host", help="--http: address to bind (default: mcp.host, loopback)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help="--http: port (default: mcp.port)."),
    ] = None,
) -> None:
    """Serve OCR and LaTeX tools to AI assistants (MCP). Off loopback, --http needs API keys
    (scipix keys create); files are read only inside mcp.roots (default: this folder)."""
    try:
        from scipix.mcp.server import build_server
        from scipix.mcp.tools import Toolbox
    except ImportError as exc:
        raise ConfigError(
            f"scipix mcp needs the mcp extra: pip install 'scipix[mcp]' ({exc})"
        ) from exc
    from scipix.service import Scipix

    settings = state(ctx).settings()
    with Scipix(settings) as service:
        toolbox = Toolbox(service, settings)
        server = build_server(toolbox)
        if any(folder == Path(folder.anchor) for folder in toolbox.roots.folders):
            stderr_console().print(
                "[yellow]mcp: the tools may read every file (a root is /): set mcp.roots, e.g. "
                "SCIPIX_MCP__ROOTS='[\"~/papers\"]'[/yellow]"
            )
        if not http:
            server.run("stdio")
            return
        from scipix.mcp.http import serve_http
        from scipix.server.auth import is_loopback

        host = host or settings.mcp.host
        port = settings.mcp.port if port is None else port
        err = stderr_console()
        if not is_loopback(host) and host != "localhost":
            err.print(f"[yellow]listening on {host}: every request needs an API key[/yellow]")
        err.print(f"scipix MCP on http://{host}:{port}/mcp (roots: {toolbox.roots.describe()})")
        serve_http(server, settings, host, port)
