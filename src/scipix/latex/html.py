"""HTML: the formula's MathML inside a ``<span>`` (inline) or ``<div>`` (display)."""

from __future__ import annotations

from scipix.latex.mathml import to_mathml


def to_html(src: str, display: bool = False) -> str:
    """``<span class="math-inline">`` or ``<div class="math-display">`` around the MathML."""
    mathml = to_mathml(src, display=display)
    if display:
        return f'<div class="math-display">{mathml}</div>'
    return f'<span class="math-inline">{mathml}</span>'
