"""``/v3/pdf`` as Mathpix serves it: upload, status, conversions, downloads, delete, list.

``POST /v3/pdf`` stores the document and queues it (``{"pdf_id": ...}``); any worker process
reads it in the background (:mod:`scipix.server.pdfjobs`). ``GET /v3/pdf/{pdf_id}`` says how far
it is, ``GET /v3/converter/{pdf_id}`` (:mod:`.converter`) how its requested conversions are, and
``GET /v3/pdf/{pdf_id}.{ext}`` downloads an output once the document is ``completed`` (HTTP 404
before, as Mathpix: clients take it for "not ready"). A format that was not requested is made
on its first download. ``DELETE /v3/pdf/{pdf_id}`` removes the file, the pages and the outputs at
any time (a document still being read stops). ``GET /v3/pdf/{pdf_id}/stream`` sends the pages
as server-sent events as they are read (:mod:`scipix.server.pdfstream`). Only ``app_id`` +
``app_key`` may use these routes (no app tokens), and each key sees only its own documents.
"""

from __future__ import annotations

import json
import secrets
from contextlib import suppress
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from scipix.errors import PdfUnknownIdError, ScipixError, UnknownFormatError
from scipix.server.auth import Principal
from scipix.server.deps import app_key_principal, key_principal
from scipix.server.openapi import request_body
from scipix.server.pdfintake import PdfForm, receive_document
from scipix.server.pdfjobs import PdfRunner
from scipix.server.pdfoptions import (
    OUTPUT_FORMATS,
    PdfRequest,
    document_options,
)
from scipix.server.pdfoutputs import MEDIA_TYPES, assemble_stored, document_status, make_output
from scipix.server.pdfstore import PdfQuery
from scipix.server.pdfstream import page_events
from scipix.server.routes.history import parse_date
from scipix.server.state import server_state

router = APIRouter(tags=["pdf"])
Caller = Annotated[Principal, Depends(key_principal)]
PdfId = Annotated[str, Path(max_length=128, description="The id POST /v3/pdf answered.")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown pdf_id, or the output is not ready (yet)"}
}


def pdf_runner(request: Request) -> PdfRunner:
    runner: PdfRunner = request.app.state.pdfs
    return runner


def new_pdf_id() -> str:
    """Mathpix's shape: ``2024_12_15_dfc981061e9740db9fd6g``."""
    return datetime.now(UTC).strftime("%Y_%m_%d_") + secrets.token_hex(10) + "g"


@router.post(
    "/v3/pdf",
    summary="Submit a PDF (Mathpix v3/pdf)",
    openapi_extra=request_body(PdfRequest, form=PdfForm),
    response_model=None,
)
async def v3_pdf(request: Request, principal: Caller) -> JSONResponse:
    """Multipart ``file`` + ``options_json``, or JSON ``{"url": ..., ...options}`` ->
    ``{"pdf_id": ...}``; poll ``GET /v3/pdf/{pdf_id}``."""
    state, runner = server_state(request), pdf_runner(request)
    pdf_id = new_pdf_id()
    target = runner.store.path(pdf_id)
    try:
        upload = await receive_document(request, target, state.settings)
        call = upload.call
        keep = principal.history_enabled(state.settings.server.history) and call.improve_mathpix
        await anyio.to_thread.run_sync(
            runner.store.create,
            pdf_id,
            principal.app_id,
            upload.input_file,
            call.request_args,
            keep,
        )
    except BaseException:
        with suppress(OSError):
            target.unlink()
        raise
    runner.wake()
    return JSONResponse({"pdf_id": pdf_id})


def _not_found(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=404)


class _UnavailableError(Exception):
    """Nothing to download (yet): HTTP 404 with this body, as Mathpix answers."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("error"))
        self.body = body


def _not_ready(message: str, **extra: Any) -> _UnavailableError:
    body = {"error": message, "error_info": {"id": "http_not_found", "message": message}}
    return _UnavailableError({**body, **extra})


@router.get(
    "/v3/pdf/{pdf_id}.{ext}",
    summary="Download a result (mmd, md, lines.json, docx, tex.zip, ...)",
    response_model=None,
    responses={200: {"description": "The file"}, **_NOT_FOUND},
)
async def v3_pdf_download(
    pdf_id: PdfId,
    ext: Annotated[str, Path(max_length=32, description=", ".join(OUTPUT_FORMATS))],
    request: Request,
    principal: Caller,
) -> Response:
    """The output in ``ext`` once the document is completed; 404 before (or when unknown)."""
    pdf_id, _, ext = f"{pdf_id}.{ext}".partition(".")  # tex.zip: the id holds no dot
    try:
        if ext not in OUTPUT_FORMATS:
            made = ", ".join(OUTPUT_FORMATS)
            unknown = UnknownFormatError(f"Unknown format {ext!r} (made: {made})")
            raise _UnavailableError(unknown.to_mathpix())
        data = await anyio.to_thread.run_sync(_output, request, principal.app_id, pdf_id, ext)
    except PdfUnknownIdError as error:
        return _not_found(error.to_mathpix())
    except _UnavailableError as missing:
        return _not_found(missing.body)
    return Response(
        data,
        media_type=MEDIA_TYPES[ext],
        headers={"Content-Disposition": f'attachment; filename="{pdf_id}.{ext}"'},
    )


def _output(request: Request, app_id: str, pdf_id: str, fmt: str) -> bytes:
    """The stored output, or (a format not asked for at upload) made now and stored."""
    store = pdf_runner(request).store
    row = store.row(app_id, pdf_id)
    if row["deleted_at"] is not None:
        raise PdfUnknownIdError(f"pdf_id {pdf_id!r} was deleted", pdf_id=pdf_id)
    if row["status"] == "error":
        raise _UnavailableError({**json.loads(row["error"]), "status": "error"})
    if row["status"] != "completed":
        status = row["status"]
        raise _not_ready(f"The document is not completed yet (status: {status})", status=status)
    stored = store.output(app_id, pdf_id, fmt)
    if stored is not None and stored[0] == "completed" and stored[1] is not None:
        return bytes(stored[1])
    if stored is not None and stored[0] == "error":
        raise _not_ready(f"The {fmt} conversion failed")
    settings = server_state(request).settings
    options = document_options(json.loads(row["request_args"]), settings.documents.dpi)
    document = assemble_stored(store, pdf_id, json.loads(row["pages"] or "[]"), options)
    try:
        data = make_output(document, fmt, pdf_id)
    except ScipixError as failed:  # no TeX engine, LaTeX that does not compile, ...
        raise _UnavailableError(failed.to_mathpix()) from None
    store.put_output(pdf_id, fmt, "completed", data, None)
    return data


@router.get("/v3/pdf/{pdf_id}", summary="Processing status of a PDF", response_model=None)
async def v3_pdf_status(pdf_id: PdfId, request: Request, principal: Caller) -> JSONResponse:
    """``{"status": "received"|"loaded"|"split"|"completed"|"error", "num_pages",
    "num_pages_completed", "percent_done", ...}``."""
    store = pdf_runner(request).store
    return JSONResponse(
        await anyio.to_thread.run_sync(document_status, store, principal.app_id, pdf_id)
    )


@router.get(
    "/v3/pdf/{pdf_id}/stream",
    summary="The pages as they are read (server-sent events)",
    response_model=None,
    responses={200: {"content": {"text/event-stream": {}}, "description": "One event a page"}},
)
async def v3_pdf_stream(pdf_id: PdfId, request: Request, principal: Caller) -> Response:
    """``data: {"pdf_id", "page_idx", "pdf_selected_len", "text", "version"}`` for each page as
    it is stored; the stream ends when the document is completed (or after its error)."""
    store = pdf_runner(request).store
    await anyio.to_thread.run_sync(store.row, principal.app_id, pdf_id)  # pdf_unknown_id
    dpi = server_state(request).settings.documents.dpi
    return StreamingResponse(
        page_events(store, principal.app_id, pdf_id, dpi),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.delete(
    "/v3/pdf/{pdf_id}",
    summary="Delete a PDF and its results",
    response_model=None,
    responses=_NOT_FOUND,
)
async def v3_pdf_delete(pdf_id: PdfId, request: Request, principal: Caller) -> JSONResponse:
    """Removes the file, pages and outputs; answers the metadata that is kept."""
    store = pdf_runner(request).store
    try:
        body = await anyio.to_thread.run_sync(store.delete, principal.app_id, pdf_id)
    except PdfUnknownIdError as error:
        return _not_found(error.to_mathpix())
    return JSONResponse(body)


@router.get("/v3/pdf-results", summary="List past PDFs (Mathpix v3/pdf-results)")
async def pdf_results(
    request: Request,
    principal: Annotated[Principal, Depends(app_key_principal)],
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000)] = 100,
    from_date: Annotated[str | None, Query(max_length=64)] = None,
    to_date: Annotated[str | None, Query(max_length=64)] = None,
    app_id: Annotated[str | None, Query(max_length=256)] = None,
    pdf_id: Annotated[str | None, Query(max_length=128)] = None,
) -> JSONResponse:
    """``{"pdfs": [{id, input_file, status, created_at, modified_at, num_pages,
    num_pages_completed, request_args}]}``, newest first."""
    query = PdfQuery(
        page=page,
        per_page=per_page,
        from_ts=parse_date(from_date, "from_date"),
        to_ts=parse_date(to_date, "to_date"),
        pdf_id=pdf_id,
    )
    if app_id and app_id != principal.app_id:
        return JSONResponse({"pdfs": []})
    store = pdf_runner(request).store
    found = await anyio.to_thread.run_sync(store.results, principal.app_id, query)
    return JSONResponse({"pdfs": found})
