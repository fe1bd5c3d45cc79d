"""Page layout from ink components: lines (with fractions and accents kept whole) and segments.

Projection alone splits a fraction into numerator, bar and denominator; so bands of overlapping
components are merged when the gap between them is small for the glyph size, or when one of them
is thin (a fraction bar, an accent, a dot row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scipix.imaging.components import Boxes, IntArray, group_intervals

#: Bands closer than this many typical glyph heights belong to one line.
LINE_GAP = 0.3
#: A band thinner than this many glyph heights (bar, accent) joins a neighbour this close.
THIN_BAND = 0.45
THIN_GAP = 0.9
#: A band of at most this many parts, centred on a component this many glyph heights tall in
#: the neighbouring band, is that operator's limit (``\sum_{i=1}^n``).
LIMIT_PARTS = 6
BIG_OPERATOR = 1.5


@dataclass(frozen=True)
class Line:
    """One line of the page: its box (x0, y0, x1, y1) and the indices of its components."""

    box: tuple[int, int, int, int]
    members: IntArray


def glyph_height(boxes: Boxes) -> float:
    """The typical height of a glyph (the median over components that are not rules or specks)."""
    glyphs = (boxes.w <= 3 * boxes.h) & (boxes.h >= 3)
    heights = boxes.h[glyphs] if glyphs.any() else boxes.h
    return float(np.median(heights)) if heights.shape[0] else 1.0


def find_lines(boxes: Boxes) -> list[Line]:
    """The lines of a page, top to bottom."""
    if len(boxes) == 0:
        return []
    typical = glyph_height(boxes)
    labels = group_intervals(boxes.y, boxes.y1)
    count = int(labels.max()) + 1
    tops = np.full(count, np.iinfo(np.int64).max)
    bottoms = np.zeros(count, dtype=np.int64)
    np.minimum.at(tops, labels, boxes.y)
    np.maximum.at(bottoms, labels, boxes.y1)
    merged = np.zeros(count, dtype=np.int64)
    line = 0
    for band in range(1, count):
        a, b = band - 1, band
        gap = tops[b] - bottoms[a]
        thin = min(bottoms[b] - tops[b], bottoms[a] - tops[a])
        joined = gap <= LINE_GAP * typical
        if not joined and gap <= THIN_GAP * typical:
            joined = thin < THIN_BAND * typical or is_limit(boxes, labels, a, b, typical)
        line += 0 if joined else 1
        merged[band] = line
    line_of = merged[labels]
    result = []
    for k in range(line + 1):
        members = np.flatnonzero(line_of == k)
        result.append(Line(boxes.select(members).bounds(), members))
    return result


def is_limit(boxes: Boxes, labels: IntArray, a: int, b: int, typical: float) -> bool:
    """Whether one of two adjacent bands is a short limit or index centred on a big operator
    (a sum, an integral) of the other band."""
    for small, big in ((a, b), (b, a)):
        members = labels == small
        if int(members.sum()) > LIMIT_PARTS:
            continue
        centre = (boxes.x[members].min() + boxes.x1[members].max()) / 2.0
        other = (labels == big) & (boxes.h >= BIG_OPERATOR * typical)
        if bool(((boxes.x[other] <= centre) & (centre <= boxes.x1[other])).any()):
            return True
    return False


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
