"""Pen strokes: InkML and Mathpix strokes JSON parsed within limits, drawn for the recognizer.

``ink_from_mathpix`` / ``parse_inkml`` check the input (:class:`InkLimits`) and give an
:class:`Ink`; ``draw_ink`` draws it the way the model's handwriting training images look.
Training-side uses (augmentation, composing new formulas from symbol ink) live in
``scipix.training.ink``.
"""

from scipix.ink.draw import CROHME_STYLE, PenStyle, draw_ink, draw_points
from scipix.ink.inkml import InkDocument, Symbol, parse_inkml, read_inkml
from scipix.ink.strokes import Ink, InkLimits, ink_from_mathpix, make_ink

__all__ = [
    "CROHME_STYLE",
    "Ink",
    "InkDocument",
    "InkLimits",
    "PenStyle",
    "Symbol",
    "draw_ink",
    "draw_points",
    "ink_from_mathpix",
    "make_ink",
    "parse_inkml",
    "read_inkml",
]
