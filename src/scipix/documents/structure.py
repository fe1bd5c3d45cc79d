"""Lines of glyphs into a page's structure: prose with inline math, display formulas, headings,
the title, table rows, and running headers / page numbers (``page_info``, left out of the text).

Everything is measured in the page's body size ``S`` (see ``lines.py``). A line is a display
formula when it holds math glyphs, (almost) no words of text and stands apart from the column's
edges (centred) or holds a big operator; neighbouring formula lines (a fraction's numerator,
its bar, its denominator, limits) are one formula. Inline math is a run of math glyphs and the
digits, operators and function names between them, without a word of text inside.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from scipix.documents.lines import WORD_GAP, Line
from scipix.documents.mathtext import FUNCTIONS, text_layer_latex
from scipix.documents.textlayer import OCR_FONT, Glyph

TAG = re.compile(r"^\((\d+(?:\.\d+)*[a-z]?)\)$")
CELL_GAP = 1.0
DISPLAY_MARGIN = 1.5
FORMULA_GAP = 0.9
_TRIM = frozenset(".,;:-")


@dataclass
class Part:
    """Prose (``text``) or math; math ``value`` None until its crop has been read."""

    kind: str
    value: str | None
    glyphs: list[Glyph] = field(default_factory=list)

    def box(self) -> tuple[float, float, float, float]:
        return _box(self.glyphs)


@dataclass
class Draft:
    """One line of the page's structure, before its math crops are read."""

    kind: str
    parts: list[Part]
    glyphs: list[Glyph]
    column: int
    size: float
    block: int = 0
    level: int = 0
    tag: str | None = None


def _box(glyphs: Sequence[Glyph]) -> tuple[float, float, float, float]:
    return (
        min(g.x0 for g in glyphs),
        min(g.y0 for g in glyphs),
        max(g.x1 for g in glyphs),
        max(g.y1 for g in glyphs),
    )


def word_break(left: Glyph, right: Glyph, size: float) -> bool:
    """Whether a space stands between two neighbouring glyphs: a gap wider than
    :data:`WORD_GAP` ``S``, or two words read by OCR (whose boxes, estimated from the text
    recognizer's character positions, may touch)."""
    if left.font == OCR_FONT and right.font == OCR_FONT:
        return True
    return right.x0 - left.x1 > WORD_GAP * size


def _label(line: Line, size: float) -> list[str]:
    """Per glyph: M (math), T (a letter of prose) or N (digit, operator, punctuation, a
    function name's letter, a script)."""
    labels = [
        "M" if g.math else "T" if any(c.isalpha() for c in g.ch) else "N" for g in line.glyphs
    ]
    start = 0
    glyphs = line.glyphs
    for i in range(1, len(glyphs) + 1):
        if i == len(glyphs) or word_break(glyphs[i - 1], glyphs[i], size):
            word = "".join(g.ch for g in glyphs[start:i])
            letters = word.strip("(),.;:")
            if letters in FUNCTIONS:
                for k in range(start, i):
                    labels[k] = "N"
            start = i
    for k, g in enumerate(glyphs):
        if labels[k] == "T" and g.size < 0.85 * size and _touches_math(labels, k):
            labels[k] = "N"  # a script letter (x_i set in the script font)
    return labels


def _touches_math(labels: list[str], k: int) -> bool:
    return (k > 0 and labels[k - 1] == "M") or (k + 1 < len(labels) and labels[k + 1] == "M")


def _split_tag(line: Line, size: float) -> tuple[list[Glyph], str | None]:
    """The line without a trailing equation number ``(1)`` set apart at the right, and the
    number."""
    glyphs = line.glyphs
    for start in range(len(glyphs) - 1, 0, -1):
        if glyphs[start].x0 - glyphs[start - 1].x1 > 2 * size:
            text = "".join(g.latex or g.ch for g in glyphs[start:]).replace(" ", "")
            match = TAG.match(text)
            if match and not any(g.math and g.latex is None for g in glyphs[start:]):
                return glyphs[:start], match.group(1)
            break
    return glyphs, None


def inline_parts(glyphs: Sequence[Glyph], labels: Sequence[str], size: float) -> list[Part]:
    """Prose and inline math of one line, left to right: each stretch without a letter of
    prose that holds a math glyph is one formula (trailing punctuation left to the prose)."""
    parts: list[Part] = []
    i, n = 0, len(glyphs)
    while i < n:
        prose = labels[i] == "T"
        j = i
        while j < n and (labels[j] == "T") == prose:
            j += 1
        run = list(glyphs[i:j])
        i = j
        if prose or not any(g.math for g in run):
            _add_text(parts, run, size)
            continue
        head: list[Glyph] = []
        while run and not run[0].math and run[0].ch in _TRIM:
            head.append(run.pop(0))
        tail: list[Glyph] = []
        while run and not run[-1].math and run[-1].ch in _TRIM | {"("}:
            tail.insert(0, run.pop())
        _add_text(parts, head, size)
        parts.append(Part("math", text_layer_latex(run), run))
        _add_text(parts, tail, size)
    return parts


def _add_text(parts: list[Part], glyphs: Sequence[Glyph], size: float) -> None:
    if not glyphs:
        return
    text = spell(glyphs, size)
    if parts and parts[-1].kind == "text":
        last = parts[-1]
        space = " " if word_break(last.glyphs[-1], glyphs[0], size) else ""
        last.value = (last.value or "") + space + text
        last.glyphs.extend(glyphs)
    else:
        parts.append(Part("text", text, list(glyphs)))


def spell(glyphs: Sequence[Glyph], size: float) -> str:
    """Glyphs as text, a space where the gap is a word gap; ligatures spelled out."""
    out = []
    for k, g in enumerate(glyphs):
        if k and word_break(glyphs[k - 1], g, size):
            out.append(" ")
        out.append(g.ch)
    return unicodedata.normalize("NFKC", "".join(out))


def is_display(
    line: Line,
    glyphs: Sequence[Glyph],
    labels: Sequence[str],
    edges: tuple[float, float],
    size: float,
) -> bool:
    """Math glyphs, hardly any prose, and set apart from both edges or holding a big operator."""
    if "M" not in labels:
        return False
    prose = labels.count("T") / len(labels)
    big = any(g.font.upper().startswith("CMEX") for g in glyphs)
    x0, x1 = min(g.x0 for g in glyphs), max(g.x1 for g in glyphs)
    centred = x0 - edges[0] > DISPLAY_MARGIN * size and edges[1] - x1 > DISPLAY_MARGIN * size
    alone = all(g.latex is not None for g in glyphs)  # a formula alone on a line of a scan
    return prose <= 0.3 and (centred or alone or (big and prose == 0))


def cells(glyphs: Sequence[Glyph], size: float) -> list[list[Glyph]]:
    """A line cut at gaps wider than :data:`CELL_GAP` ``S`` (a table row's cells)."""
    found: list[list[Glyph]] = []
    for k, g in enumerate(glyphs):
        if k == 0 or g.x0 - glyphs[k - 1].x1 > CELL_GAP * size:
            found.append([g])
        else:
            found[-1].append(g)
    return found
