"""A born-digital page's lines into :class:`~scipix.documents.structure.Draft` lines in reading
order, with their kinds and paragraph blocks (see ``structure.py`` for the rules)."""

from __future__ import annotations

from collections.abc import Sequence

from scipix.documents.lines import Line
from scipix.documents.mathtext import text_layer_latex
from scipix.documents.structure import (
    FORMULA_GAP,
    Draft,
    Part,
    _box,
    _label,
    _split_tag,
    cells,
    inline_parts,
    is_display,
    spell,
)

#: Running headers and page numbers live in these top and bottom shares of the page.
TOP_BAND = 0.12
BOTTOM_BAND = 0.2
INFO_GLYPHS = 60
#: A running header or footer has at most this many lines.
INFO_LINES = 2


def column_edges(lines: Sequence[Line]) -> dict[int, tuple[float, float]]:
    """Each column's left and right edge (the 10th / 90th percentile of its lines' ends)."""
    edges: dict[int, tuple[float, float]] = {}
    for column in {ln.column for ln in lines}:
        mine = [ln for ln in lines if ln.column == column]
        lefts = sorted(ln.x0 for ln in mine)
        rights = sorted(ln.x1 for ln in mine)
        edges[column] = (lefts[len(lefts) // 10], rights[(len(rights) * 9) // 10])
    return edges


def page_info(lines: Sequence[Line], height: float, size: float) -> set[int]:
    """Indices of the lines that are running headers, footers or page numbers: short lines in
    the top or bottom band, set apart from the body by a gap."""
    order = sorted(range(len(lines)), key=lambda i: lines[i].y0)
    found: set[int] = set()
    for k, i in enumerate(order[:INFO_LINES]):
        line = lines[i]
        if line.y1 > TOP_BAND * height or len(line.glyphs) > INFO_GLYPHS:
            break
        below = lines[order[k + 1]].y0 if k + 1 < len(order) else height
        if below - line.y1 > 0.8 * size:
            found.update(order[: k + 1])
            break
    for k in range(len(order) - 1, max(len(order) - 1 - INFO_LINES, -1), -1):
        line = lines[order[k]]
        if line.y0 < (1 - BOTTOM_BAND) * height or len(line.glyphs) > INFO_GLYPHS:
            break
        above = lines[order[k - 1]].y1 if k > 0 else 0.0
        if line.y0 - above > 1.5 * size:
            found.update(order[k:])
            break
    return found


def drafts(lines: Sequence[Line], size: float, height: float, first_page: bool) -> list[Draft]:
    """The page's lines, classified and numbered into blocks, in reading order."""
    edges = column_edges(lines)
    dropped = page_info(lines, height, size)
    found: list[Draft] = []
    for index, line in enumerate(lines):
        if index in dropped:
            found.append(
                Draft(
                    "page_info",
                    [Part("text", spell(line.glyphs, size), line.glyphs)],
                    line.glyphs,
                    line.column,
                    line.size,
                )
            )
            continue
        found.append(_draft(line, size, edges[line.column], first_page))
    _join_formulas(found, size)
    _number_blocks(found, size, edges)
    return found


def _draft(line: Line, size: float, edges: tuple[float, float], first_page: bool) -> Draft:
    glyphs, tag = _split_tag(line, size)
    labels = _label(line, size)[: len(glyphs)]
    if is_display(line, glyphs, labels, edges, size):
        formula = Part("math", None, list(glyphs))
        if all(g.latex is not None for g in glyphs):  # read by OCR already
            formula.value = text_layer_latex(glyphs)
        return Draft("display", [formula], list(line.glyphs), line.column, line.size, tag=tag)
    kind, level = _heading(line, size, first_page)
    if kind != "text":
        return Draft(
            kind,
            [Part("text", spell(line.glyphs, size), line.glyphs)],
            line.glyphs,
            line.column,
            line.size,
            level=level,
        )
    row = cells(line.glyphs, size)
    if len(row) >= 3:
        parts = []
        for cell in row:
            cell_labels = _label(Line(cell, line.column), size)
            sub = inline_parts(cell, cell_labels, size)
            parts.append(sub[0] if len(sub) == 1 else Part("text", spell(cell, size), cell))
        return Draft("table", parts, line.glyphs, line.column, line.size)
    return Draft(
        "text",
        inline_parts(line.glyphs, _label(line, size), size),
        line.glyphs,
        line.column,
        line.size,
    )


def _heading(line: Line, size: float, first_page: bool) -> tuple[str, int]:
    if any(g.math for g in line.glyphs) or len(line.glyphs) > 120:
        return "text", 0
    big = line.size / size
    if first_page and big >= 1.6:
        return "title", 0
    letters = [g for g in line.glyphs if g.ch.isalpha()]
    if not letters or sum(g.bold for g in letters) < 0.8 * len(letters):
        return "text", 0
    if big >= 1.3:
        return "heading", 1
    if big >= 1.1:
        return "heading", 2
    return "heading", 3


def _join_formulas(found: list[Draft], size: float) -> None:
    """A display line and its neighbours without prose (a fraction's numerator and
    denominator, limits, another row) that touch it from above or below are one formula."""
    k = 0
    while k + 1 < len(found):
        a, b = found[k], found[k + 1]
        if _joinable(a, b, size):
            glyphs = [g for d in (a, b) for p in d.parts for g in p.glyphs]
            merged = Draft(
                "display",
                [Part("math", None, glyphs)],
                a.glyphs + b.glyphs,
                a.column,
                max(a.size, b.size),
                tag=a.tag or b.tag,
            )
            found[k] = merged
            del found[k + 1]
            k = max(k - 1, 0)
            continue
        k += 1


def _joinable(a: Draft, b: Draft, size: float) -> bool:
    if a.column != b.column or "display" not in (a.kind, b.kind):
        return False
    if not (_formula_piece(a, size) and _formula_piece(b, size)):
        return False
    ax0, ay0, ax1, ay1 = _box(a.glyphs)
    bx0, by0, bx1, by1 = _box(b.glyphs)
    gap = max(by0 - ay1, ay0 - by1)
    return gap < FORMULA_GAP * size and min(ax1, bx1) > max(ax0, bx0)


def _formula_piece(draft: Draft, size: float) -> bool:
    """A display line, or a line without a letter of prose (digits, operators, scripts)."""
    if draft.kind == "display":
        return True
    if draft.kind not in ("text", "table"):
        return False
    return not any(
        not g.math and any(c.isalpha() for c in g.ch) and g.size >= 0.85 * size
        for g in draft.glyphs
    )


def _number_blocks(found: list[Draft], size: float, edges: dict[int, tuple[float, float]]) -> None:
    block = -1
    previous: Draft | None = None
    for draft in found:
        if previous is None or _starts_block(previous, draft, size, edges):
            block += 1
        draft.block = block
        previous = draft


def _starts_block(
    prev: Draft, draft: Draft, size: float, edges: dict[int, tuple[float, float]]
) -> bool:
    if draft.kind != prev.kind or draft.kind in ("display", "heading", "title", "page_info"):
        return True
    if draft.kind == "table":
        return False
    x0, y0, _, _ = _box(draft.glyphs)
    _, _, px1, py1 = _box(prev.glyphs)
    left = edges[draft.column][0]
    _, prev_right = edges[prev.column]
    if x0 - left > 0.8 * size:  # indented: a new paragraph
        return True
    if px1 < prev_right - 2.5 * size:  # the previous line ended short
        return True
    return draft.column == prev.column and y0 - py1 > 0.8 * size
