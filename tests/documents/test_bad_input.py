"""Documents that cannot be read give Mathpix's pdf_* error ids, never a crash."""

from __future__ import annotations

import pytest

from scipix.documents import DocumentOptions, open_document, read_page
from scipix.errors import ScipixError
from scipix.service import Scipix

from .conftest import paper
from .crafted import scripted_pdf, text_pdf, zero_page_pdf

LIMITS = {"max_pages": 100, "max_bytes": 10_000_000}


def error_of(data: bytes, **limits: int) -> ScipixError:
    with pytest.raises(ScipixError) as caught:
        open_document(data, **{**LIMITS, **limits})
    return caught.value


@pytest.mark.parametrize(
    ("data", "error_id", "words"),
    [
        (b"", "pdf_missing", "empty"),
        (paper("encrypted.pdf"), "pdf_encrypted", "password"),
        (zero_page_pdf(), "pdf_no_pages", "no pages"),
        (b"<!DOCTYPE html><html><body>404</body></html>", "pdf_decode_error", "HTML"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 40, "pdf_decode_error", "corrupt"),
        (paper("twocol.pdf")[:40_000], "pdf_decode_error", "truncated"),
        (text_pdf(["a page as large as a city"], (100_000, 100_000)), "pdf_page_too_large", "200"),
    ],
    ids=["empty", "encrypted", "zero-pages", "html", "corrupt", "truncated", "page-size-bomb"],
)
def test_an_unreadable_document_has_a_pdf_error_id(data: bytes, error_id: str, words: str) -> None:
    error = error_of(data)
    assert error.error_id == error_id
    assert words in error.message
    assert error.http_status == 200  # Mathpix's envelope, never a 500


def test_limits_on_pages_and_bytes() -> None:
    data = paper("twocol.pdf")
    too_many = error_of(data, max_pages=1)
    assert too_many.error_id == "pdf_page_limit_exceeded"
    assert too_many.detail["limit_value"] == 1
    assert error_of(data, max_bytes=1000).error_id == "sys_request_too_large"


def test_javascript_and_embedded_files_are_ignored(service: Scipix) -> None:
    lines = ["Plain text on a page that also carries a script", "and an embedded file."]
    with open_document(scripted_pdf(lines), **LIMITS) as doc:
        page = read_page(doc, 0, service, DocumentOptions())
    assert page.ok and page.source == "text_layer"
    assert [line.text for line in page.lines] == lines
