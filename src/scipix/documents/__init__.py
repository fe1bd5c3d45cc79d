"""Documents: PDFs (and images of pages) to Mathpix Markdown, Markdown, lines.json, DOCX, LaTeX.

The public API (stable: the CLI ``scipix pdf`` and the server's ``/v3/pdf`` build on it; change
it only with a reason, and both of them together)::

    from scipix.documents import (
        DocumentOptions, OpenedDocument, PageResult, Document,
        open_document, read_page, assemble,
    )

    class DocumentOptions(OptionsModel):          # frozen pydantic; unknown keys: OptionsError
        math_inline_delimiters: tuple[str, str] = ("\\(", "\\)")
        math_display_delimiters: tuple[str, str] = ("\\[", "\\]")
        page_ranges: str | None = None            # Mathpix's "2,4-6", "2 - -2" (1-based)
        dpi: int = 200                            # pages read by OCR are rendered at this
        force_ocr: bool = False                   # ignore the text layer
        @classmethod
        def from_mathpix(cls, body: Mapping[str, Any], **defaults) -> DocumentOptions
        def select_pages(self, num_pages: int) -> list[int]      # 0-based indices

    def open_document(data: bytes, *, max_pages: int, max_bytes: int) -> OpenedDocument
        # a PDF, or one image (PNG, JPEG, WebP, TIFF, BMP, GIF) as a one-page document; raises
        # PdfMissingError (pdf_missing), RequestTooLargeError (sys_request_too_large),
        # PdfError (pdf_decode_error: HTML, text, corrupt, truncated), PdfEncryptedError
        # (pdf_encrypted), PdfNoPagesError (pdf_no_pages), PdfPageLimitError
        # (pdf_page_limit_exceeded), PdfPageSizeError (pdf_page_too_large)
    OpenedDocument.num_pages: int; OpenedDocument.close(); with open_document(...) as doc: ...

    def read_page(doc: OpenedDocument, index: int, scipix: Scipix,
                  options: DocumentOptions) -> PageResult
        # one page (0-based index); never raises: a failed page has .error (ErrorInfo) and no
        # lines. Thread-safe (PDFium calls hold doc.lock); pages may be read in parallel.

    class PageResult(BaseModel):                  # frozen; JSON round trip
        page: int; width: int; height: int; dpi: int  # 1-based number, size in px at dpi
        source: "text_layer" | "ocr" | "none"; lines: tuple[PageLine, ...]
        error: ErrorInfo | None; seconds: float; ok: bool (property)
        def to_json(self) -> dict[str, Any]
        @classmethod
        def from_json(cls, data: dict[str, Any] | str | bytes) -> PageResult

    class PageLine(BaseModel):                    # frozen; one line, in reading order
        kind: "text" | "display" | "heading" | "title" | "table" | "page_info"
        segments: tuple[Segment, ...]             # Segment(kind="text"|"math", value=str)
        box: (x, y, w, h) px at dpi; column: int; block: int (paragraph number on the page)
        font_size: float; level: int (headings 1-3); tag: str | None (equation number)
        confidence: float | None; text: str (property)

    def assemble(pages: Sequence[PageResult], options: DocumentOptions) -> Document
    Document.to_mmd() -> str; to_md() -> str; to_lines_json(pdf_id="document") -> dict
    Document.to_docx() -> bytes; to_tex_zip(name="document") -> bytes

Settings: ``[documents]`` max_pages, max_bytes, dpi (``settings.documents``). A resumable
on-disk page cache for callers that want one: ``documents.cache.PageCache``.
"""

from __future__ import annotations

from scipix.documents.assemble import Document, assemble
from scipix.documents.options import DocumentOptions
from scipix.documents.page import PageLine, PageResult, Segment
from scipix.documents.reader import read_page
from scipix.documents.source import OpenedDocument, open_document

__all__ = [
    "Document",
    "DocumentOptions",
    "OpenedDocument",
    "PageLine",
    "PageResult",
    "Segment",
    "assemble",
    "open_document",
    "read_page",
]
