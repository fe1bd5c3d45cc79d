"""A page image (a scan, a photo of a page, a PDF page without text) cut into blocks.

The page is straightened (the tilt of its lines, ``imaging.geometry``), split into two columns
where most bands of the page are blank at the same place near the middle, and each column cut
at blank rows into strips (lines of ink); strips close together form a block (a paragraph, a
display formula with its fraction's parts, a heading), a new block starting at a wider gap or
where lines turn from full width to centred. The recognition pipeline reads each block, which
is the kind of picture it was made for (a formula, a few lines of prose), not the whole page.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from scipix.imaging.enhance import ink_mask
from scipix.imaging.geometry import measure_skew, rotate_image

Gray = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]
#: Blank rows wider than this share of a line's height separate blocks.
BLOCK_GAP = 0.45
#: A centred line stands this many line heights off both edges of its column.
CENTRED = 1.5
#: The gutter: blank in this share of the bands with ink on both sides, and this wide (lines).
GUTTER_SHARE = 0.4
GUTTER_WIDTH = 0.5
PAD = 4
#: Tilts smaller than this (degrees) are left alone.
MIN_TILT = 0.1

Box = tuple[int, int, int, int]  # x0, y0, x1, y1


def straighten(gray: Gray) -> Gray:
    """The page turned so that its lines run level (unchanged when it is level already)."""
    tilt, gain = measure_skew(ink_mask(gray))
    return rotate_image(gray, -tilt) if abs(tilt) >= MIN_TILT and gain > 1.05 else gray


def _runs(flags: Mask) -> list[tuple[int, int]]:
    """(start, end) of each run of True in a 1-d array."""
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def line_height(ink: Mask) -> float:
    rows = _runs(ink.sum(axis=1) >= 2)
    heights = sorted(b - a for a, b in rows if b - a >= 4)
    return float(heights[len(heights) // 2]) if heights else 20.0


def find_gutter(ink: Mask, h: float) -> int | None:
    """The x of the blank between two columns, or None: in most bands of the page that have
    ink on both sides of it, a gap about as wide as a gutter (not a display's wide margin)."""
    height, width = ink.shape
    band = max(int(2 * h), 8)
    lo, hi = int(0.3 * width), int(0.7 * width)
    xs = np.arange(lo, hi)
    blank = np.zeros(hi - lo)
    both = np.zeros(hi - lo)
    for top in range(0, height, band):
        seen = np.flatnonzero(ink[top : top + band].any(axis=0))
        if seen.size < 2:
            continue
        k = np.searchsorted(seen, xs)
        inside = (k > 0) & (k < seen.size)
        left = xs - seen[np.clip(k - 1, 0, seen.size - 1)]
        right = seen[np.clip(k, 0, seen.size - 1)] - xs
        gap = left + right
        both += inside
        blank += (
            inside & (left > GUTTER_WIDTH * h / 2) & (right > GUTTER_WIDTH * h / 2) & (gap < 3 * h)
        )
    share = np.where(both >= 8, blank / np.maximum(both, 1), 0.0)
    best = int(np.argmax(share))
    return lo + best if share[best] >= GUTTER_SHARE else None


def _spans(strip: Mask, gutter: int, h: float) -> bool:
    """Whether a strip of ink is one line across the gutter: ink on it, or only a word's gap
    there (narrow for the line's height: a title in large type), not a gutter between two."""
    seen = np.flatnonzero(strip.any(axis=0))
    half = max(int(GUTTER_WIDTH * h / 2), 2)
    left, right = seen[seen < gutter - half], seen[seen > gutter + half]
    if seen.size == 0 or left.size + right.size < seen.size:
        return seen.size > 0
    if left.size == 0 or right.size == 0:
        return False
    height = strip.shape[0]
    return bool(height <= 2 * h and right[0] - left[-1] < 0.4 * height)


def _regions(ink: Mask, h: float, gutter: int | None) -> list[Box]:
    """Column regions in reading order: full-width sections (strips of ink that cross the
    gutter: a title, an abstract), and two-column sections' left then right halves."""
    height, width = ink.shape
    if gutter is None:
        return [(0, 0, width, height)]
    sections: list[tuple[bool, int, int]] = []
    for a, b in _runs(np.asarray(ink.any(axis=1), dtype=bool)):
        wide = _spans(ink[a:b], gutter, h)
        if sections and sections[-1][0] == wide:
            sections[-1] = (wide, sections[-1][1], b)
        else:
            sections.append((wide, a, b))
    found: list[Box] = []
    for wide, top, bottom in sections:
        if wide:
            found.append((0, top, width, bottom))
        else:
            found += [(0, top, gutter, bottom), (gutter, top, width, bottom)]
    return found


def _tag_start(ink: Mask, h: float) -> int | None:
    """Where an equation number set far right of the ink begins, or None."""
    segments: list[tuple[int, int]] = []
    for a, b in _runs(np.asarray(ink.any(axis=0), dtype=bool)):
        if segments and a - segments[-1][1] < h / 2:  # glyphs of one word: "(", "1", ")"
            segments[-1] = (segments[-1][0], b)
        else:
            segments.append((a, b))
    if len(segments) > 1:
        (_, a_end), (b_start, b_end) = segments[-2], segments[-1]
        if b_start - a_end > 2 * h and b_end - b_start < 2.5 * h:
            return a_end
    return None


def _centred(ink: Mask, left: int, right: int, h: float) -> bool:
    cols = np.flatnonzero(ink.any(axis=0))
    if cols.size == 0:
        return False
    tag = _tag_start(ink, h)  # an equation number far right does not count
    x1 = cols[-1] if tag is None else tag
    return bool(cols[0] - left > CENTRED * h and right - x1 > CENTRED * h)


def blocks(gray: Gray) -> tuple[list[Box], int | None]:
    """Boxes of the page's blocks (see the module docstring) in reading order, and the x of
    the gutter between two columns (None: one column)."""
    ink = ink_mask(gray)
    h = line_height(ink)
    gutter = find_gutter(ink, h)
    found: list[Box] = []
    for x0, y0, x1, y1 in _regions(ink, h, gutter):
        part = ink[y0:y1, x0:x1]
        cols = np.flatnonzero(part.any(axis=0))
        if cols.size == 0:
            continue
        left, right = int(cols[0]), int(cols[-1])
        current: list[tuple[int, int]] = []
        mode = None
        for a, b in _runs(part.sum(axis=1) >= 2):
            centred = _centred(part[a:b], left, right, h)
            if current and (a - current[-1][1] > BLOCK_GAP * h or centred != mode):
                found.append(_box(part, current, x0, y0, h if mode else None))
                current = []
            current.append((a, b))
            mode = centred
        if current:
            found.append(_box(part, current, x0, y0, h if mode else None))
    return found, gutter


def _box(part: Mask, strips: list[tuple[int, int]], x0: int, y0: int, tag_h: float | None) -> Box:
    """The block's box; a display formula's (``tag_h``: the line height) without its number."""
    top, bottom = strips[0][0], strips[-1][1]
    rows = part[top:bottom]
    cols = np.flatnonzero(rows.any(axis=0))
    right = int(cols[-1])
    if tag_h is not None:
        tag = _tag_start(rows, tag_h)
        right = right if tag is None else tag
    return (
        x0 + max(int(cols[0]) - PAD, 0),
        y0 + max(top - PAD, 0),
        x0 + right + PAD + 1,
        y0 + bottom + PAD,
    )
