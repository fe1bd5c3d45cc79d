"""What one page becomes: :class:`PageResult`, a list of :class:`PageLine` in reading order.

A page result is plain data (pydantic, JSON round trip by :meth:`PageResult.to_json` and
:meth:`PageResult.from_json`), so pages can be read by several workers, cached on disk or in
SQLite, and assembled later. Coordinates are pixels of the page rendered at ``dpi``.
A page that could not be read carries its error (``error``) and no lines: the document goes on.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from scipix.errors import ScipixError
from scipix.schema import ErrorInfo

#: ``text``: a line of prose (with inline math); ``display``: a display formula; ``heading``: a
#: section title; ``title``: the document's title; ``table``: a row of a table; ``page_info``:
#: a running header, footer or page number (kept for lines.json, left out of the text).
LineKind = Literal["text", "display", "heading", "title", "table", "page_info"]


class Segment(BaseModel):
    """A piece of a line: prose (``text``) or inline math (``math``, LaTeX without delimiters)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["text", "math"]
    value: str


class PageLine(BaseModel):
    """One line of a page, in reading order. ``block`` numbers the paragraphs (and formulas,
    headings, tables) of the page: consecutive lines of one block form one paragraph."""

    model_config = ConfigDict(frozen=True)

    kind: LineKind
    segments: tuple[Segment, ...]
    box: tuple[int, int, int, int]  # x, y, width, height
    column: int = 0
    block: int = 0
    font_size: float = 0.0
    level: int = 0  # headings: 1 section, 2 subsection, 3 subsubsection
    tag: str | None = None  # display formulas: the equation number, e.g. "1"
    confidence: float | None = None

    @property
    def text(self) -> str:
        """The line's plain text (math as its LaTeX, without delimiters)."""
        return " ".join(s.value for s in self.segments)


class PageResult(BaseModel):
    """One page: its size, lines in reading order, how it was read, and its error if it failed."""

    model_config = ConfigDict(frozen=True)

    page: int  # 1-based page number in the document
    width: int
    height: int
    dpi: int
    source: Literal["text_layer", "ocr", "none"]
    lines: tuple[PageLine, ...] = ()
    error: ErrorInfo | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def failed(cls, page: int, error: ScipixError, dpi: int) -> PageResult:
        """A page that could not be read: its error, no lines."""
        info = ErrorInfo(**error.to_mathpix()["error_info"])
        return cls(page=page, width=0, height=0, dpi=dpi, source="none", error=info)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``json.dumps`` takes it as it is)."""
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_json(cls, data: dict[str, Any] | str | bytes) -> PageResult:
        """The page from :meth:`to_json`'s dict, or that dict's JSON text."""
        if isinstance(data, str | bytes):
            data = json.loads(data)
        return cls.model_validate(data)
