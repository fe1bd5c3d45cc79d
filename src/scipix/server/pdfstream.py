"""``GET /v3/pdf/{pdf_id}/stream``: the pages of a document as server-sent events, as they are read.

Each event is one page, ``data: {"pdf_id", "page_idx", "pdf_selected_len", "text", "version"}``
(``page_idx`` counts the selected pages from 1; ``text`` is the page's Mathpix Markdown), sent
when the page is stored, so pages may arrive out of order. A page that failed carries its
``error`` / ``error_info`` instead of ``text``; a document that ends in ``error`` sends one last
event with the document's error. The stream ends when the document is ``completed`` or
``error``. Mathpix asks for ``"streaming": true`` on the upload; scipix accepts that option and
streams any document (the pages are stored either way).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio

from scipix import __version__
from scipix.documents import PageResult
from scipix.server.pdfoptions import document_options
from scipix.server.pdfoutputs import page_text
from scipix.server.pdfstore import PdfStore

POLL_S = 0.25


def _event(body: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def _new_pages(store: PdfStore, pdf_id: str, after: int) -> list[Any]:
    rows: list[Any] = (
        store.db.connection()
        .execute(
            "SELECT rowid, page, result FROM pdf_pages WHERE pdf_id = ? AND rowid > ?"
            " ORDER BY rowid",
            (pdf_id, after),
        )
        .fetchall()
    )
    return rows


async def page_events(
    store: PdfStore, app_id: str, pdf_id: str, dpi: int, poll_s: float = POLL_S
) -> AsyncIterator[bytes]:
    """The events of ``pdf_id`` until it is done (the caller checked that it is the caller's)."""
    after = 0
    while True:
        row = await anyio.to_thread.run_sync(store.row, app_id, pdf_id)
        pages: list[int] = json.loads(row["pages"]) if row["pages"] else []
        fresh = await anyio.to_thread.run_sync(_new_pages, store, pdf_id, after)
        if fresh:
            options = document_options(json.loads(row["request_args"]), dpi)
        for page in fresh:
            after = max(after, int(page["rowid"]))
            result = PageResult.from_json(page["result"])
            body: dict[str, Any] = {
                "pdf_id": pdf_id,
                "page_idx": pages.index(page["page"]) + 1 if page["page"] in pages else None,
                "pdf_selected_len": len(pages),
                "version": __version__,
            }
            if result.error is not None:
                info = result.error.model_dump(mode="json", exclude_none=True)
                body.update(error=info.get("message", ""), error_info=info)
            else:
                body["text"] = page_text(result, options)
            yield _event(body)
        if row["status"] == "error":
            error = json.loads(row["error"]) if row["error"] else {}
            yield _event({"pdf_id": pdf_id, "status": "error", **error})
            return
        if row["status"] == "completed" and not fresh:
            return
        if not fresh:
            await anyio.sleep(poll_s)
