"""The Detect agent: cut a cleaned page into lines and each line into math and text regions.

A page with one line (a formula crop) is one math region. A page with several lines (a worked
solution, a screenshot of a paragraph) is read once by the text OCR; in each line, runs of prose
words become text regions and what lies between them (the ink the OCR did not read as words)
becomes math regions for the formula recognizer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

import numpy as np

from scipix.errors import ImageNoContentError
from scipix.imaging.components import Boxes, find_components
from scipix.imaging.layout import Line, find_lines, glyph_height, split_at
from scipix.pipeline.job import Box, Job, Layout, Region, Word
from scipix.recognition.text import TextLine, TextRecognizer

#: Words that look like prose but are mathematics.
MATH_WORDS = frozenset(
    [
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "sinh",
        "cosh",
        "tanh",
        "arcsin",
        "arccos",
        "arctan",
        "log",
        "ln",
        "lg",
        "exp",
        "lim",
        "limsup",
        "liminf",
        "max",
        "min",
        "sup",
        "inf",
        "det",
        "dim",
        "ker",
        "arg",
        "deg",
        "gcd",
        "lcm",
        "mod",
        "dx",
        "dy",
        "dz",
        "dt",
        "du",
        "dv",
    ]
)
#: Single letters that are words rather than variables (inside a run of prose).
PROSE_LETTERS = frozenset({"a", "A", "I"})
#: Prose words need at least this OCR confidence.
MIN_WORD_CONFIDENCE = 0.8


def is_latin_word(text: str) -> bool:
    core = text.strip(".,;:!?\"'()[]")
    if not core or not core.replace("-", "").replace("'", "").isalpha():
        return False
    return all(c.isascii() or unicodedata.name(c, "").startswith("LATIN") for c in core)


def prose_flags(words: Sequence[Word]) -> list[bool]:
    """Which words are prose: Latin words of 2+ letters that are not math names; single
    letters only when they are ordinary words (a, A, I) between prose words."""
    core = [w.text.strip(".,;:!?\"'()[]") for w in words]
    flags = [
        is_latin_word(w.text)
        and len(c) >= 2
        and c.lower() not in MATH_WORDS
        and w.confidence >= MIN_WORD_CONFIDENCE
        for w, c in zip(words, core, strict=True)
    ]
    for i, c in enumerate(core):
        if c in PROSE_LETTERS and 0 < i < len(words) - 1 and flags[i - 1] and flags[i + 1]:
            flags[i] = True
    return flags


def prose_runs(words: Sequence[Word]) -> list[list[Word]]:
    """Maximal runs of prose words. A run of one short word counts only in a line that also
    has a longer run (so a lone ``ab`` in a formula stays math)."""
    runs: list[list[Word]] = []
    current: list[Word] = []
    for word, flag in zip(words, prose_flags(words), strict=True):
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


def line_regions(line: Line, index: int, boxes: Boxes, text: Sequence[TextLine]) -> list[Region]:
    """The math and text regions of one line, left to right (indices filled in later)."""
    runs = prose_runs(words_in(line, text)) if text else []
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


def detect_layout(
    boxes: Boxes, read_text: Callable[[], Sequence[TextLine]] | None = None
) -> Layout:
    """Regions in reading order. ``read_text`` (the OCR of the page) is called only when the
    page has more than one line."""
    lines = find_lines(boxes)
    if not lines:
        raise ImageNoContentError("Image has no content: no lines of ink were found")
    text: Sequence[TextLine] = read_text() if read_text is not None and len(lines) > 1 else ()
    regions: list[Region] = []
    grouped: list[tuple[int, ...]] = []
    for index, line in enumerate(lines):
        found = line_regions(line, index, boxes, text)
        first = len(regions)
        for k, r in enumerate(found):
            regions.append(Region(first + k, r.kind, r.box, index, r.text, r.confidence, r.words))
        grouped.append(tuple(range(first, len(regions))))
    return Layout(tuple(regions), tuple(grouped))


class DetectAgent:
    """Lines and regions of the cleaned page (text OCR only for multi-line pages)."""

    name = "detect"

    def __init__(self, text_recognizer: Callable[[], TextRecognizer] | None) -> None:
        self.text_recognizer = text_recognizer

    def process(self, job: Job) -> Job:
        prep = job.prep
        if prep is None:
            raise ImageNoContentError("Image has no content")
        boxes = find_components(prep.mask)
        reader = self.text_recognizer
        read = (lambda: reader().read(prep.page.gray)) if reader is not None else None
        job.layout = detect_layout(boxes, read)
        return job
