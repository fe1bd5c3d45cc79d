"""Receiving a document for ``POST /v3/pdf``: a multipart ``file`` (+ ``options_json``) streamed
to disk, or a JSON body whose ``url`` is fetched (when the server allows it).

The size limit (``documents.max_bytes``) is checked on the declared length before anything is
read, and on the bytes as they arrive: a 1 GB upload is refused (``sys_request_too_large``)
without being read or held. The file goes to ``<data_dir>/pdfs/<pdf_id>.pdf`` (written under a
temporary name and renamed, so a half-written file is never taken for a document).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import anyio
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message, Receive

from scipix.errors import (
    PdfMissingError,
    RequestTooLargeError,
)
from scipix.server.callbacks import checked_callback
from scipix.server.fetch import fetch_image
from scipix.server.intake import form_options, parse_form, parse_json_object, read_body
from scipix.server.pdfoptions import PdfCall, pdf_options
from scipix.settings import Settings

#: Room for the multipart framing and options_json beside the file itself.
FORM_OVERHEAD = 1_000_000
_FORM_FIELDS = ("file", "options_json")


class PdfForm(BaseModel):
    """A ``multipart/form-data`` body: the document and the options as one JSON field."""

    file: bytes = Field(b"", description="The document: a PDF (or an image of one page).")
    options_json: str = Field(
        "{}", description="Every option, as one JSON object (the JSON body without url)."
    )


@dataclass(frozen=True)
class Upload:
    """A received document: its checked options, and its name (a file name or the URL)."""

    call: PdfCall
    input_file: str
    size: int


def _too_large(limit: int) -> RequestTooLargeError:
    return RequestTooLargeError(f"The document is larger than {limit} bytes", limit=limit)


def _capped(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _too_large(limit)
        return message

    return capped


def _declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isascii() and declared.isdigit() else None


def _save(source: IO[bytes], target: Path, limit: int) -> int:
    """Copy ``source`` to ``target`` (through a temporary name); its size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with partial.open("wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
        size = out.tell()
    if size > limit:
        partial.unlink()
        raise _too_large(limit)
    os.replace(partial, target)
    return size


async def receive_form(request: Request, target: Path, settings: Settings) -> Upload:
    """A multipart upload: ``file`` saved to ``target``, ``options_json`` parsed."""
    limit = settings.documents.max_bytes
    declared = _declared_length(request)
    if declared is not None and declared > limit + FORM_OVERHEAD:
        raise _too_large(limit)
    capped = Request(request.scope, receive=_capped(request.receive, limit + FORM_OVERHEAD))
    form = await parse_form(capped, max_files=1, max_fields=len(_FORM_FIELDS))
    try:
        call = pdf_options(await form_options(form, _FORM_FIELDS, "document", FORM_OVERHEAD))
        await checked_callback(call.request_args, settings.server)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise PdfMissingError("No document: send it as the multipart 'file'")
        size = await anyio.to_thread.run_sync(_save, upload.file, target, limit)
        if size == 0:
            target.unlink()
            raise PdfMissingError("The uploaded file is empty")
        name = (upload.filename or "document.pdf")[:255]
    finally:
        await form.close()
    return Upload(call, name, size)


async def receive_json(request: Request, target: Path, settings: Settings) -> Upload:
    """A JSON body: the document fetched from its ``url`` and saved to ``target``."""
    call = pdf_options(parse_json_object(await read_body(request, settings.server.max_body_bytes)))
    await checked_callback(call.request_args, settings.server)
    url = call.url
    if not url:
        raise PdfMissingError("No document: send a multipart 'file', or 'url' in a JSON body")
    fetching = settings.server.model_copy(update={"url_max_bytes": settings.documents.max_bytes})
    data = await fetch_image(url, fetching)
    if not data:
        raise PdfMissingError(f"{url!r} answered an empty document")
    await anyio.to_thread.run_sync(_write, target, data)
    return Upload(call, url[:1024], len(data))


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, target)


async def receive_document(request: Request, target: Path, settings: Settings) -> Upload:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        return await receive_form(request, target, settings)
    return await receive_json(request, target, settings)
