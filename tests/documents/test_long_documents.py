"""A long document's memory stays flat: PDFium's document is opened afresh every
``REOPEN_AFTER_LOADS`` page loads (it keeps what it parsed of every page until closed), and
the SQLite connection of each batch's threads is closed once they have ended."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pypdfium2 as pdfium

from scipix.documents import open_document
from scipix.documents.source import REOPEN_AFTER_LOADS, render_page
from scipix.documents.textlayer import page_glyphs
from scipix.storage import SqliteFile

from .conftest import paper


def repeated(name: str, pages: int) -> bytes:
    source = pdfium.PdfDocument(paper(name))
    target = pdfium.PdfDocument.new()
    while len(target) < pages:
        target.import_pages(source)
    out = io.BytesIO()
    target.save(out)
    target.close()
    source.close()
    return out.getvalue()


def test_pages_read_the_same_after_the_document_is_opened_again() -> None:
    data = repeated("twocol.pdf", REOPEN_AFTER_LOADS + 8)
    with open_document(data, max_pages=1000, max_bytes=50_000_000) as doc:
        first = doc.pdf
        before = "".join(g.ch for g in page_glyphs(doc, 0)[0])
        for index in range(1, doc.num_pages):
            page_glyphs(doc, index)
            assert doc.loads <= REOPEN_AFTER_LOADS
        assert doc.pdf is not first  # opened again on the way
        after = "".join(g.ch for g in page_glyphs(doc, 0)[0])
        gray, _ = render_page(doc, 1, 72)
    assert after == before and "Introduction" in after
    assert gray.shape[0] > 500 and gray.min() < 128  # a page with ink


def test_connections_of_ended_threads_are_closed(tmp_path: Path) -> None:
    # every page of a document is one pipeline batch on fresh threads; each thread's SQLite
    # connection (the learning loop records every reading) must not outlive it
    store = SqliteFile(tmp_path / "t.db", "test")
    with store.write() as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")

    def write(x: int) -> None:
        with store.write() as conn:
            conn.execute("INSERT INTO t VALUES (?)", (x,))

    for x in range(12):
        thread = threading.Thread(target=write, args=(x,))
        thread.start()
        thread.join()
    write(99)  # the main thread's own connection: the ended threads' ones are closed now
    assert len(store._connections) <= 2
    assert store.connection().execute("SELECT COUNT(*) FROM t").fetchone()[0] == 13
    store.close()
