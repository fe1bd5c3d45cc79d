"""Documents as files: DOCX through pandoc (native Word equations from the Markdown's
``$…$``; the ``pypandoc-binary`` wheel bundles pandoc) and a LaTeX project as ``tex.zip``."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from scipix.documents.assemble import Style, blocks, render_block
from scipix.errors import ScipixError

if TYPE_CHECKING:
    from scipix.documents.assemble import Document

PREAMBLE = r"""\documentclass{article}
\usepackage[utf8]{inputenc}
\usepackage[T1]{fontenc}
\usepackage{amsmath,amssymb,amsfonts}
\usepackage{mathrsfs}
"""
_SPECIAL = {c: "\\" + c for c in "&%$#_{}"} | {"~": r"\textasciitilde{}", "^": r"\^{}"}


def markdown_to_docx(markdown: str) -> bytes:
    """The Markdown as a Word file (pandoc; math becomes Word equations)."""
    import pypandoc  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "document.docx"
        try:
            pypandoc.convert_text(  # --sandbox: an image path or URL in the text is not read
                markdown,
                "docx",
                format="markdown+tex_math_dollars",
                outputfile=str(out),
                extra_args=["--sandbox"],
            )
        except (RuntimeError, OSError) as exc:
            raise ScipixError(f"pandoc could not write the DOCX: {exc}") from None
        return out.read_bytes()


def escape_text(text: str) -> str:
    r"""Prose for LaTeX: ``&%$#_{}~^`` escaped (math between ``\(…\)`` left alone)."""
    out = []
    for piece in _split_math(text):
        out.append(piece if piece.startswith("\\(") else "".join(_SPECIAL.get(c, c) for c in piece))
    return "".join(out)


def _split_math(text: str) -> list[str]:
    pieces, start = [], 0
    while True:
        begin = text.find("\\(", start)
        if begin < 0:
            break
        end = text.find("\\)", begin)
        if end < 0:
            break
        pieces += [text[start:begin], text[begin : end + 2]]
        start = end + 2
    pieces.append(text[start:])
    return [p for p in pieces if p]


def to_latex(document: Document) -> str:
    """The document as one LaTeX source (``\\(…\\)`` inline, ``\\[…\\]`` display)."""
    style = Style(("\\(", "\\)"), ("\\[", "\\]"), False)
    body: list[str] = []
    title = None
    for page in document.pages:
        for lines in blocks(page):
            kind = lines[0].kind
            if kind == "title" and title is None:
                title = escape_text(render_block(lines, style)[len("\\title{") : -1])
                continue
            if kind == "display":
                body.append(render_block(lines, style))
            elif kind == "heading":
                text = render_block(lines, style)
                head, _, rest = text.partition("{")
                body.append(head + "{" + escape_text(rest[:-1]) + "}")
            elif kind == "table":
                body.append(_tabular(render_block(lines, style)))
            else:
                body.append(escape_text(render_block(lines, style)))
    top = [PREAMBLE, f"\\title{{{title}}}\n\\date{{}}\n" if title else "", "\\begin{document}\n"]
    if title:
        top.append("\\maketitle\n")
    return "".join(top) + "\n\n".join(body) + "\n\n\\end{document}\n"


def _tabular(markdown_table: str) -> str:
    rows = [r.strip().strip("|").split(" | ") for r in markdown_table.splitlines()]
    rows = [r for k, r in enumerate(rows) if k != 1]
    width = max(len(r) for r in rows)
    lines = [" & ".join(escape_text(c.strip()) for c in r) + r" \\" for r in rows]
    return "\\begin{tabular}{" + "l" * width + "}\n" + "\n".join(lines) + "\n\\end{tabular}"


def tex_zip(document: Document, name: str = "document") -> bytes:
    """A zip holding ``name/name.tex``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}/{name}.tex", to_latex(document))
    return buffer.getvalue()
