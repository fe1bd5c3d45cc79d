"""``POST /v3/text`` and ``POST /v3/latex``: one image in, one Mathpix-shaped result out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from scipix.errors import ScipixError
from scipix.schema import Result, new_request_id
from scipix.server.auth import Principal
from scipix.server.deps import key_or_token_principal
from scipix.server.intake import ImageForm, ImageRequest, read_image_request
from scipix.server.legacy import LatexRequest, LatexResponse, latex_options, legacy_body
from scipix.server.openapi import request_body
from scipix.server.options import CallOptions, TextRequest, text_options
from scipix.server.state import ServerState, server_state

router = APIRouter(tags=["ocr"])
Caller = Annotated[Principal, Depends(key_or_token_principal)]
Shape = Callable[[Result], dict[str, Any]]
_ANSWER = "The result, or an error envelope (error, error_info)"
_FAILURES: dict[int | str, dict[str, Any]] = {
    401: {"description": "http_unauthorized: missing, wrong or revoked credentials"},
    429: {"description": "http_max_requests: past the key's per-minute limit"},
}


async def _recognize_call(
    state: ServerState,
    principal: Principal,
    endpoint: str,
    incoming: ImageRequest,
    call: CallOptions,
    shape: Shape,
    started: float,
) -> JSONResponse:
    """Fetch or decode the image, recognize it off the event loop, record it, answer."""
    try:
        image = await incoming.image_bytes(state.settings.server)
        result = await state.recognize(image, call.recognize, principal.app_id)
    except ScipixError as error:
        body = error.to_mathpix()
        await state.record(
            principal, endpoint, call, body, started, new_request_id(), usage_type=None
        )
        raise
    body = shape(result)
    await state.record(
        principal, endpoint, call, body, started, result.request_id, force_history=call.is_async
    )
    if call.is_async:
        return JSONResponse({"request_id": result.request_id})
    return JSONResponse(body)


async def _handle(
    request: Request,
    principal: Principal,
    endpoint: str,
    parse: Callable[[dict[str, Any], Principal], tuple[CallOptions, Shape]],
) -> JSONResponse:
    state = server_state(request)
    started = time.perf_counter()
    incoming = await read_image_request(request, state.settings.server)
    call, shape = parse(incoming.options, principal)
    return await _recognize_call(state, principal, endpoint, incoming, call, shape, started)


def _text_call(options: dict[str, Any], principal: Principal) -> tuple[CallOptions, Shape]:
    return text_options(options, principal), Result.to_mathpix


def _latex_call(options: dict[str, Any], principal: Principal) -> tuple[CallOptions, Shape]:
    legacy = latex_options(options, principal)
    return legacy.call, lambda result: legacy_body(result, legacy.formats)


@router.post(
    "/v3/text",
    summary="Recognize an image (Mathpix v3/text)",
    openapi_extra=request_body(TextRequest, form=ImageForm),
    responses={200: {"model": Result, "description": _ANSWER}, **_FAILURES},
    response_model=None,
)
async def v3_text(request: Request, principal: Caller) -> JSONResponse:
    """JSON ``{"src": data URI or URL, ...options}`` or multipart ``file`` + ``options_json``."""
    return await _handle(request, principal, "/v3/text", _text_call)


@router.post(
    "/v3/latex",
    summary="Recognize one formula (Mathpix's legacy v3/latex)",
    openapi_extra=request_body(LatexRequest, form=ImageForm),
    responses={200: {"model": LatexResponse, "description": _ANSWER}, **_FAILURES},
    response_model=None,
)
async def v3_latex(request: Request, principal: Caller) -> JSONResponse:
    """Legacy shapes: each of ``formats`` becomes a top-level key (default: ``latex``)."""
    return await _handle(request, principal, "/v3/latex", _latex_call)
