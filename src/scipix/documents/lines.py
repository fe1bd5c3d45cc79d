"""Glyphs into lines, in reading order: columns, rows of glyphs, words.

The page's body size ``S`` (the most common font size of its glyphs) measures everything: a
glyph joins a line whose centre is within :data:`SAME_LINE` ``S`` of its own; a gap wider than
:data:`WORD_GAP` ``S`` separates words; two columns are split at a gutter near the middle of
the page that only full-width lines (a title, an abstract) cross.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from scipix.documents.textlayer import Glyph

SAME_LINE = 0.55
WORD_GAP = 0.2
#: The gutter between two columns is at least this wide (in S) and lies in the middle half.
GUTTER = 0.5
#: Lines crossing the gutter may hold at most this share of the page's glyphs.
CROSSING_SHARE = 0.35


@dataclass
class Line:
    """Glyphs of one line (sorted left to right) and the column it is in (-1: full width)."""

    glyphs: list[Glyph]
    column: int = 0
    center: float = 0.0
    members: int = field(default=0, repr=False)

    @property
    def x0(self) -> float:
        return min(g.x0 for g in self.glyphs)

    @property
    def x1(self) -> float:
        return max(g.x1 for g in self.glyphs)

    @property
    def y0(self) -> float:
        return min(g.y0 for g in self.glyphs)

    @property
    def y1(self) -> float:
        return max(g.y1 for g in self.glyphs)

    @property
    def size(self) -> float:
        """The line's main font size (the most common among its glyphs)."""
        return Counter(round(g.size, 1) for g in self.glyphs).most_common(1)[0][0]


def body_size(glyphs: Sequence[Glyph]) -> float:
    """The most common font size of the page (10 when there is no text)."""
    if not glyphs:
        return 10.0
    size = Counter(round(g.size, 1) for g in glyphs).most_common(1)[0][0]
    return size if size > 0 else 10.0


def find_gutter(glyphs: Sequence[Glyph], width: float, size: float) -> float | None:
    """The x of the gap between two columns, or None for a one-column page."""
    if len(glyphs) < 50:
        return None
    step = size * 0.25
    bins = int(width / step) + 1
    cover = [0] * bins
    for g in glyphs:
        for b in range(max(int(g.x0 / step), 0), min(int(g.x1 / step), bins - 1) + 1):
            cover[b] += 1
    lo, hi = int(width * 0.3 / step), int(width * 0.7 / step)
    middle = sorted(cover[lo : hi + 1])
    limit = max(2, int(0.1 * middle[len(middle) // 2]))
    best: tuple[int, int] | None = None
    start = None
    for b in range(lo, hi + 1):
        if cover[b] <= limit:
            start = b if start is None else start
            if best is None or b - start > best[1] - best[0]:
                best = (start, b)
        else:
            start = None
    if best is None or (best[1] - best[0] + 1) * step < GUTTER * size:
        return None
    gutter = (best[0] + best[1] + 1) / 2 * step
    left = sum(g.x1 <= gutter for g in glyphs)
    right = sum(g.x0 >= gutter for g in glyphs)
    if min(left, right) < 0.15 * len(glyphs):
        return None
    if len(glyphs) - left - right > CROSSING_SHARE * len(glyphs):
        return None
    return gutter


def find_lines(
    glyphs: Sequence[Glyph], width: float, gutter: float | None = None, find: bool = True
) -> tuple[list[Line], float]:
    """The page's lines in reading order, and its body size. ``gutter``: the x between two
    columns when known (a scan's picture shows it); ``find``: look for it among the glyphs."""
    size = body_size(glyphs)
    if gutter is None and find:
        gutter = find_gutter(glyphs, width, size)
    runs = _runs(glyphs, size)
    if gutter is not None:
        runs = [part for run in runs for part in _split_at(run, gutter, size)]
    lines: list[Line] = []
    for run in runs:
        column = 0
        if gutter is not None:
            x0, x1 = min(g.x0 for g in run), max(g.x1 for g in run)
            column = 1 if x0 >= gutter else 0 if x1 <= gutter else -1
        _place(lines, run, column, size)
    for line in lines:
        line.glyphs.sort(key=lambda g: g.x0)
    return _reading_order(lines), size


def _runs(glyphs: Sequence[Glyph], size: float) -> list[list[Glyph]]:
    """PDFium's order cut where the next glyph is far away (another line or column)."""
    runs: list[list[Glyph]] = []
    for g in glyphs:
        if runs:
            last = runs[-1][-1]
            near = abs(g.mid - last.mid) < SAME_LINE * size and -size < g.x0 - last.x1 < 3 * size
            if near:
                runs[-1].append(g)
                continue
        runs.append([g])
    return runs


def _split_at(run: list[Glyph], gutter: float, size: float) -> list[list[Glyph]]:
    """A run that crosses the gutter in a wide gap (two columns' lines read as one) as two."""
    left = [g for g in run if g.x1 <= gutter]
    right = [g for g in run if g.x0 >= gutter]
    if not left or not right or len(left) + len(right) < len(run):
        return [run]
    gap = min(g.x0 for g in right) - max(g.x1 for g in left)
    if gap < max(GUTTER * size, 0.6 * max(g.size for g in run)):
        return [run]
    return [left, right]


def _place(lines: list[Line], run: list[Glyph], column: int, size: float) -> None:
    """Add a run to the line of its column whose centre is near the run's, else a new line."""
    main = [g for g in run if g.size >= 0.85 * max(x.size for x in run)]
    center = sum(g.mid for g in main) / len(main)
    for line in reversed(lines[-12:]):
        if line.column != column or abs(line.center - center) >= SAME_LINE * size:
            continue
        line.glyphs.extend(run)
        return
    lines.append(Line(list(run), column, center))


def _reading_order(lines: list[Line]) -> list[Line]:
    """Full-width lines cut the page into bands; in a band the left column comes first."""
    ordered: list[Line] = []
    band: list[Line] = []
    for line in sorted(lines, key=lambda ln: ln.center):
        if line.column == -1:
            ordered.extend(sorted(band, key=lambda ln: (ln.column, ln.center)))
            band = []
            ordered.append(line)
        else:
            band.append(line)
    ordered.extend(sorted(band, key=lambda ln: (ln.column, ln.center)))
    return ordered


def words(line: Line, size: float) -> list[list[Glyph]]:
    """The line's glyphs cut into words at gaps wider than :data:`WORD_GAP` ``S``."""
    found: list[list[Glyph]] = []
    right = None
    for g in line.glyphs:
        if right is None or g.x0 - right > WORD_GAP * size:
            found.append([g])
        else:
            found[-1].append(g)
        right = g.x1 if right is None else max(right, g.x1)
    return found
