"""``scipix mcp --http``: the MCP server over streamable HTTP (the endpoint is ``/mcp``).

Bound to a loopback address (the default, ``mcp.host``), only this machine can connect and no
key is asked for. Anywhere else every request needs an API key of ``scipix serve`` (``scipix
keys create``): the ``app_id`` + ``app_key`` headers, ``app_key`` alone, or ``Authorization:
Bearer <app_key>``, checked against the same SHA-256 hashes by the server's own
:class:`~scipix.server.auth.Authenticator` and counted against the key's rate limit. A refused
request gets the API's 401 (or 429) with its Mathpix error body.
"""

from __future__ import annotations

import json

import anyio.to_thread
import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Receive, Scope, Send

from scipix.errors import AuthError, RateLimitError, ScipixError, mathpix_error
from scipix.server.auth import Authenticator, Credential, is_loopback
from scipix.server.keys import KeyStore
from scipix.server.ledger import Ledger
from scipix.server.store import Database
from scipix.settings import Settings

#: Room for the JSON around a base64 image of ``preprocessing.max_bytes``.
ENVELOPE_BYTES = 64 * 1024


def request_limit(settings: Settings) -> int:
    """The largest request body: a base64 image of ``preprocessing.max_bytes`` and its JSON."""
    return 4 * -(-settings.preprocessing.max_bytes // 3) + ENVELOPE_BYTES


def credentials(scope: Scope) -> Headers:
    """The request's headers, with ``Authorization: Bearer <key>`` read as ``app_key``."""
    headers = MutableHeaders(raw=list(scope["headers"]))
    bearer = headers.get("authorization", "")
    if bearer.lower().startswith("bearer ") and "app_key" not in headers:
        headers["app_key"] = bearer[7:].strip()
    return headers


class KeyGate:
    """ASGI middleware: requests need an API key unless the server and the caller are both on
    loopback addresses."""

    def __init__(self, app: ASGIApp, auth: Authenticator, bind_host: str) -> None:
        self.app = app
        self.auth = auth
        self.local_only = is_loopback(bind_host) or bind_host == "localhost"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        host = client[0] if client else None
        if not (self.local_only and is_loopback(host)):
            try:
                await anyio.to_thread.run_sync(self.admit, credentials(scope), host)
            except (AuthError, RateLimitError) as exc:
                await refuse(exc, send)
                return
        await self.app(scope, receive, send)

    def admit(self, headers: Headers, host: str | None) -> None:
        principal = self.auth.identify(headers, host, Credential.APP_KEY)
        self.auth.admit(principal)


async def refuse(error: ScipixError, send: Send) -> None:
    status, body = mathpix_error(error)
    payload = json.dumps(body).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="scipix"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def http_app(server: MCPServer, settings: Settings, host: str) -> ASGIApp:
    """The server's streamable HTTP app behind the key gate."""
    app = server.streamable_http_app(host=host, max_request_body_size=request_limit(settings))
    db = Database.in_dir(settings.runtime.data_dir)
    auth = Authenticator(KeyStore(db), Ledger(db), settings.server)
    return KeyGate(app, auth, host)


def serve_http(server: MCPServer, settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    level = "info" if settings.runtime.log_level == "debug" else settings.runtime.log_level
    uvicorn.run(http_app(server, settings, host), host=host, port=port, log_level=level)
