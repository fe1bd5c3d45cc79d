"""``/v3/converter`` as Mathpix serves it: convert Mathpix Markdown (``POST``), then the status of
a conversion or of a PDF's conversions (``GET /v3/converter/{id}``), downloads
(``GET /v3/converter/{id}.{ext}``: HTTP 404 until the format is made, as mpxpy expects),
``DELETE`` and ``GET /v3/converter-results``. Only ``app_id`` + ``app_key`` may use these routes;
each key sees only its own conversions.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from scipix.documents.convert import MMD_FORMATS
from scipix.errors import PdfUnknownIdError
from scipix.server.auth import Principal
from scipix.server.converter import (
    MAX_BODY_BYTES,
    ConverterRequest,
    ConverterRunner,
    converter_request,
    not_made,
)
from scipix.server.deps import app_key_principal, key_principal
from scipix.server.intake import parse_json_object, read_body
from scipix.server.openapi import request_body
from scipix.server.pdfoptions import requested_conversions
from scipix.server.pdfoutputs import MEDIA_TYPES
from scipix.server.routes.pdf import new_pdf_id, pdf_runner

router = APIRouter(tags=["converter"])
Caller = Annotated[Principal, Depends(key_principal)]
ConversionId = Annotated[
    str, Path(max_length=128, description="A conversion_id, or a pdf_id (its conversions).")
]
_MEDIA = {**MEDIA_TYPES, "mmd": "text/plain; charset=utf-8"}


def converter_runner(request: Request) -> ConverterRunner:
    runner: ConverterRunner = request.app.state.converter
    return runner


@router.post(
    "/v3/converter",
    summary="Convert Mathpix Markdown (Mathpix v3/converter)",
    openapi_extra=request_body(ConverterRequest),
    response_model=None,
)
async def v3_converter_new(request: Request, principal: Caller) -> JSONResponse:
    """``{"mmd": ..., "formats": {"docx": true, ...}}`` -> ``{"conversion_id": ...}``; poll
    ``GET /v3/converter/{conversion_id}``."""
    conversion = converter_request(parse_json_object(await read_body(request, MAX_BODY_BYTES)))
    runner = converter_runner(request)
    conversion_id = new_pdf_id()
    await anyio.to_thread.run_sync(
        runner.store.create, conversion_id, principal.app_id, conversion, runner.owner
    )
    runner.start(conversion_id, conversion)
    return JSONResponse({"conversion_id": conversion_id})


def _pdf_conversions(request: Request, app_id: str, pdf_id: str) -> dict[str, Any]:
    """A PDF's conversions (the formats named in its ``conversion_formats``)."""
    store = pdf_runner(request).store
    row = store.row(app_id, pdf_id)
    wanted = requested_conversions(json.loads(row["request_args"]))
    if row["status"] != "completed":
        state = "error" if row["status"] == "error" else "processing"
        body: dict[str, Any] = {
            "status": state,
            "conversion_status": {fmt: {"status": state} for fmt in wanted},
        }
        if row["error"]:
            body.update(json.loads(row["error"]))
        return body
    made = store.conversions(pdf_id)
    status = {fmt: made.get(fmt, {"status": "error"}) for fmt in wanted}
    return {"status": "completed", "conversion_status": status}


@router.get(
    "/v3/converter/{conversion_id}.{ext}",
    summary="Download a converted file (docx, tex.zip, html, pptx, latex.pdf, ...)",
    response_model=None,
    responses={200: {"description": "The file"}, 404: {"description": "Not (yet) made"}},
)
async def v3_converter_download(
    conversion_id: ConversionId,
    ext: Annotated[str, Path(max_length=32, description=", ".join(MMD_FORMATS))],
    request: Request,
    principal: Caller,
) -> Response:
    """The format once made; HTTP 404 (with the reason) before, or when unknown or failed."""
    conversion_id, _, ext = f"{conversion_id}.{ext}".partition(".")
    store = converter_runner(request).store
    if ext not in MMD_FORMATS:
        return JSONResponse(not_made(ext).to_mathpix(), status_code=404)
    try:
        found = await anyio.to_thread.run_sync(store.output, principal.app_id, conversion_id, ext)
    except PdfUnknownIdError as error:
        return JSONResponse(error.to_mathpix(), status_code=404)
    if found is None or found[0] != "completed":
        message = f"{ext} was not asked for" if found is None else f"{ext} is {found[0]}"
        body = found[1] if found is not None and found[0] == "error" else None
        body = body or {
            "error": message,
            "error_info": {"id": "http_not_found", "message": message},
        }
        return JSONResponse(body, status_code=404)
    return Response(
        bytes(found[1]),
        media_type=_MEDIA[ext],
        headers={"Content-Disposition": f'attachment; filename="{conversion_id}.{ext}"'},
    )


@router.get("/v3/converter/{conversion_id}", summary="Status of a conversion", response_model=None)
async def v3_converter_status(
    conversion_id: ConversionId, request: Request, principal: Caller
) -> JSONResponse:
    """``{"status", "conversion_status": {format: {"status": "processing"|"completed"|"error",
    "error_info"?}}}`` of a conversion, or of the formats a PDF's ``conversion_formats`` named."""
    store = converter_runner(request).store

    def read() -> dict[str, Any]:
        if store.row(principal.app_id, conversion_id) is not None:
            return store.status(principal.app_id, conversion_id)
        return _pdf_conversions(request, principal.app_id, conversion_id)

    return JSONResponse(await anyio.to_thread.run_sync(read))


@router.delete(
    "/v3/converter/{conversion_id}",
    summary="Delete a conversion and its files",
    response_model=None,
    responses={404: {"description": "Unknown conversion_id"}},
)
async def v3_converter_delete(
    conversion_id: ConversionId, request: Request, principal: Caller
) -> JSONResponse:
    store = converter_runner(request).store
    try:
        body = await anyio.to_thread.run_sync(store.delete, principal.app_id, conversion_id)
    except PdfUnknownIdError as error:
        return JSONResponse(error.to_mathpix(), status_code=404)
    return JSONResponse(body)


@router.get("/v3/converter-results", summary="List past conversions")
async def converter_results(
    request: Request,
    principal: Annotated[Principal, Depends(app_key_principal)],
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """``{"documents": [{id, input_file, status, created_at, modified_at, request_args}]}``."""
    store = converter_runner(request).store
    found = await anyio.to_thread.run_sync(store.results, principal.app_id, page, per_page)
    return JSONResponse({"documents": found})
