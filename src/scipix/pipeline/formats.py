"""The pipeline's one door to the LaTeX core: canonical LaTeX and the other representations."""

from __future__ import annotations

import html

from scipix.errors import LatexError
from scipix.latex import normalize, to_asciimath, to_html, to_mathml, to_mmd


def canonical(latex: str) -> str:
    """The canonical spelling of ``latex`` (unchanged when it does not parse)."""
    try:
        return normalize(latex)
    except LatexError:
        return latex


def convert(latex: str, kind: str) -> str | None:
    """``latex`` as ``kind`` (latex, mathml, asciimath, html); None when it cannot be converted
    (the recognizer's best hypothesis may be invalid LaTeX)."""
    try:
        if kind == "latex":
            return latex
        if kind == "mathml":
            return to_mathml(latex)
        if kind == "asciimath":
            return to_asciimath(latex)
        if kind == "html":
            return to_html(latex)
    except LatexError:
        return None
    raise ValueError(f"unknown representation {kind!r}")


def inline_math(latex: str, delimiters: tuple[str, str]) -> str:
    """Inline math as Mathpix writes it in ``text``: ``\\( x^{2} \\)`` (spaces inside)."""
    return f"{delimiters[0]} {latex} {delimiters[1]}"


def display_math(latex: str, delimiters: tuple[str, str]) -> str:
    """A formula on its own line of a page: the display delimiters on their own lines."""
    try:
        return to_mmd(latex, display=True, display_delimiters=delimiters)
    except LatexError:
        return f"{delimiters[0]}\n{latex}\n{delimiters[1]}"


def math_html(latex: str, display: bool) -> str:
    """One formula for the ``html`` output: MathML in a span/div, else the escaped LaTeX."""
    try:
        return to_html(latex, display=display)
    except LatexError:
        cls, tag = ("math-display", "div") if display else ("math-inline", "span")
        return f'<{tag} class="{cls}">{html.escape(latex)}</{tag}>'
