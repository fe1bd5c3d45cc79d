"""The web page's preview: LaTeX or Mathpix Markdown that a person edited, rendered again.

The page shows a result's math as the MathML the server sent; when the LaTeX is edited, it asks
``POST /web/preview`` for the new rendering (no JavaScript TeX engine, nothing loaded from
elsewhere). ``latex`` is one formula (an image that is one equation); ``text`` is Mathpix
Markdown: prose with math between ``\\( \\)``, ``$ $`` (inline) or ``\\[ \\]``, ``$$ $$``
(display). Math that is not valid LaTeX is shown as its source, with the validator's reason.
"""

from __future__ import annotations

import contextlib
import html
import re

from pydantic import BaseModel, Field

from scipix.errors import LatexError
from scipix.latex import to_asciimath, to_mathml, validate

#: Longest text the preview renders (as ``/v3/corrections`` accepts).
MAX_PREVIEW_CHARS = 20_000
#: Math in Mathpix Markdown: display first, so ``$$`` is not read as two empty ``$ $``.
_MATH = re.compile(
    r"\\\[(?P<d1>.*?)\\\]|\$\$(?P<d2>.*?)\$\$|\\\((?P<i1>.*?)\\\)|\$(?P<i2>[^$\n]+?)\$",
    re.DOTALL,
)


class Preview(BaseModel):
    """The rendering of an edited LaTeX or Mathpix Markdown, for the page to show."""

    html: str = Field(description="HTML: prose escaped, each formula as MathML.")
    mathml: list[str] = Field(description="Each formula's MathML (valid ones), in order.")
    asciimath: list[str] = Field(description="Each formula's AsciiMath (valid ones), in order.")
    problems: list[str] = Field(description="Why a formula is shown as its source, in order.")


def _formula(latex: str, display: bool, found: Preview) -> str:
    """One formula's HTML (MathML, or its escaped source when it is not valid LaTeX)."""
    latex = latex.strip()
    tag, kind = ("div", "display") if display else ("span", "inline")
    try:
        inner = to_mathml(latex, display=display)
    except LatexError as exc:
        issues = validate(latex)
        found.problems.append(issues[0].message if issues else exc.message)
        inner = f'<code class="invalid-math">{html.escape(latex)}</code>'
    else:
        found.mathml.append(inner)
        with contextlib.suppress(LatexError):
            found.asciimath.append(to_asciimath(latex))
    return f'<{tag} class="math-{kind}">{inner}</{tag}>'


def _prose(text: str, after_block: bool, before_block: bool) -> str:
    """Prose between formulas, its line breaks kept (but the one that ends the line before
    display math, and the one after it: the block makes its own lines)."""
    if after_block and text.startswith("\n"):
        text = text[1:]
    if before_block and text.endswith("\n"):
        text = text[:-1]
    return html.escape(text).replace("\n", "<br>")


def preview_latex(latex: str) -> Preview:
    """One formula, shown as display math."""
    found = Preview(html="", mathml=[], asciimath=[], problems=[])
    found.html = "<div>" + _formula(latex, True, found) + "</div>"
    return found


def preview_text(text: str) -> Preview:
    """Mathpix Markdown: the prose escaped, the math in MathML, the lines kept."""
    found = Preview(html="", mathml=[], asciimath=[], problems=[])
    parts, at, after_display = [], 0, False
    for match in _MATH.finditer(text):
        display = match.group("d1") is not None or match.group("d2") is not None
        parts.append(_prose(text[at : match.start()], after_display, display))
        latex = next(g for g in match.group("d1", "d2", "i1", "i2") if g is not None)
        parts.append(_formula(latex, display, found))
        at, after_display = match.end(), display
    parts.append(_prose(text[at:], after_display, False))
    found.html = "<div>" + "".join(parts) + "</div>"
    return found
