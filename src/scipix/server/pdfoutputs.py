"""The downloads of a finished document (``GET /v3/pdf/{pdf_id}.{ext}``), made from its stored
page results by the documents package: Mathpix Markdown, Markdown, ``lines.json`` (and the older
``lines.mmd.json``), DOCX, a LaTeX ``tex.zip``, ``md.zip`` / ``mmd.zip``, and (through
:mod:`scipix.documents.convert`) sanitized HTML with MathML, ``html.zip``, PowerPoint and a
compiled ``latex.pdf`` (when a TeX engine is installed)."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Callable
from typing import Any

from scipix.documents import Document, DocumentOptions, PageResult, assemble, convert
from scipix.errors import ScipixError
from scipix.server.pdfoptions import requested_conversions
from scipix.server.pdfstore import PdfStore

log = logging.getLogger("scipix.server")

MEDIA_TYPES = {
    "mmd": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "lines.json": "application/json",
    "lines.mmd.json": "application/json",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "tex.zip": "application/zip",
    "md.zip": "application/zip",
    "mmd.zip": "application/zip",
    "html": "text/html; charset=utf-8",
    "html.zip": "application/zip",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "latex.pdf": "application/pdf",
    "pdf": "application/pdf",
}
_MMD_LINE_KEYS = ("text", "is_printed", "is_handwritten", "region", "cnt", "confidence")


def assemble_stored(
    store: PdfStore, pdf_id: str, pages: list[int], options: DocumentOptions
) -> Document:
    """The document of the stored results of ``pages`` (0-based), in that order."""
    stored = store.pages_done(pdf_id)
    results = [PageResult.from_json(stored[index]) for index in pages if index in stored]
    return assemble(results, options)


def document_status(store: PdfStore, app_id: str, pdf_id: str) -> dict[str, Any]:
    """``GET /v3/pdf/{pdf_id}``'s body (also what a callback delivers)."""
    row = store.row(app_id, pdf_id)
    body = store.summary(row)
    wanted = requested_conversions(json.loads(row["request_args"]))
    if wanted and row["status"] == "completed":
        made = store.conversions(pdf_id)
        body["conversion_status"] = {fmt: made.get(fmt, {"status": "error"}) for fmt in wanted}
    return body


def page_text(result: PageResult, options: DocumentOptions) -> str:
    """One page's Mathpix Markdown (its history entry's ``text``)."""
    return assemble([result], options).to_mmd()


def lines_mmd_json(lines: dict[str, Any]) -> dict[str, Any]:
    """The deprecated ``lines.mmd.json``: per line only its number, text, region and scores."""
    pages = []
    for page in lines.get("pages", []):
        kept = [
            {"line": number, **{k: line[k] for k in _MMD_LINE_KEYS if k in line}}
            for number, line in enumerate(page.get("lines", []), start=1)
        ]
        pages.append({**{k: v for k, v in page.items() if k != "lines"}, "lines": kept})
    return {"pages": pages}


def _zip_of(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


def make_output(document: Document, fmt: str, pdf_id: str) -> bytes:
    makers: dict[str, Callable[[], bytes]] = {
        "mmd": lambda: document.to_mmd().encode(),
        "md": lambda: document.to_md().encode(),
        "lines.json": lambda: json.dumps(document.to_lines_json(pdf_id)).encode(),
        "lines.mmd.json": lambda: json.dumps(
            lines_mmd_json(document.to_lines_json(pdf_id))
        ).encode(),
        "docx": document.to_docx,
        "tex.zip": lambda: document.to_tex_zip(pdf_id),
        "md.zip": lambda: _zip_of(f"{pdf_id}.md", document.to_md()),
        "mmd.zip": lambda: _zip_of(f"{pdf_id}.mmd", document.to_mmd()),
    }
    if fmt in convert.FORMATS:
        return convert.document_to(document, fmt, pdf_id)
    return makers[fmt]()


def make_outputs(
    document: Document, formats: tuple[str, ...], pdf_id: str
) -> tuple[dict[str, bytes], dict[str, dict[str, Any]]]:
    """Each format's bytes, or (a conversion that failed) its error envelope."""
    made: dict[str, bytes] = {}
    failed: dict[str, dict[str, Any]] = {}
    for fmt in formats:
        try:
            made[fmt] = make_output(document, fmt, pdf_id)
        except ScipixError as error:
            failed[fmt] = error.to_mathpix()
        except Exception:
            log.exception("PDF %s: the %s conversion failed", pdf_id, fmt)
            failed[fmt] = ScipixError(f"Internal error while making {fmt}").to_mathpix()
    return made, failed
