"""``POST /v3/strokes``: pen strokes in, the ``/v3/text`` answer out (Mathpix's digital ink).

The body is JSON: ``{"strokes": {"strokes": {"x": [[...], ...], "y": [[...], ...]}}}``, the
``/v3/text`` options (``formats``, ``data_options``, delimiters, ``metadata``, ``tags``, ...)
and optionally ``strokes_session_id``, which must come with the ``app_token`` header of the
token that was created with it (``POST /v3/app-tokens`` with ``include_strokes_session_id``).
The body may be at most ``ink.max_body_bytes`` (Mathpix: 512 KB); strokes are checked against
the ``[ink]`` limits (``strokes_syntax_error``). The strokes are drawn the way the model's
handwriting training images look and read; ``is_handwritten`` is true by construction.
Usage (``strokes``, or ``strokes-session`` in a session) and history are recorded like
``/v3/text``.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model

from scipix.errors import ScipixError, TokenError
from scipix.ink import Ink, InkLimits, ink_from_mathpix
from scipix.schema import RecognizeOptions, Result, new_request_id
from scipix.server.auth import Principal
from scipix.server.deps import key_or_token_principal
from scipix.server.intake import parse_json_object, read_body
from scipix.server.openapi import request_body
from scipix.server.options import (
    ACCEPTED_NOT_APPLIED,
    CallOptions,
    ServerOptions,
    accepted_fields,
    text_options,
)
from scipix.server.state import ServerState, server_state

router = APIRouter(tags=["ocr"])
Caller = Annotated[Principal, Depends(key_or_token_principal)]
ENDPOINT = "/v3/strokes"


class StrokeLists(BaseModel):
    """One inner list per stroke (pen down to pen up); x[i] and y[i] have the same length."""

    x: list[list[float]]
    y: list[list[float]]


class StrokesField(BaseModel):
    strokes: StrokeLists


class _StrokesBody(RecognizeOptions, ServerOptions):
    model_config = ConfigDict(frozen=True, extra="forbid")

    strokes: StrokesField = Field(description="The pen strokes (double-nested, as Mathpix).")
    strokes_session_id: str | None = Field(
        None, description="The digital-ink session of the app_token sent with the request."
    )


StrokesRequest = create_model(
    "StrokesRequest",
    __base__=_StrokesBody,
    __module__=__name__,
    __doc__="The JSON body of ``POST /v3/strokes``: the strokes and the /v3/text options.",
    **accepted_fields(ACCEPTED_NOT_APPLIED),
)


async def _check_session(
    request: Request, state: ServerState, principal: Principal, sent: Any
) -> str:
    """The usage type: ``strokes-session`` for a session id that matches the caller's token."""
    if sent is None:
        return "strokes"
    if not isinstance(sent, str) or not principal.via_token or principal.key is None:
        raise TokenError("strokes_session_id must be sent with the app_token it was created with")
    token = request.headers.get("app_token", "")
    found = await anyio.to_thread.run_sync(state.keys.get_token, principal.key, token)
    if found is None or found.strokes_session_id != sent:
        raise TokenError("strokes_session_id does not belong to this app_token")
    return "strokes-session"


async def _read(request: Request, state: ServerState) -> tuple[Ink, dict[str, Any]]:
    body = await read_body(request, state.settings.ink.max_body_bytes)
    options = parse_json_object(body)
    limits = InkLimits.from_settings(state.settings.ink)
    ink = await anyio.to_thread.run_sync(ink_from_mathpix, options.pop("strokes", None), limits)
    return ink, options


async def _answer(
    state: ServerState,
    principal: Principal,
    call: CallOptions,
    ink: Ink,
    usage: str,
    started: float,
) -> JSONResponse:
    try:
        result: Result = await state.recognize_ink(ink, call.recognize)
    except ScipixError as error:
        failed = error.to_mathpix()
        await state.record(
            principal, ENDPOINT, call, failed, started, new_request_id(), usage_type=None
        )
        raise
    body = result.to_mathpix()
    await state.record(
        principal,
        ENDPOINT,
        call,
        body,
        started,
        result.request_id,
        usage_type=usage,
        force_history=call.is_async,
    )
    if call.is_async:
        return JSONResponse({"request_id": result.request_id})
    return JSONResponse(body)


@router.post(
    ENDPOINT,
    summary="Recognize pen strokes (Mathpix v3/strokes)",
    openapi_extra=request_body(StrokesRequest),
    responses={
        200: {"model": Result, "description": "The result, or an error envelope"},
        401: {"description": "http_unauthorized: missing, wrong or revoked credentials"},
        429: {"description": "http_max_requests: past the key's per-minute limit"},
    },
    response_model=None,
)
async def v3_strokes(request: Request, principal: Caller) -> JSONResponse:
    """``{"strokes": {"strokes": {"x": [[...]], "y": [[...]]}}, ...v3/text options}``."""
    state = server_state(request)
    started = time.perf_counter()
    ink, options = await _read(request, state)
    usage = await _check_session(request, state, principal, options.pop("strokes_session_id", None))
    call = text_options(options, principal)
    return await _answer(state, principal, call, ink, usage, started)
