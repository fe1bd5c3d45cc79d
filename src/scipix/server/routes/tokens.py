"""``POST /v3/app-tokens`` (short-lived client-side credentials), ``GET`` and ``DELETE``."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from scipix.errors import (
    NumberRequiredError,
    OptionsError,
    TokenUnknownError,
    ValueOutOfRangeError,
)
from scipix.server.auth import Principal
from scipix.server.deps import app_key_principal
from scipix.server.intake import parse_json_object, read_body
from scipix.server.openapi import APP_TOKEN_REQUEST, json_request_body
from scipix.server.state import server_state

router = APIRouter(tags=["app-tokens"])
Caller = Annotated[Principal, Depends(app_key_principal)]
DEFAULT_EXPIRES_S = 300
MAX_EXPIRES_S = 43200
MAX_STROKES_EXPIRES_S = 300


def token_request(body: dict[str, Any]) -> tuple[int, bool, str | None]:
    """``(expires, include_strokes_session_id, user_id)`` checked as Mathpix does."""
    strokes = body.get("include_strokes_session_id", False)
    if not isinstance(strokes, bool):
        raise OptionsError(
            "include_strokes_session_id must be true or false", name="include_strokes_session_id"
        )
    expires = body.get("expires", DEFAULT_EXPIRES_S)
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise NumberRequiredError("expires must be a number of seconds", name="expires")
    top = MAX_STROKES_EXPIRES_S if strokes else MAX_EXPIRES_S
    if not 30 <= expires <= top:
        raise ValueOutOfRangeError(
            f"expires must be in [30, {top}] seconds", name="expires", value=expires
        )
    user_id = body.get("user_id")
    if user_id is not None and not isinstance(user_id, str):
        raise OptionsError("user_id must be a string", name="user_id")
    return int(expires), strokes, user_id


@router.post(
    "/v3/app-tokens",
    summary="Create an app token (Mathpix v3/app-tokens)",
    openapi_extra=json_request_body(APP_TOKEN_REQUEST, required=False),
    response_model=None,
)
async def create_app_token(request: Request, principal: Caller) -> JSONResponse:
    """``{"app_token": "token_...", "app_token_expires_at": <epoch ms>}``."""
    state = server_state(request)
    if principal.key is None:
        raise OptionsError("app tokens need a key: this request came without credentials")
    body = parse_json_object(await read_body(request, state.settings.server.max_body_bytes))
    expires, strokes, user_id = token_request(body)
    token = await anyio.to_thread.run_sync(
        lambda: state.keys.create_token(principal.key, expires, user_id, strokes)  # type: ignore[arg-type]
    )
    return JSONResponse(token.to_mathpix())


def _token_body(principal: Principal, found: Any) -> dict[str, Any]:
    return {
        "app_token": found.app_token,
        "app_token_expires_at": int(found.expires_at * 1000),
        "app_id": found.app_id,
        "group_id": found.app_id,
        "user_id": found.user_id,
    }


@router.get("/v3/app-tokens/{app_token}", summary="An app token's details", response_model=None)
async def get_app_token(app_token: str, request: Request, principal: Caller) -> JSONResponse:
    state = server_state(request)
    if principal.key is None:
        raise TokenUnknownError("Unknown app_token")
    found = await anyio.to_thread.run_sync(state.keys.get_token, principal.key, app_token)
    if found is None:
        raise TokenUnknownError("Unknown app_token")
    return JSONResponse(_token_body(principal, found))


@router.delete("/v3/app-tokens/{app_token}", summary="Revoke an app token", response_model=None)
async def delete_app_token(app_token: str, request: Request, principal: Caller) -> JSONResponse:
    state = server_state(request)
    if principal.key is None:
        raise TokenUnknownError("Unknown app_token")
    found = await anyio.to_thread.run_sync(state.keys.delete_token, principal.key, app_token)
    if found is None:
        raise TokenUnknownError("Unknown app_token")
    return JSONResponse(_token_body(principal, found))
