"""Opening a document: a PDF (through PDFium, by pypdfium2) or one image of a page.

:func:`open_document` checks everything that would make the whole document unreadable before a
page is read, and raises the matching :class:`~scipix.errors.PdfError` (Mathpix ``pdf_*`` ids):
no bytes (``pdf_missing``), too many bytes (``sys_request_too_large``), HTML or other text, a
corrupt or truncated file (``pdf_decode_error``), a password (``pdf_encrypted``), no pages
(``pdf_no_pages``), too many pages (``pdf_page_limit_exceeded``), a page too large to render
(``pdf_page_too_large``). PDFium is not thread-safe: every call into it holds the document's
lock (:attr:`OpenedDocument.lock`), so pages can be read from several threads.
JavaScript, forms and embedded files are never run nor extracted (no form environment is made).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from scipix.errors import (
    ImageDecodeError,
    ImageNotSupportedError,
    PdfEncryptedError,
    PdfError,
    PdfMissingError,
    PdfNoPagesError,
    PdfPageLimitError,
    PdfPageSizeError,
    RequestTooLargeError,
)
from scipix.imaging.decode import DecodeLimits, decode_bytes, sniff_format
from scipix.imaging.page import Page

#: The largest page side accepted, in points (200 inches: PDF's own limit is 14,400 units).
MAX_PAGE_POINTS = 14_400.0
#: The most pixels one page is rendered to (the resolution is lowered to stay under it).
MAX_RENDER_PIXELS = 40_000_000
#: PDFium keeps what it parsed for every page loaded (fonts, images, content streams) until its
#: document is closed: about 0.4 MB a page of a paper. After this many page loads the document
#: is opened again from its bytes, so memory stays flat however long the document.
REOPEN_AFTER_LOADS = 64
#: PDF's signature may follow some junk, but only within the first KiB.
PDF_MAGIC_WITHIN = 1024

#: A page tree, and a page object (PDFium refuses to load a PDF whose page tree is empty).
_PAGE_TREE = re.compile(rb"/Type\s*/Pages\b")
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")

Gray = np.ndarray[Any, np.dtype[np.uint8]]


@dataclass
class OpenedDocument:
    """An open document: a PDF, or a single image as a one-page document. Close it (or use
    ``with``) to release PDFium's memory."""

    kind: str  # "pdf" or "image"
    num_pages: int
    pdf: pdfium.PdfDocument | None = None
    image: Page | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    data: bytes | None = field(default=None, repr=False)  # the PDF's bytes, to open it again
    loads: int = 0

    def load_page(self, index: int) -> pdfium.PdfPage:
        """PDF page ``index``; call with :attr:`lock` held and close the page before releasing
        it. Every :data:`REOPEN_AFTER_LOADS` loads the document is opened afresh (PDFium's
        per-document caches let go)."""
        assert self.pdf is not None
        if self.data is not None and self.loads >= REOPEN_AFTER_LOADS:
            self.pdf.close()
            self.pdf = pdfium.PdfDocument(self.data)
            self.loads = 0
        self.loads += 1
        return self.pdf[index]

    def page_size(self, index: int) -> tuple[float, float]:
        """Page ``index``'s (width, height) in points (an image: in pixels at 72 dpi)."""
        if self.image is not None:
            return float(self.image.width), float(self.image.height)
        assert self.pdf is not None
        with self.lock:
            width, height = self.pdf.get_page_size(index)
        return float(width), float(height)

    def close(self) -> None:
        with self.lock:
            if self.pdf is not None:
                self.pdf.close()
                self.pdf = None
            self.image = None

    def __enter__(self) -> OpenedDocument:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_document(data: bytes, *, max_pages: int, max_bytes: int) -> OpenedDocument:
    """Open a PDF or an image of a page (PNG, JPEG, WebP, TIFF, BMP, GIF) from its bytes;
    raises a :class:`~scipix.errors.PdfError` subclass (or ``RequestTooLargeError``)."""
    if not data:
        raise PdfMissingError("no document was given (the file is empty)")
    if len(data) > max_bytes:
        raise RequestTooLargeError(
            f"the document has {len(data):,} bytes; at most {max_bytes:,} are accepted "
            "(documents.max_bytes)",
            limit_name="max_bytes",
            limit_value=max_bytes,
        )
    if b"%PDF-" not in data[:PDF_MAGIC_WITHIN]:
        return _open_image(data, max_bytes)
    pdf = _load_pdf(data)
    try:
        count = len(pdf)
        _check_pages(pdf, count, max_pages)
    except BaseException:
        pdf.close()
        raise
    return OpenedDocument("pdf", count, pdf=pdf, data=data)


def _load_pdf(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # PDFium's last error can be left over from an earlier document: read it with the file
        code = getattr(exc, "err_code", None)
        encrypted = b"/Encrypt" in data
        if encrypted and code == pdfium_c.FPDF_ERR_PASSWORD:
            raise PdfEncryptedError(
                "the PDF is encrypted; remove its password (e.g. qpdf --decrypt) and send it again"
            ) from None
        if encrypted and code == pdfium_c.FPDF_ERR_SECURITY:
            raise PdfEncryptedError("the PDF uses an unsupported security handler") from None
        if _PAGE_TREE.search(data) and not _PAGE.search(data):
            # PDFium refuses a document whose page tree is empty
            raise PdfNoPagesError("the PDF has no pages (its page tree is empty)") from None
        raise PdfError(f"the PDF is corrupt or truncated and cannot be read ({exc})") from None


def _check_pages(pdf: pdfium.PdfDocument, count: int, max_pages: int) -> None:
    if count == 0:
        raise PdfNoPagesError("the PDF has no pages")
    if count > max_pages:
        raise PdfPageLimitError(
            f"the PDF has {count:,} pages; at most {max_pages:,} are accepted "
            "(documents.max_pages)",
            limit_name="max_pages",
            limit_value=max_pages,
        )
    for index in range(count):
        width, height = pdf.get_page_size(index)
        if not (0 < width <= MAX_PAGE_POINTS and 0 < height <= MAX_PAGE_POINTS):
            raise PdfPageSizeError(
                f"page {index + 1} is {width:.0f} x {height:.0f} points; a page may be at most "
                f"{MAX_PAGE_POINTS:.0f} points (200 inches) on a side"
            )


def _open_image(data: bytes, max_bytes: int) -> OpenedDocument:
    try:
        sniff_format(data)
    except (ImageDecodeError, ImageNotSupportedError) as exc:
        raise PdfError(f"not a PDF nor an image of a page: {_what(data, exc)}") from None
    try:
        page = decode_bytes(data, DecodeLimits(max_bytes=max_bytes))
    except (ImageDecodeError, ImageNotSupportedError) as exc:
        raise PdfError(f"the image of the page cannot be read: {exc}") from None
    return OpenedDocument("image", 1, image=page)


def _what(data: bytes, exc: Exception) -> str:
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "the file is HTML (a web page), not a PDF"
    return str(exc)


def render_page(doc: OpenedDocument, index: int, dpi: float) -> tuple[Gray, float]:
    """Page ``index`` as gray pixels at ``dpi`` (lowered so the page stays under
    :data:`MAX_RENDER_PIXELS`), and the scale used (pixels per point)."""
    if doc.image is not None:
        return np.asarray(doc.image.gray), 1.0
    assert doc.pdf is not None
    width, height = doc.page_size(index)
    scale = dpi / 72.0
    if width * height * scale * scale > MAX_RENDER_PIXELS:
        scale = (MAX_RENDER_PIXELS / (width * height)) ** 0.5
    with doc.lock:
        page = doc.load_page(index)
        try:
            bitmap = page.render(scale=scale, grayscale=True, may_draw_forms=False)
            pixels = bitmap.to_numpy()
            gray = np.array(pixels[:, :, 0] if pixels.ndim == 3 else pixels)
            bitmap.close()
        finally:
            page.close()
    return gray.astype(np.uint8, copy=False), scale
