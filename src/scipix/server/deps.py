"""FastAPI dependencies: the authenticated, rate-limited caller of a route.

They are plain functions, so FastAPI runs them in its thread pool and the SQLite look-ups stay off
the event loop. The ``Security`` parameters only document the headers in the OpenAPI schema;
the values are read from the request by :class:`~scipix.server.auth.Authenticator`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from scipix.server.auth import Credential, Principal
from scipix.server.state import server_state

APP_ID = APIKeyHeader(name="app_id", auto_error=False, scheme_name="app_id")
APP_KEY = APIKeyHeader(name="app_key", auto_error=False, scheme_name="app_key")
APP_TOKEN = APIKeyHeader(name="app_token", auto_error=False, scheme_name="app_token")

AppIdHeader = Annotated[str | None, Security(APP_ID)]
AppKeyHeader = Annotated[str | None, Security(APP_KEY)]
AppTokenHeader = Annotated[str | None, Security(APP_TOKEN)]


def _principal(request: Request, accepts: Credential) -> Principal:
    state = server_state(request)
    host = request.client.host if request.client else None
    principal = state.auth.identify(request.headers, host, accepts)
    state.auth.admit(principal)
    return principal


def key_principal(request: Request, _id: AppIdHeader, _key: AppKeyHeader) -> Principal:
    """``app_id`` + ``app_key``."""
    return _principal(request, Credential.KEY)


def key_or_token_principal(
    request: Request, _id: AppIdHeader, _key: AppKeyHeader, _token: AppTokenHeader
) -> Principal:
    """``app_id`` + ``app_key``, or ``app_token`` (``/v3/text``, ``/v3/latex``)."""
    return _principal(request, Credential.KEY_OR_TOKEN)


def app_key_principal(request: Request, _id: AppIdHeader, _key: AppKeyHeader) -> Principal:
    """``app_key``, with or without ``app_id`` (``/v3/ocr-results``, ``/v3/app-tokens``)."""
    return _principal(request, Credential.APP_KEY)
