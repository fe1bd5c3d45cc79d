"""Mathpix Markdown: the canonical LaTeX between math delimiters (``\\( \\)``, ``\\[ \\]``)."""

from __future__ import annotations

from scipix.latex.normalize import normalize


def to_mmd(
    src: str,
    display: bool = False,
    inline_delimiters: tuple[str, str] = ("\\(", "\\)"),
    display_delimiters: tuple[str, str] = ("\\[", "\\]"),
) -> str:
    """``\\(x^{2}\\)`` inline, or the display delimiters around the formula on its own lines."""
    latex = normalize(src)
    if display:
        opening, closing = display_delimiters
        return f"{opening}\n{latex}\n{closing}"
    opening, closing = inline_delimiters
    return f"{opening}{latex}{closing}"
