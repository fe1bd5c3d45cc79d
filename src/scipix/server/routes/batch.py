"""``POST /v3/batch`` and ``GET /v3/batch/{batch_id}``."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from scipix.server.auth import Principal
from scipix.server.batch import BatchRequest, BatchRunner, parse_batch
from scipix.server.callbacks import checked_callback
from scipix.server.deps import key_or_token_principal, key_principal
from scipix.server.intake import parse_json_object, read_body
from scipix.server.openapi import request_body
from scipix.server.state import server_state

router = APIRouter(tags=["batch"])


def batch_runner(request: Request) -> BatchRunner:
    runner: BatchRunner = request.app.state.batches
    return runner


@router.post(
    "/v3/batch",
    summary="Submit many images (Mathpix v3/batch)",
    openapi_extra=request_body(BatchRequest),
    response_model=None,
)
async def v3_batch(
    request: Request, principal: Annotated[Principal, Depends(key_or_token_principal)]
) -> JSONResponse:
    """``{"urls": {key: data URI or URL}, "ocr_behavior": "latex"|"text", ...}`` ->
    ``{"batch_id": "17"}``; poll ``GET /v3/batch/{batch_id}``, or name a ``callback``
    (``{"post": url, ...}``, when ``server.callbacks`` is on) to be sent the results."""
    state = server_state(request)
    body = parse_json_object(await read_body(request, state.settings.server.max_body_bytes))
    hook = {"callback": body.pop("callback")} if body.get("callback") is not None else {}
    items = parse_batch(body, principal)
    callback = await checked_callback(hook, state.settings.server)
    runner = batch_runner(request)
    batch_id = await anyio.to_thread.run_sync(
        runner.store.create, principal.app_id, [item.key for item in items]
    )
    runner.start(batch_id, items, principal, callback)
    return JSONResponse({"batch_id": str(batch_id)})


@router.get("/v3/batch/{batch_id}", summary="Batch results so far", response_model=None)
async def v3_batch_get(
    batch_id: str, request: Request, principal: Annotated[Principal, Depends(key_principal)]
) -> JSONResponse:
    """``{"keys": [...], "results": {key: result}}``; done when every key has a result."""
    runner = batch_runner(request)
    found = await anyio.to_thread.run_sync(runner.store.get, principal.app_id, batch_id)
    return JSONResponse(found)
