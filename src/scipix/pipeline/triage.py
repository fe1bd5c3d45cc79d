"""Triage: which lines of a page may hold prose, decided from the shape of their ink alone.

The text OCR costs much more than this geometry, so only lines that may hold prose are read by
it. A line is sorted by a few statistics of its ink components, measured in typical glyph heights
(so that the sizes of fonts and scans do not matter):

- ``glyphs``: letter-sized components (rules, dots, commas and specks left out);
- ``aligned``: the share of glyphs whose bottom lies on the line's most common baseline. Printed
  prose sits on one baseline (only descenders leave it); mathematics leaves it all the time:
  scripts, operators on the math axis, numerators and denominators, big operators;
- ``stacked``: the share of glyphs with another glyph or a rule straight above or below them
  (fractions, limits, over- and underscripts); prose has none;
- ``words``: runs of four or more glyphs on the baseline, closer together than a word space;
- ``length``: the line's width in glyph heights.

Kinds: ``text`` (long enough, on one baseline, nothing stacked, with words: the text OCR reads it
first), ``math`` (short, or clearly off the baseline or stacked: the formula recognizer only) and
``unsure`` (the formula recognizer first; the text OCR only when that reading is weak). A page's
only line of one word is ``unsure`` whatever its shape (``page_line_kind``): ``\\det A=ad-bc``
and ``Solution`` look alike. Of 40
rendered formulas, 79 school formulas, 148 im2latex images and 59 handwritten CROHME expressions
(train splits), 0, 2, 10 and 0 came out ``text``; of 52 printed text lines, 47 did (the others:
lines of one or two short words, and one ``unsure``); of 12 lines of prose with inline formulas,
7 (the others ``unsure``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from scipix.imaging.components import Boxes
from scipix.imaging.layout import glyph_height

LineKind = Literal["math", "text", "unsure"]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Shorter lines (in glyphs, or in glyph heights) are formulas: too short for the prose that the
#: Detect agent keeps (two words, or one word of four letters next to other prose).
MIN_TEXT_GLYPHS = 6
MIN_TEXT_LENGTH = 4.0
#: A text line: at least this share of glyphs on one baseline, at most this share stacked.
TEXT_ALIGNED = 0.75
TEXT_STACKED = 0.1
#: A formula: at most this share on one baseline, or at least this share stacked.
MATH_ALIGNED = 0.5
MATH_STACKED = 0.25
#: Baseline tolerance and the gap that ends a word, in glyph heights.
BASELINE_TOLERANCE = 0.12
WORD_GAP = 0.3
WORD_GLYPHS = 4
#: A band of prose (which the layout never joins to a neighbour as a formula's row): shaped like
#: text with at least this many words, or not shaped like math and at least this long.
PROSE_WORDS = 2
PROSE_LENGTH = 30.0


@dataclass(frozen=True)
class LineShape:
    """The statistics of one line's ink that the triage decides on."""

    glyphs: int
    aligned: float
    stacked: float
    words: int
    length: float

    @property
    def kind(self) -> LineKind:
        if self.glyphs < MIN_TEXT_GLYPHS or self.length < MIN_TEXT_LENGTH:
            return "math"
        if self.aligned <= MATH_ALIGNED or self.stacked >= MATH_STACKED:
            return "math"
        if self.aligned >= TEXT_ALIGNED and self.stacked <= TEXT_STACKED and self.words > 0:
            return "text"
        return "unsure"

    @property
    def one_word(self) -> bool:
        """On one baseline, nothing stacked, one word, short: as a page's only line its shape
        cannot tell a heading (``Solution``, ``Proof.``, ``We have``) from a short formula
        (``\\det A=ad-bc``): the statistics are the same."""
        flat = self.aligned >= TEXT_ALIGNED and self.stacked <= TEXT_STACKED
        return flat and self.words == 1 and self.length < PROSE_LENGTH


def page_line_kind(shape: LineShape, lines: int) -> LineKind:
    """The kind of a line on a page of ``lines`` lines: a page's only line of one word
    (:attr:`LineShape.one_word`) is ``unsure``, whatever its length: the formula recognizer reads
    it first (one crop), and the text OCR only when that reading is weak (then its words must
    look like words, ``prose.word_like``); a formula crop read surely never loads the text OCR."""
    if lines == 1 and shape.one_word:
        return "unsure"
    return shape.kind


def line_shape(boxes: Boxes) -> LineShape:
    """The shape of one line, from the boxes of its ink components."""
    if len(boxes) == 0:
        return LineShape(0, 0.0, 0.0, 0, 0.0)
    typical = glyph_height(boxes)
    is_glyph = (boxes.h >= 0.5 * typical) & (boxes.w <= 3 * boxes.h)
    is_rule = (boxes.w > 3 * boxes.h) & (boxes.w >= 0.8 * typical)
    glyphs = boxes.select(is_glyph)
    bottoms = glyphs.y1.astype(np.float64)
    on_base = on_baseline(bottoms, max(1.5, BASELINE_TOLERANCE * typical))
    x0, _, x1, _ = boxes.bounds()
    return LineShape(
        glyphs=len(glyphs),
        aligned=float(on_base.mean()) if len(glyphs) else 0.0,
        stacked=stacked_share(glyphs, boxes.select(is_glyph | is_rule)),
        words=word_count(glyphs, on_base, WORD_GAP * typical),
        length=(x1 - x0) / max(typical, 1.0),
    )


def is_prose(boxes: Boxes) -> bool:
    """Whether a band of ink is a line of prose (perhaps with inline math), which the layout
    never joins to a neighbour as a formula's row: shaped like text with two words or more, or
    long and not shaped like math. A row of a formula rarely is (``formula_blocks.py``: an
    integral with limits, which joins them all the same as a big operator's; a row of
    ``alignedat`` with "(by the lemma)" at 100 dpi, which stays apart)."""
    return is_prose_shape(line_shape(boxes))


def is_prose_shape(shape: LineShape) -> bool:
    """:func:`is_prose` from the line's :func:`line_shape`."""
    if shape.kind == "text" and shape.words >= PROSE_WORDS:
        return True
    return shape.kind != "math" and shape.length >= PROSE_LENGTH


def on_baseline(bottoms: FloatArray, tolerance: float) -> BoolArray:
    """Which bottoms lie within ``tolerance`` of the most common one (the baseline)."""
    if bottoms.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    near = np.abs(bottoms[:, None] - bottoms[None, :]) <= tolerance
    return np.asarray(near[int(near.sum(axis=1).argmax())])


def stacked_share(glyphs: Boxes, others: Boxes) -> float:
    """The share of ``glyphs`` with one of ``others`` straight above or below: overlapping it
    horizontally by half the narrower one's width, and not at all vertically."""
    if len(glyphs) == 0 or len(others) == 0:
        return 0.0
    overlap = np.minimum(glyphs.x1[:, None], others.x1[None, :]) - np.maximum(
        glyphs.x[:, None], others.x[None, :]
    )
    narrower = np.minimum(glyphs.w[:, None], others.w[None, :])
    apart = (glyphs.y1[:, None] <= others.y[None, :]) | (others.y1[None, :] <= glyphs.y[:, None])
    stacked = ((overlap >= 0.5 * narrower) & apart).any(axis=1)
    return float(stacked.mean())


def word_count(glyphs: Boxes, on_base: BoolArray, gap: float) -> int:
    """Runs of ``WORD_GLYPHS`` or more glyphs on the baseline, each closer than ``gap`` to the
    one before (left to right; a glyph off the baseline ends a run)."""
    count, run, last_end = 0, 0, None
    for i in np.argsort(glyphs.x, kind="stable"):
        if on_base[i] and last_end is not None and glyphs.x[i] - last_end <= gap:
            run += 1
        else:
            count += run >= WORD_GLYPHS
            run = 1 if on_base[i] else 0
        last_end = int(glyphs.x1[i]) if on_base[i] else None
    return count + (run >= WORD_GLYPHS)
