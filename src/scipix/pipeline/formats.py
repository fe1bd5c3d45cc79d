"""The pipeline's one door to the LaTeX core: canonical LaTeX and the other representations."""

from __future__ import annotations

import html
import importlib
from collections.abc import Callable
from typing import cast

from scipix.errors import LatexError, ScipixError

#: ``Result.data`` type -> the LaTeX core converter that produces it.
CONVERTERS = {
    "mathml": "to_mathml",
    "asciimath": "to_asciimath",
    "html": "to_html",
}


def canonical(latex: str) -> str:
    """The canonical spelling of ``latex`` (unchanged when it does not parse)."""
    from scipix.latex import normalize

    try:
        return normalize(latex)
    except LatexError:
        return latex


def converter(kind: str) -> Callable[[str], str]:
    module = importlib.import_module("scipix.latex")
    name = CONVERTERS[kind]
    found = getattr(module, name, None)
    if found is None:
        raise ScipixError(f"this scipix build has no {kind} output (scipix.latex.{name})")
    return cast(Callable[[str], str], found)


def convert(latex: str, kind: str) -> str | None:
    """``latex`` as ``kind`` (latex, mathml, asciimath, html); None when it cannot be converted."""
    if kind == "latex":
        return latex
    try:
        return converter(kind)(latex)
    except LatexError:
        return None


def math_html(latex: str, display: bool) -> str:
    """One formula for the ``html`` output: rendered HTML when the core can, else the LaTeX."""
    rendered = convert(latex, "html")
    body = rendered if rendered is not None else html.escape(latex)
    cls = "math-block" if display else "math-inline"
    return f'<span class="{cls}">{body}</span>'
