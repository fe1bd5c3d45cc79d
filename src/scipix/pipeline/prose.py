"""Prose in a line: read chosen lines with the text OCR, and split a line into prose (text) and
mathematics (math) regions from the words it read.

The text OCR reads only the lines it is given (see ``triage.py`` for which): one call per page on
the band of rows that holds them, with the ink of every other line in that band blanked, so no
pixel is read twice. In each line, runs of prose words become text regions and what lies between
them (the ink the OCR did not read as words) becomes math regions for the formula recognizer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from scipix.imaging.components import Boxes
from scipix.imaging.layout import Line, glyph_height, split_at
from scipix.imaging.page import Gray
from scipix.latex.symbols import FUNCTION_NAMES
from scipix.pipeline.job import Box, Layout, Region, Word
from scipix.recognition.text import LINE_MARGIN, TextLine, TextRecognizer

#: Words that look like prose but are mathematics: the (lower-case) function names, a few more
#: operator names and differentials.
MATH_WORDS = frozenset(name for name in FUNCTION_NAMES if name.islower()) | frozenset(
    ["lg", "limsup", "liminf", "lcm", "mod", "dx", "dy", "dz", "dt", "du", "dv"]
)
#: A function name glued to its one-letter argument ("sinx", "cos2", "logb") as the OCR reads
#: ``\sin x``: math unless a neighbouring word is prose ("the cost of", "a sine wave").
_GLUED_CALL = re.compile(r"(?:sin|cos|tan|cot|sec|csc|sinh|cosh|tanh|log|ln|lg|exp)[a-z0-9]")
#: Single letters that are words rather than variables (inside a run of prose).
PROSE_LETTERS = frozenset({"a", "A", "I"})
#: Prose words need at least this OCR confidence.
MIN_WORD_CONFIDENCE = 0.8
#: Four or more letters in a row, twice: a "formula" reading that is probably prose.
_LETTER_RUN = re.compile(r"(?:[A-Za-z]\s*){4,}")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_UPRIGHT_WORD = re.compile(r"\\(?:mathrm|text|textrm)\s*\{\s*[A-Za-z]{4,}\s*\}")
#: Dictionary-shaped words (see ``word_like``).
_WORD_SHAPE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+")
_VOWELS = frozenset("aeiouyAEIOUY")
#: Margin around the band given to the text OCR, in glyph heights.
BAND_MARGIN = 0.5
#: A line taller than this many glyph heights goes to the text OCR's detector (two lines of
#: text the layout kept together); lower ones to its recognizer alone.
TALL_LINE = 2.6
#: Words read from a known line are this many glyph heights high about its ink's middle, about
#: as the detector's boxes were (the documents' structure reads font sizes from word heights: a
#: line without descenders, or with a superscript, is not another size of type).
WORD_HEIGHT = 2.5


def looks_like_prose(latex: str) -> bool:
    """Whether the formula recognizer's reading looks like words rather than mathematics."""
    return len(_LETTER_RUN.findall(_COMMAND.sub(" ", latex))) >= 2


def upright_word(latex: str) -> bool:
    """Whether the reading holds an upright word of four letters or more (``\\mathrm{Pemat}``:
    how the formula recognizer reads a word of prose such as ``Remark.``)."""
    return _UPRIGHT_WORD.search(latex) is not None


def is_latin_word(text: str) -> bool:
    core = text.strip(".,;:!?\"'()[]")
    if not core or not core.replace("-", "").replace("'", "").isalpha():
        return False
    return all(c.isascii() or unicodedata.name(c, "").startswith("LATIN") for c in core)


def word_like(text: str) -> bool:
    """Shaped like a dictionary word: lower case, Capitalised or ALL CAPS letters (hyphens and
    apostrophes aside) with a vowel; ``detA``, ``bc`` and ``xkcd`` are not."""
    core = text.strip(".,;:!?\"'()[]").replace("-", "").replace("'", "")
    return _WORD_SHAPE.fullmatch(core) is not None and any(c in _VOWELS for c in core)


def prose_flags(words: Sequence[Word], strict: bool = False) -> list[bool]:
    """Which words are prose: Latin words of 2+ letters that are not math names (nor a function
    name glued to its argument, unless next to prose); single letters only when they are
    ordinary words (a, A, I) between prose words. ``strict`` (a page's only line, which the
    formula recognizer read weakly): the words must also be :func:`word_like`."""
    core = [w.text.strip(".,;:!?\"'()[]") for w in words]
    flags = [
        is_latin_word(w.text)
        and len(c) >= 2
        and c.lower() not in MATH_WORDS
        and w.confidence >= MIN_WORD_CONFIDENCE
        and (not strict or word_like(c))
        for w, c in zip(words, core, strict=True)
    ]
    glued = [_GLUED_CALL.fullmatch(c) is not None for c in core]
    beside = [
        (i > 0 and flags[i - 1] and not glued[i - 1])
        or (i < len(words) - 1 and flags[i + 1] and not glued[i + 1])
        for i in range(len(words))
    ]
    flags = [f and (not g or b) for f, g, b in zip(flags, glued, beside, strict=True)]
    for i, c in enumerate(core):
        if c in PROSE_LETTERS and 0 < i < len(words) - 1 and flags[i - 1] and flags[i + 1]:
            flags[i] = True
    return flags


def prose_runs(words: Sequence[Word], strict: bool = False) -> list[list[Word]]:
    """Maximal runs of prose words (``strict``: see :func:`prose_flags`). A run of one short
    word counts only in a line that also has a longer run (so a lone ``ab`` in a formula stays
    math)."""
    runs: list[list[Word]] = []
    current: list[Word] = []
    for word, flag in zip(words, prose_flags(words, strict), strict=True):
        if flag:
            current.append(word)
            continue
        if current:
            runs.append(current)
        current = []
    if current:
        runs.append(current)
    strong = [len(r) >= 2 or len(r[0].text.strip(".,;:!?")) >= 4 for r in runs]
    # a short lone word ("Let x be ...") is prose when the line has real prose too
    return [r for r, ok in zip(runs, strong, strict=True) if ok or any(strong)]


def union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def words_in(line: Line, text: Sequence[TextLine]) -> list[Word]:
    """The OCR words whose centre lies in the line's box, left to right."""
    x0, y0, x1, y1 = line.box
    found = []
    for tl in text:
        for w in tl.words:
            cx, cy = (w.box[0] + w.box[2]) / 2.0, (w.box[1] + w.box[3]) / 2.0
            if x0 <= cx <= x1 and y0 <= cy <= y1:
                found.append(w)
    return sorted(found, key=lambda w: w.box[0])


def line_regions(
    line: Line, index: int, boxes: Boxes, text: Sequence[TextLine], strict: bool = False
) -> list[Region]:
    """The math and text regions of one line, left to right (indices filled in later);
    ``strict``: see :func:`prose_flags`."""
    runs = prose_runs(words_in(line, text), strict) if text else []
    if not runs:
        return [Region(0, "math", line.box, index)]
    regions = []
    for run in runs:
        box = union([w.box for w in run])
        clipped = (box[0], line.box[1], box[2], line.box[3])
        joined = " ".join(w.text for w in run)
        conf = float(np.mean([w.confidence for w in run]))
        regions.append(Region(0, "text", clipped, index, joined, conf, tuple(run)))
    typical = glyph_height(boxes.select(line.members))
    spans = [(r.box[0], r.box[2]) for r in regions]
    for members in split_at(boxes, line.members, spans):
        part = boxes.select(members)
        if int(part.h.max()) < 0.35 * typical:
            continue  # stray punctuation or specks between words
        x0, _, x1, _ = part.bounds()
        regions.append(Region(0, "math", (x0, line.box[1], x1, line.box[3]), index))
    return sorted(regions, key=lambda r: r.box[0])


def read_lines(
    reader: TextRecognizer, gray: Gray, boxes: Boxes, lines: Sequence[Line], chosen: Sequence[int]
) -> list[TextLine]:
    """The text OCR of the lines ``chosen`` (indices into ``lines``). A line of ordinary height
    is read by the recognizer alone, from its own ink (its box is known: no detector run); the
    taller ones (``TALL_LINE``: lines the layout kept together) in one call with the detector,
    see :func:`read_band`. Boxes come back in page pixels."""
    if not chosen:
        return []
    members = np.concatenate([lines[i].members for i in chosen])
    typical = glyph_height(boxes.select(members))
    single = [i for i in chosen if lines[i].box[3] - lines[i].box[1] <= TALL_LINE * typical]
    crops = line_crops(gray, boxes, lines, single, typical)
    read = reader.read_lines([crop for _, crop in crops], typical)
    height = WORD_HEIGHT * typical
    found = [
        fitted(shifted(tl, box[0], box[1]), grown(lines[i].box, height))
        for i, (box, _), tl in zip(single, crops, read, strict=True)
        if tl is not None
    ]
    tall = [i for i in chosen if i not in set(single)]
    return found + read_band(reader, gray, boxes, lines, tall, typical)


def line_crops(
    gray: Gray, boxes: Boxes, lines: Sequence[Line], chosen: Sequence[int], typical: float
) -> list[tuple[Box, Gray]]:
    """Each chosen line cut from ``gray`` for the text OCR: its box grown by the margin the
    recognizer wants (``LINE_MARGIN`` glyph heights), the ink of other lines in it blanked
    (then the line's own components restored, where their boxes overlap)."""
    height, width = gray.shape
    margin = round(LINE_MARGIN * typical)
    crops = []
    for i in chosen:
        bx0, by0, bx1, by1 = lines[i].box
        x0, y0 = max(0, bx0 - margin), max(0, by0 - margin)
        x1, y1 = min(width, bx1 + margin), min(height, by1 + margin)
        crop = np.array(gray[y0:y1, x0:x1], dtype=np.uint8)
        near = [k for k, ln in enumerate(lines) if k != i and overlaps(ln.box, (x0, y0, x1, y1))]
        for k, value in [*((k, None) for k in near), (i, gray)]:
            part = boxes.select(lines[k].members)
            for cx, cy, cw, ch in zip(part.x, part.y, part.w, part.h, strict=True):
                if not overlaps((cx, cy, cx + cw, cy + ch), (x0, y0, x1, y1)):
                    continue
                rows = slice(max(cy, y0) - y0, min(cy + ch, y1) - y0)
                cols = slice(max(cx, x0) - x0, min(cx + cw, x1) - x0)
                crop[rows, cols] = 255 if value is None else value[y0:y1, x0:x1][rows, cols]
        crops.append(((x0, y0, x1, y1), crop))
    return crops


def overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def read_band(
    reader: TextRecognizer,
    gray: Gray,
    boxes: Boxes,
    lines: Sequence[Line],
    chosen: Sequence[int],
    typical: float,
) -> list[TextLine]:
    """The text OCR of the lines ``chosen`` in one call with the detector: the band of rows
    from the first to the last of them (with a margin), the ink of the other lines that reach
    into it blanked. Boxes come back in page pixels."""
    if not chosen:
        return []
    picked = set(chosen)
    margin = round(BAND_MARGIN * typical)
    height, width = gray.shape
    x0 = max(0, min(lines[i].box[0] for i in chosen) - margin)
    y0 = max(0, min(lines[i].box[1] for i in chosen) - margin)
    x1 = min(width, max(lines[i].box[2] for i in chosen) + margin)
    y1 = min(height, max(lines[i].box[3] for i in chosen) + margin)
    band = np.array(gray[y0:y1, x0:x1], dtype=np.uint8)
    for k, line in enumerate(lines):
        if k in picked or line.box[3] <= y0 or line.box[1] >= y1:
            continue
        other = boxes.select(line.members)
        for bx, by, bw, bh in zip(other.x, other.y, other.w, other.h, strict=True):
            band[max(0, by - y0) : max(0, by + bh - y0), max(0, bx - x0) : max(0, bx + bw - x0)] = (
                255
            )
    return [shifted(tl, x0, y0) for tl in reader.read(band, typical)]


def shifted(line: TextLine, dx: int, dy: int) -> TextLine:
    def move(b: Box) -> Box:
        return b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy

    words = tuple(Word(w.text, w.confidence, move(w.box)) for w in line.words)
    return TextLine(line.text, line.confidence, move(line.box), words)


def grown(box: Box, height: float) -> Box:
    """``box`` made ``height`` high about its middle (not above the image's top; below its
    bottom, as the detector's boxes of a line at the bottom of a picture were)."""
    middle = (box[1] + box[3]) / 2.0
    return box[0], max(round(middle - height / 2.0), 0), box[2], round(middle + height / 2.0)


def fitted(line: TextLine, box: Box) -> TextLine:
    """``line`` (read from a crop with margins) and its words within ``box``, the line's ink."""

    def inside(b: Box) -> Box:
        return max(b[0], box[0]), box[1], max(min(b[2], box[2]), max(b[0], box[0])), box[3]

    words = tuple(Word(w.text, w.confidence, inside(w.box)) for w in line.words)
    return TextLine(line.text, line.confidence, inside(line.box), words)


def resplit(
    layout: Layout, split: Mapping[int, Sequence[Region]], read: frozenset[int]
) -> tuple[Layout, dict[int, int]]:
    """``layout`` with the regions of the lines in ``split`` replaced by the given ones (when
    they hold prose) and the lines ``read`` marked as read; also the new index of every region
    kept from ``layout``."""
    regions: list[Region] = []
    grouped: list[tuple[int, ...]] = []
    moved: dict[int, int] = {}
    for line, members in enumerate(layout.lines):
        first = len(regions)
        parts = split.get(line, ())
        if any(r.kind == "text" for r in parts):
            regions.extend(replace(r, index=first + k) for k, r in enumerate(parts))
        else:
            for i in members:
                moved[i] = len(regions)
                regions.append(replace(layout.regions[i], index=len(regions)))
        grouped.append(tuple(range(first, len(regions))))
    found = replace(layout, regions=tuple(regions), lines=tuple(grouped), read=layout.read | read)
    return found, moved
