"""The tools over the larger features, each a thin call of its package's public API:
``ocr_pdf`` (:mod:`scipix.documents`), ``search_memory`` (:mod:`scipix.memory`) and
``submit_correction`` (the learning loop, through :meth:`Scipix.correct`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from scipix.documents import (
    DocumentOptions,
    OpenedDocument,
    PageResult,
    assemble,
    open_document,
    read_page,
)
from scipix.errors import InputError, PdfMissingError, RequestTooLargeError
from scipix.mcp import models
from scipix.mcp.results import READ_ONLY, Answer, failure, success
from scipix.mcp.tools import Toolbox
from scipix.memory.cache import LOCAL_SCOPE
from scipix.memory.search import search_formula


@dataclass
class PdfJob:
    doc: OpenedDocument
    indices: list[int]
    options: DocumentOptions


def open_pdf(toolbox: Toolbox, location: str, pages: str | None) -> PdfJob:
    """The document at ``location`` (inside the roots) and the pages to read."""
    path = toolbox.roots.file(location, PdfMissingError)
    limits, ocr = toolbox.settings.documents, toolbox.settings.ocr
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise RequestTooLargeError(
            f"{location} has {size:,} bytes; at most {limits.max_bytes:,} (documents.max_bytes)"
        )
    options = DocumentOptions(
        page_ranges=pages,
        dpi=limits.dpi,
        math_inline_delimiters=ocr.math_inline_delimiters,
        math_display_delimiters=ocr.math_display_delimiters,
    )
    doc = open_document(path.read_bytes(), max_pages=limits.max_pages, max_bytes=limits.max_bytes)
    indices = options.select_pages(doc.num_pages)
    if not indices:
        doc.close()
        raise InputError(f"pages {pages!r} selects none of the {doc.num_pages} pages")
    return PdfJob(doc, indices, options)


def reading(job: PdfJob, done: list[PageResult]) -> models.PdfReading:
    pages = [
        models.PdfPage(
            page=p.page,
            source=p.source,
            error=models.ErrorBody(id=p.error.id, message=p.error.message) if p.error else None,
        )
        for p in done
    ]
    mmd = assemble(done, job.options).to_mmd()
    return models.PdfReading(mmd=mmd, num_pages=job.doc.num_pages, pages=pages)


def find_in_memory(toolbox: Toolbox, latex: str, k: int) -> models.MemorySearch:
    store = toolbox.service.memory_store()
    if store is None:
        raise InputError("the memory is off (memory.enabled = false in scipix.toml)")
    dim = toolbox.settings.memory.latex_dim
    found = search_formula(store, latex, k, scope=LOCAL_SCOPE, dim=dim)
    hits = [
        models.MemoryHit(
            id=f.id,
            score=round(f.score, 4),
            match=f.match,
            latex=f.latex,
            request_id=f.payload.get("request_id"),
        )
        for f in found
    ]
    return models.MemorySearch(results=hits)


def keep_correction(
    toolbox: Toolbox, latex: str, path: str | None, request_id: str | None
) -> models.CorrectionReceipt:
    if path is None and request_id is None:
        raise InputError("give the image (path) or the request_id of the result you correct")
    image = toolbox.roots.image_file(path) if path is not None else None
    original = None
    record = toolbox.recent.get(request_id) if request_id is not None else None
    if record is not None:
        original = record.result.get("latex_styled") or record.result.get("text")
    kept = toolbox.service.correct(latex, image=image, request_id=request_id, original=original)
    return models.CorrectionReceipt(
        correction_id=kept.id,
        latex=kept.latex,
        request_id=kept.request_id,
        original_latex=kept.original_latex,
        remembered=kept.thumb is not None or kept.input_hash is not None,
    )


def register_feature_tools(server: MCPServer, toolbox: Toolbox, answer: Answer) -> None:
    @server.tool(
        description="Read a PDF (or an image of a page) into Mathpix Markdown, page by page.",
        annotations=READ_ONLY,
    )
    async def ocr_pdf(
        ctx: Context,
        path: Annotated[str, Field(description="A PDF file (path or file:// URI) in the roots.")],
        pages: Annotated[
            str | None, Field(description='Pages to read, e.g. "1-3,5" or "2 - -1" (all).')
        ] = None,
    ) -> Annotated[CallToolResult, models.PdfReading]:
        try:
            job = await anyio.to_thread.run_sync(open_pdf, toolbox, path, pages)
        except Exception as exc:
            return failure(exc)
        done: list[PageResult] = []
        try:
            for index in job.indices:
                # one page at a time: a cancelled call stops between pages
                page = partial(read_page, job.doc, index, toolbox.service, job.options)
                done.append(await anyio.to_thread.run_sync(page))
                await ctx.report_progress(len(done), len(job.indices), f"page {index + 1}")
            return success(await anyio.to_thread.run_sync(reading, job, done))
        except Exception as exc:
            return failure(exc)
        finally:
            job.doc.close()

    @server.tool(
        description="Find formulas read before that equal or resemble a LaTeX formula.",
        annotations=READ_ONLY,
    )
    async def search_memory(
        latex: Annotated[str, Field(description="The formula to look for, in LaTeX.")],
        k: Annotated[int, Field(ge=1, le=100, description="How many results.")] = 10,
    ) -> Annotated[CallToolResult, models.MemorySearch]:
        result: CallToolResult = await answer(lambda: find_in_memory(toolbox, latex, k))
        return result

    @server.tool(
        description="Teach scipix the right LaTeX for an image it misread (path or request_id).",
    )
    async def submit_correction(
        latex: Annotated[str, Field(description="The correct LaTeX of the image.")],
        path: Annotated[str | None, Field(description="The image file, in the roots.")] = None,
        request_id: Annotated[
            str | None, Field(description="The request_id of the result being corrected.")
        ] = None,
    ) -> Annotated[CallToolResult, models.CorrectionReceipt]:
        result: CallToolResult = await answer(
            lambda: keep_correction(toolbox, latex, path, request_id)
        )
        return result
