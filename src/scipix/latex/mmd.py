"""Mathpix Markdown: the canonical LaTeX between math delimiters (``\\( \\)``, ``\\[ \\]``).

Spacing as Mathpix writes it: ``\\( x^{2} \\)`` inside TeX's delimiters (examples T1 and T5 of
``MATHPIX_API.md``) but ``$x^{2}$`` inside dollars (T2: Markdown parsers read ``$ x $`` as
text, not math); display math has its delimiters on lines of their own (``\\[\\nx\\n\\]``,
``$$\\nx\\n$$``).
"""

from __future__ import annotations

from scipix.latex.normalize import normalize


def inline_math(latex: str, delimiters: tuple[str, str] = ("\\(", "\\)")) -> str:
    """``latex`` as inline math: ``\\( x^{2} \\)``, ``$x^{2}$`` (a space inside a delimiter
    only when it is a TeX command such as ``\\(``)."""
    opening, closing = delimiters
    pad = " " if opening.startswith("\\") else ""
    return f"{opening}{pad}{latex}{pad}{closing}"


def display_math(latex: str, delimiters: tuple[str, str] = ("\\[", "\\]")) -> str:
    """``latex`` as display math: the delimiters on their own lines."""
    opening, closing = delimiters
    return f"{opening}\n{latex}\n{closing}"


def to_mmd(
    src: str,
    display: bool = False,
    inline_delimiters: tuple[str, str] = ("\\(", "\\)"),
    display_delimiters: tuple[str, str] = ("\\[", "\\]"),
) -> str:
    """``\\( x^{2} \\)`` inline, or the display delimiters around the formula on its own lines."""
    latex = normalize(src)
    if display:
        return display_math(latex, display_delimiters)
    return inline_math(latex, inline_delimiters)
