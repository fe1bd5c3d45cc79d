"""The pipeline's one door to the LaTeX core: canonical LaTeX and the other representations."""

from __future__ import annotations

import html
from collections.abc import Collection

from scipix.errors import LatexError
from scipix.latex import mmd, normalize, to_asciimath, to_html, to_mathml


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
    """Inline math as Mathpix writes it in ``text``: ``\\( x^{2} \\)``, but ``$x^{2}$``."""
    return mmd.inline_math(latex, delimiters)


def display_math(latex: str, delimiters: tuple[str, str]) -> str:
    """A formula on its own line of a page: the display delimiters on their own lines."""
    return mmd.display_math(latex, delimiters)


#: The hidden children of a math span in Mathpix's ``html`` (mathpix-markdown-it's order and
#: markup; MATHPIX_API.md T3, T5), each with the representation it holds.
HIDDEN_MATH = (
    ("mathml", '<mathml style="display: none">', "</mathml>"),
    ("asciimath", '<asciimath style="display: none;">', "</asciimath>"),
    ("latex", '<latex style="display: none">', "</latex>"),
)


def _hidden_source(text: str) -> str:
    return text.strip().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def math_html(latex: str, display: bool, hidden: Collection[str] = ()) -> str:
    """One formula for the ``html`` output, as mathpix-markdown-it writes it:
    ``<span class="math-inline ">`` (``math-block`` for display math) holding, when ``hidden``
    asks for them, ``<mathml>``, ``<asciimath>`` and ``<latex>`` copies hidden with
    ``display: none``, then the formula rendered as MathML (where mathpix-markdown-it puts its
    SVG; the escaped LaTeX when it does not convert)."""
    inner = ""
    for kind, opening, closing in HIDDEN_MATH:
        value = convert(latex, kind) if kind in hidden else None
        if value is None:
            continue
        if not inner and kind != "mathml":
            inner = "\n"
        inner += opening + (value if kind == "mathml" else _hidden_source(value)) + closing
    try:
        rendered = to_mathml(latex, display=display)
    except LatexError:
        rendered = html.escape(latex)
    cls = "math-block" if display else "math-inline"
    inner = inner or "\n"
    return f'<span class="{cls} ">{inner}{rendered}</span>'
