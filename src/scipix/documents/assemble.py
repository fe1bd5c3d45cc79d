"""Pages into one :class:`Document`, written as Mathpix Markdown, Markdown or ``lines.json``
(DOCX and LaTeX in ``export.py``).

Consecutive lines of one block form a paragraph (words broken by a hyphen at a line's end are
joined again); display formulas stand alone with their equation number as ``\\tag{n}``;
headings become ``\\section*{…}`` in Mathpix Markdown and ``#`` in Markdown; table rows a
Markdown table; running headers and page numbers (``page_info``) only appear in lines.json.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from scipix.documents.options import DocumentOptions
from scipix.documents.page import PageLine, PageResult, Segment
from scipix.latex.mmd import display_math, inline_math

MD_INLINE = ("$", "$")
MD_DISPLAY = ("$$", "$$")
_SECTIONS = {1: "section", 2: "subsection", 3: "subsubsection"}
_LINE_TYPES = {
    "text": "text",
    "display": "math",
    "heading": "section_header",
    "title": "title",
    "table": "table",
    "page_info": "page_info",
}


@dataclass(frozen=True)
class Style:
    """How one output spells math and headings."""

    inline: tuple[str, str]
    display: tuple[str, str]
    markdown_headings: bool


def blocks(page: PageResult) -> Iterator[list[PageLine]]:
    """The page's lines grouped by block, in order (``page_info`` left out)."""
    current: list[PageLine] = []
    for line in page.lines:
        if line.kind == "page_info":
            continue
        if current and (line.block != current[-1].block or line.kind != current[-1].kind):
            yield current
            current = []
        current.append(line)
    if current:
        yield current


def segments_text(segments: Sequence[Segment], style: Style) -> str:
    out = ""
    for s in segments:
        piece = inline_math(s.value, style.inline) if s.kind == "math" else s.value
        if out and not (s.kind == "text" and piece[:1] in ".,;:)!?"):
            out += " "
        out += piece
    return out


def paragraph(lines: Sequence[PageLine], style: Style) -> str:
    """Lines of one paragraph joined; a word hyphenated at a line's end joined again."""
    text = ""
    for line in lines:
        piece = segments_text(line.segments, style)
        if not piece:
            continue
        if text.endswith("-") and re.match(r"[a-z]", piece) and re.search(r"[A-Za-z]-$", text):
            text = text[:-1] + piece
        else:
            text = f"{text} {piece}" if text else piece
    return text


def render_block(lines: Sequence[PageLine], style: Style) -> str:
    kind = lines[0].kind
    if kind == "display":
        latex = " ".join(s.value for line in lines for s in line.segments)
        tag = next((line.tag for line in lines if line.tag), None)
        if tag:
            latex = f"{latex} \\tag{{{tag}}}"
        return display_math(latex, style.display)
    if kind in ("heading", "title"):
        text = " ".join(segments_text(line.segments, style) for line in lines)
        if style.markdown_headings:
            level = 1 if kind == "title" else lines[0].level + 1
            return "#" * level + " " + text
        if kind == "title":
            return f"\\title{{{text}}}"
        return f"\\{_SECTIONS.get(lines[0].level, 'subsubsection')}*{{{text}}}"
    if kind == "table":
        return table(lines, style)
    return paragraph(lines, style)


def table(lines: Sequence[PageLine], style: Style) -> str:
    """Rows of cells as a Markdown table (the first row is the header)."""
    rows = [[segments_text([s], style).replace("|", "\\|") for s in ln.segments] for ln in lines]
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    out = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out)


@dataclass(frozen=True)
class Document:
    """A document's pages in order, and how its text spells math."""

    pages: tuple[PageResult, ...]
    options: DocumentOptions

    def _text(self, style: Style) -> str:
        parts = [render_block(b, style) for page in self.pages for b in blocks(page)]
        return "\n\n".join(p for p in parts if p) + "\n"

    def to_mmd(self) -> str:
        """Mathpix Markdown: math between the options' delimiters, ``\\section*{}`` headings."""
        opts = self.options
        style = Style(opts.math_inline_delimiters, opts.math_display_delimiters, False)
        return self._text(style)

    def to_md(self) -> str:
        """Plain Markdown: ``$…$`` / ``$$…$$`` math (as pandoc reads it), ``#`` headings."""
        return self._text(Style(MD_INLINE, MD_DISPLAY, True))

    def to_lines_json(self, pdf_id: str = "document") -> dict[str, Any]:
        """Mathpix's ``lines.json``: per page its size and lines (type, text, region, …)."""
        opts = self.options
        style = Style(opts.math_inline_delimiters, opts.math_display_delimiters, False)
        return {"pages": [_page_json(page, pdf_id, style) for page in self.pages]}

    def to_docx(self) -> bytes:
        """Word, with native equations (pandoc from the Markdown)."""
        from scipix.documents.export import markdown_to_docx

        return markdown_to_docx(self.to_md())

    def to_tex_zip(self, name: str = "document") -> bytes:
        """A zip of ``name/name.tex``: a LaTeX document that compiles with pdflatex."""
        from scipix.documents.export import tex_zip

        return tex_zip(self, name)


def assemble(pages: Sequence[PageResult], options: DocumentOptions) -> Document:
    """The document of ``pages`` (sorted by page number; failed pages add no text)."""
    return Document(tuple(sorted(pages, key=lambda p: p.page)), options)


def _page_json(page: PageResult, pdf_id: str, style: Style) -> dict[str, Any]:
    lines = []
    for n, line in enumerate(page.lines):
        x, y, w, h = line.box
        if line.kind == "display":
            text = render_block([line], style)
        else:
            text = segments_text(line.segments, style)
        item: dict[str, Any] = {
            "id": f"{page.page}-{n}",
            "type": _LINE_TYPES[line.kind],
            "line": n + 1,
            "column": line.column,
            "font_size": line.font_size,
            "text": text,
            "text_display": text,
            "conversion_output": line.kind != "page_info",
            "is_printed": True,
            "is_handwritten": False,
            "region": {"top_left_x": x, "top_left_y": y, "width": w, "height": h},
            "cnt": [[x, y], [x + w, y], [x + w, y + h], [x, y + h]],
        }
        if line.kind == "heading":
            item["subtype"] = _SECTIONS.get(line.level, "subsubsection")
        if line.confidence is not None:
            item["confidence"] = item["confidence_rate"] = line.confidence
        lines.append(item)
    found: dict[str, Any] = {
        "image_id": f"{pdf_id}-{page.page}",
        "page": page.page,
        "page_height": page.height,
        "page_width": page.width,
        "lines": lines,
    }
    if page.error is not None:
        found["error"] = page.error.message
        found["error_info"] = page.error.model_dump()
    return found
