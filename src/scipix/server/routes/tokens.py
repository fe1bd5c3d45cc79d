"""``POST /v3/app-tokens`` (short-lived client-side credentials), ``GET`` and ``DELETE``."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from scipix.errors import OptionsError, TokenUnknownError, ValueOutOfRangeError
from scipix.schema import OptionsModel
from scipix.server.auth import Principal
from scipix.server.deps import app_key_principal
from scipix.server.intake import parse_json_object, read_body
from scipix.server.openapi import request_body
from scipix.server.state import server_state

router = APIRouter(tags=["app-tokens"])
Caller = Annotated[Principal, Depends(app_key_principal)]
DEFAULT_EXPIRES_S = 300
MIN_EXPIRES_S = 30
MAX_EXPIRES_S = 43200
MAX_STROKES_EXPIRES_S = 300


class AppTokenRequest(OptionsModel):
    """The JSON body of ``POST /v3/app-tokens``, checked as Mathpix does (other keys ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    include_strokes_session_id: bool = Field(
        False,
        strict=True,
        description=f"A digital-ink session's token (expires: at most {MAX_STROKES_EXPIRES_S}).",
    )
    expires: float = Field(
        DEFAULT_EXPIRES_S,
        ge=MIN_EXPIRES_S,
        le=MAX_EXPIRES_S,
        strict=True,
        description="The token's lifetime, in seconds.",
    )
    user_id: str | None = Field(None, description="Your id of the user the token is for.")

    @field_validator("expires")
    @classmethod
    def _strokes_limit(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("include_strokes_session_id") and value > MAX_STROKES_EXPIRES_S:
            raise ValueOutOfRangeError(
                f"expires must be in [{MIN_EXPIRES_S}, {MAX_STROKES_EXPIRES_S}] seconds for a"
                " strokes session",
                name="expires",
                value=value,
            )
        return value


def token_request(body: dict[str, Any]) -> tuple[int, bool, str | None]:
    """``(expires, include_strokes_session_id, user_id)`` checked as Mathpix does."""
    request = AppTokenRequest.model_validate(body)
    return int(request.expires), request.include_strokes_session_id, request.user_id


@router.post(
    "/v3/app-tokens",
    summary="Create an app token (Mathpix v3/app-tokens)",
    openapi_extra=request_body(AppTokenRequest, required=False),
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
