"""Rows of a stacked formula block, read one by one when that reads clearly better.

Detect groups the rows of ``aligned``/``gathered`` equations and of matrices without tall
delimiters into one math block (a formula is one formula). The recognizer, trained mostly on
one-line formulas, reads some such blocks worse whole than row by row (``a=b+c`` over ``d=e+f``
whole: ``a=\\frac{b+c}{c+f}``). So a block made of two or more full-width rows, with no fraction
bar between them, is also read row by row; when the rows read clearly better (mean token
probability), the block's reading becomes ``\\begin{gathered} row \\\\ row \\end{gathered}``:
still one formula, with every row read.
"""

from __future__ import annotations

import itertools

import numpy as np

from scipix.imaging.components import Boxes
from scipix.imaging.layout import Line, find_bands, glyph_height, is_thin
from scipix.recognition.reading import Hypothesis, Reading

Box = tuple[int, int, int, int]

#: a row spans at least this share of its block's width
ROW_SHARE = 0.4
#: a component this many typical glyph heights tall (a brace, a big operator) spans rows
TALL = 1.4
#: a component at least this many times wider than tall is a bar (a fraction's, between rows)
BAR_ASPECT = 4.0


def formula_rows(boxes: Boxes, members: np.ndarray) -> list[Box] | None:
    """The boxes of the rows of the block made of ``members`` (indices into ``boxes``), top to
    bottom, each reaching halfway to its neighbours (accents and dots between rows stay with
    one of them); None when the block is not two or more rows: a band that is neither a row nor
    thin ink (limits, scripts), or a bar between two rows (a fraction), rules it out."""
    part = boxes.select(members)
    if len(part) < 2:
        return None
    typical = glyph_height(part)
    x0, y0, x1, y1 = part.bounds()
    rows: list[Line] = []
    for band in find_bands(part):
        if is_thin(part, band, typical):
            continue
        if band.box[2] - band.box[0] < ROW_SHARE * (x1 - x0):
            return None
        rows.append(band)
    if len(rows) < 2 or bar_between(part, rows):
        return None
    cuts = [y0] + [(a.box[3] + b.box[1]) // 2 for a, b in itertools.pairwise(rows)]
    cuts.append(y1)
    return [(x0, top, x1, bottom) for top, bottom in itertools.pairwise(cuts)]


def stacked(boxes: Boxes, members: np.ndarray) -> bool:
    """Whether the block made of ``members`` has two or more bands of glyphs one above the
    other once tall delimiters and operators are set aside (rows, a fraction, limits, the
    rows of a ``cases``): Detect never joins prose that way."""
    part = boxes.select(members)
    typical = glyph_height(part)
    glyphs = part.select(part.h <= TALL * typical)  # a brace or a big operator spans rows
    return sum(not is_thin(glyphs, band, typical) for band in find_bands(glyphs)) >= 2


def bar_between(part: Boxes, rows: list[Line]) -> bool:
    """Whether a flat bar lies in the gap between two consecutive rows (a fraction)."""
    flat = part.w >= BAR_ASPECT * np.maximum(part.h, 1)
    for above, below in itertools.pairwise(rows):
        in_gap = (part.y >= above.box[3] - 1) & (part.y1 <= below.box[1] + 1)
        if bool((flat & in_gap).any()):
            return True
    return False


def rows_reading(rows: list[Reading], whole: Reading) -> Reading:
    """One reading of the block from its rows' readings: a ``gathered`` environment."""
    latex = "\\begin{gathered}" + "\\\\".join(r.latex for r in rows) + "\\end{gathered}"
    tokens: list[str] = ["\\begin{gathered}"]
    probs: list[float] = [1.0]
    for i, row in enumerate(rows):
        if i:
            tokens.append("\\\\")
            probs.append(1.0)
        tokens.extend(row.tokens)
        probs.extend(row.token_probs)
    tokens.append("\\end{gathered}")
    probs.append(1.0)
    score = float(np.mean([r.best.score for r in rows]))
    valid = all(r.valid for r in rows)
    hypothesis = Hypothesis(latex, tuple(tokens), score, tuple(probs), valid)
    return Reading((hypothesis,), 0, whole.handwritten)
