"""The Detect agent: cut a cleaned page into lines, sort the lines by shape, and cut the lines
that look like prose into text and math regions.

Every line is sorted by the shape of its ink (``triage.py``): ``math`` lines (a formula crop is
one) become one math region without any text OCR; ``text`` lines are read by the text OCR, once
per page for all of them (``prose.py``), and split into prose words (text regions) and the ink
between them (math regions); ``unsure`` lines become one math region each, which the Recognize
agent hands to the text OCR only when the formula recognizer's reading of it is weak.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from scipix.errors import ImageNoContentError
from scipix.imaging.components import Boxes, find_components
from scipix.imaging.layout import Line, find_lines
from scipix.pipeline.job import Ink, Job, Layout, Region
from scipix.pipeline.prose import line_regions, read_lines
from scipix.pipeline.rows import stacked
from scipix.pipeline.triage import LineShape, is_prose_shape, line_shape, page_line_kind
from scipix.recognition.text import TextLine, TextRecognizer

#: Reads the text of the given lines (indices into the page's lines).
ReadLines = Callable[[Sequence[Line], Sequence[int]], Sequence[TextLine]]


class ShapeMemo:
    """:func:`line_shape` of each set of boxes measured once per page: a formula's one band
    is checked for prose while lines are found, and then is its one line (issue 19)."""

    def __init__(self) -> None:
        self.known: dict[bytes, LineShape] = {}

    def of(self, boxes: Boxes) -> LineShape:
        key = b"".join(a.tobytes() for a in (boxes.x, boxes.y, boxes.w, boxes.h, boxes.area))
        shape = self.known.get(key)
        if shape is None:
            shape = self.known[key] = line_shape(boxes)
        return shape


def detect_layout(boxes: Boxes, read_text: ReadLines | None = None) -> Layout:
    """Regions in reading order, with the components and lines they came from (``ink``, for the
    later agents). ``read_text`` (the text OCR) is called at most once, for the lines whose shape
    is that of text, and not at all when there are none."""
    shapes = ShapeMemo()
    lines = find_lines(boxes, lambda band: is_prose_shape(shapes.of(band)))
    if not lines:
        raise ImageNoContentError("Image has no content: no lines of ink were found")
    # a line of rows joined into one formula (cases with words, aligned) is math, never prose
    rows = frozenset(i for i, line in enumerate(lines) if stacked(boxes, line.members))
    kinds = tuple(
        "math" if i in rows else page_line_kind(shapes.of(boxes.select(line.members)), len(lines))
        for i, line in enumerate(lines)
    )
    chosen = [i for i, kind in enumerate(kinds) if kind == "text"] if read_text else []
    text: Sequence[TextLine] = read_text(lines, chosen) if read_text and chosen else ()
    regions: list[Region] = []
    grouped: list[tuple[int, ...]] = []
    for index, line in enumerate(lines):
        found = line_regions(line, index, boxes, text if index in chosen else ())
        first = len(regions)
        for k, r in enumerate(found):
            regions.append(Region(first + k, r.kind, r.box, index, r.text, r.confidence, r.words))
        grouped.append(tuple(range(first, len(regions))))
    ink = Ink(boxes, tuple(lines))
    return Layout(tuple(regions), tuple(grouped), kinds, frozenset(chosen), rows, ink=ink)


class DetectAgent:
    """Lines and regions of the cleaned page (the text OCR only for lines shaped like text)."""

    name = "detect"

    def __init__(self, text_recognizer: Callable[[], TextRecognizer] | None) -> None:
        self.text_recognizer = text_recognizer

    def process(self, job: Job) -> Job:
        prep = job.prep
        if prep is None:
            raise ImageNoContentError("Image has no content")
        boxes = find_components(prep.mask)
        reader = self.text_recognizer
        read: ReadLines | None = None
        if reader is not None:
            gray = prep.page.gray

            def read(lines: Sequence[Line], chosen: Sequence[int]) -> Sequence[TextLine]:
                return read_lines(reader(), gray, boxes, lines, chosen)

        job.layout = detect_layout(boxes, read)
        return job
