"""Page layout from ink components: lines, where one formula is one line, and segments.

Projection cuts a page into *bands*: runs of rows that the boxes of ink components overlap. A
formula that spans several rows of ink (a fraction, limits and under/over-scripts, a matrix or
``aligned`` without tall delimiters, a brace over a sum) falls into several bands, so adjacent
bands are joined when they belong to one formula (:func:`joins`, distances in typical glyph
heights of the page):

- rows: bands closer than ``ROW_GAP``, side by side or overlapping, neither of them prose nor
  both lines of one paragraph (long, close, sharing an edge);
- thin ink: a band that is a rule, a bar, a brace, an arrow, an accent or specks joins a
  neighbour it overlaps within ``THIN_GAP`` (also next to prose);
- limits: a short band centred on a big operator of its neighbour (``\\int\\limits_a^b``) joins
  it within ``THIN_GAP`` (also when that neighbour is shaped like prose).

Lines of prose keep apart even at the tight line spacing of a paragraph (they are never joined
as rows); which bands are prose is for the caller to say (the Detect agent's triage). What the
geometry cannot tell apart is joined: two display formulas with nothing between them are one
block, as the rows of ``gathered`` are, and so is a line of one or two short words set between
two formulas as tightly as rows. ``benchmarks/formula_blocks.py`` measures all of this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scipix.imaging.components import Boxes, IntArray, group_intervals, median

#: Rows of a formula: at most this far apart, and horizontally at most ``ROW_REACH`` apart (a
#: superscript beside the row below, a numerator beyond the row above). Rows of ``aligned`` or
#: ``matrix`` are 0.5 to 2.2 glyph heights apart (TeX: a baseline skip plus ``\jot``), lines
#: of a paragraph 0 to 0.45; display formulas are 1.4 or more away from the prose around them.
ROW_GAP = 2.5
ROW_REACH = 1.0
#: Two bands at most ``PARAGRAPH_GAP`` apart, the wider at least ``PARAGRAPH_LENGTH`` long,
#: sharing an edge within ``PARAGRAPH_EDGE``, are lines of one paragraph, not rows of a formula
#: (rows of ``aligned`` start and end at different places, and are a ``\jot`` further apart).
PARAGRAPH_GAP = 0.6
PARAGRAPH_LENGTH = 20.0
PARAGRAPH_EDGE = 0.5
#: A flat component over or under this share of a band's width is its fraction bar or brace.
SPANNED = 0.8
#: A band thinner than this many glyph heights, or made only of flat components (wider than
#: ``FLAT`` times their height: bars, braces, arrows), joins a neighbour this close that it
#: overlaps horizontally by ``THIN_OVERLAP`` of the narrower one's width.
THIN_BAND = 0.45
FLAT = 3.0
THIN_GAP = 0.9
THIN_OVERLAP = 0.5
#: Components at most this many glyph heights tall and wide are specks (dots, broken tails).
SPECK = 0.6
#: A band of at most this many parts, centred on a component this many glyph heights tall in
#: the neighbouring band, is that operator's limit (``\sum_{i=1}^n``).
LIMIT_PARTS = 6
BIG_OPERATOR = 2.0

#: Says whether the components of a band are a line of prose.
Prose = Callable[[Boxes], bool]


@dataclass(frozen=True)
class Line:
    """One line of the page: its box (x0, y0, x1, y1) and the indices of its components."""

    box: tuple[int, int, int, int]
    members: IntArray


def glyph_height(boxes: Boxes) -> float:
    """The typical height of a glyph (the median over components that are not rules or specks)."""
    glyphs = (boxes.w <= 3 * boxes.h) & (boxes.h >= 3)
    heights = boxes.h[glyphs] if glyphs.any() else boxes.h
    return median(heights) if heights.shape[0] else 1.0


def find_lines(boxes: Boxes, prose: Prose | None = None) -> list[Line]:
    """The lines of a page, top to bottom: each band of ink joins the line above it when they
    belong to one formula (see the module docstring), pass after pass until none joins (a
    numerator beside the row above joins it once its fraction is whole). ``prose`` tells which
    bands are prose (None: none is); a line with a band of prose joins no line as a row."""
    bands = find_bands(boxes)
    typical = glyph_height(boxes) if bands else 1.0
    parts = [Part.of(b, prose is not None and prose(boxes.select(b.members))) for b in bands]
    while True:
        joined: list[Part] = []
        for part in parts:
            if joined and joins(boxes, joined[-1], part, typical):
                joined[-1] = joined[-1].join(part, boxes)
            else:
                joined.append(part)
        if len(joined) == len(parts):
            return [Line(p.line.box, np.sort(p.line.members)) for p in joined]
        parts = joined


@dataclass(frozen=True)
class Part:
    """A line in the making: its box and components, whether one of its bands is prose, and
    its top and bottom bands."""

    line: Line
    prose: bool
    top: Line
    bottom: Line

    @classmethod
    def of(cls, band: Line, prose: bool) -> Part:
        return cls(band, prose, band, band)

    def join(self, below: Part, boxes: Boxes) -> Part:
        members = np.concatenate([self.line.members, below.line.members])
        line = Line(boxes.select(members).bounds(), members)
        return Part(line, self.prose or below.prose, self.top, below.bottom)


def find_bands(boxes: Boxes) -> list[Line]:
    """The bands of a page, top to bottom: components whose rows overlap, transitively."""
    if len(boxes) == 0:
        return []
    labels = group_intervals(boxes.y, boxes.y1)
    order = np.argsort(labels, kind="stable")
    splits = np.cumsum(np.bincount(labels))[:-1]  # labels: 0 … k-1, each used
    return [Line(boxes.select(m).bounds(), m) for m in np.split(order, splits)]


def joins(boxes: Boxes, above: Part, below: Part, typical: float) -> bool:
    """Whether a line belongs to the one above it: as a row (neither is prose, and they are not
    two lines of a paragraph), as thin ink over or under it, or as a big operator's limit (or
    the other way round)."""
    (a0, _, a1, a_bottom), (b0, b_top, b1, _) = above.line.box, below.line.box
    gap, overlap = b_top - a_bottom, min(a1, b1) - max(a0, b0)
    rows = not (above.prose or below.prose)
    if rows and gap <= ROW_GAP * typical and overlap >= -ROW_REACH * typical:
        return not in_paragraph(boxes, above.bottom, below.top, typical)
    if gap > THIN_GAP * typical or overlap < THIN_OVERLAP * min(a1 - a0, b1 - b0):
        return False
    top, bottom = above.line, below.line
    if is_thin(boxes, top, typical) or is_thin(boxes, bottom, typical):
        return True
    return is_limit(boxes, top, bottom, typical) or is_limit(boxes, bottom, top, typical)


def in_paragraph(boxes: Boxes, above: Line, below: Line, typical: float) -> bool:
    """Whether two bands are lines of one paragraph: close, neither of them short of parts, the
    wider one long, sharing the left edge (a last line, ragged right) or the right edge (a
    justified line after an indented one), and not a fraction's bar under the other."""
    (a0, _, a1, a_bottom), (b0, b_top, b1, _) = above.box, below.box
    if b_top - a_bottom > PARAGRAPH_GAP * typical:
        return False
    if min(above.members.shape[0], below.members.shape[0]) <= LIMIT_PARTS:
        return False
    if max(a1 - a0, b1 - b0) < PARAGRAPH_LENGTH * typical:
        return False
    edge = PARAGRAPH_EDGE * typical
    if abs(a0 - b0) > edge and abs(a1 - b1) > edge:
        return False
    return not (spans(boxes, above, below) or spans(boxes, below, above))


def spans(boxes: Boxes, bar: Line, other: Line) -> bool:
    """Whether a flat component of ``bar`` (a fraction bar, a brace) spans most of ``other``."""
    part = boxes.select(bar.members)
    flat = part.select(part.w >= FLAT * part.h)
    x0, _, x1, _ = other.box
    covered = np.minimum(flat.x1, x1) - np.maximum(flat.x, x0)
    return bool((covered >= SPANNED * (x1 - x0)).any())


def is_thin(boxes: Boxes, band: Line, typical: float) -> bool:
    """A band of thin, flat or tiny ink only: a fraction bar, a rule, a brace, an arrow, an
    accent, dots, or the tails of letters that came apart in a coarse scan."""
    part = boxes.select(band.members)
    if band.box[3] - band.box[1] < THIN_BAND * typical or bool((part.w >= FLAT * part.h).all()):
        return True
    return bool(((part.h <= SPECK * typical) & (part.w <= SPECK * typical)).all())


def is_limit(boxes: Boxes, small: Line, big: Line, typical: float) -> bool:
    """Whether ``small`` is a short limit or index centred on a big operator (a sum, an
    integral) of ``big``."""
    if small.members.shape[0] > LIMIT_PARTS:
        return False
    centre = (small.box[0] + small.box[2]) / 2.0
    other = boxes.select(big.members)
    tall = other.h >= BIG_OPERATOR * typical
    return bool(((other.x[tall] <= centre) & (centre <= other.x1[tall])).any())


def split_at(boxes: Boxes, members: IntArray, cuts: list[tuple[int, int]]) -> list[IntArray]:
    """Split a line's components into runs between the x-ranges in ``cuts`` (text spans):
    components whose centre falls inside a cut are dropped, the rest grouped left to right into
    runs that no cut separates."""
    if members.shape[0] == 0:
        return []
    centre = boxes.x[members] + boxes.w[members] / 2.0
    slot = np.zeros(members.shape[0], dtype=np.int64)
    inside = np.zeros(members.shape[0], dtype=bool)
    for k, (x0, x1) in enumerate(sorted(cuts)):
        inside |= (centre >= x0) & (centre < x1)
        slot += centre >= x1
        del k
    runs = []
    for s in np.unique(slot[~inside]):
        runs.append(members[(slot == s) & ~inside])
    return runs
