"""The Generate and Validate agents: readings in, a Mathpix-shaped :class:`Result` out.

Generate writes the canonical LaTeX of each math region, the Mathpix Markdown text (inline math
in ``\\( \\)``, a math line of a multi-line page in ``\\[ \\]``), ``latex_styled`` for a
single-formula image, ``data`` (LaTeX, MathML, AsciiMath, HTML per math region), ``html``,
``line_data`` and ``word_data`` with contours in the input image's pixels, and the confidences.
Validate flags weak lines and math that is not valid LaTeX (``latex_valid: false`` and a
``math_syntax`` warning: the result still comes back), estimates printed versus handwritten, and
enforces ``confidence_threshold`` (Mathpix's ``math_confidence`` error).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from scipix.errors import ConfidenceError, ImageNoContentError
from scipix.imaging.orientation import baseline_alignment
from scipix.imaging.preprocess import Preprocessed
from scipix.latex import validate
from scipix.pipeline.alphabet import detect_alphabets
from scipix.pipeline.formats import canonical, convert, display_math, inline_math, math_html
from scipix.pipeline.job import Box, Job, Layout, Reading, Region
from scipix.schema import (
    Candidate,
    DataItem,
    ErrorInfo,
    LineData,
    RecognizeOptions,
    Result,
    WordData,
)

DATA_FLAGS = {
    "latex": "include_latex",
    "mathml": "include_mathml",
    "asciimath": "include_asciimath",
    "html": "include_html",
}


def contour(prep: Preprocessed, box: Box, offset: tuple[int, int], flipped: bool) -> list[Point]:
    """The four corners of ``box`` (cleaned-page pixels) in the input image's pixels."""
    x0, y0, x1, y1 = box
    pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    if flipped:
        pts = np.array([prep.page.width, prep.page.height], dtype=np.float64) - pts
    src = prep.to_source(pts) + np.array(offset, dtype=np.float64)
    return [(int(np.rint(x)), int(np.rint(y))) for x, y in src]


Point = tuple[int, int]


@dataclass(frozen=True)
class Piece:
    """A region with its final text: prose, or LaTeX (for math)."""

    region: Region
    value: str
    reading: Reading | None


def spelled(latex: str, tokens: tuple[str, ...], opts: RecognizeOptions) -> str:
    """The LaTeX as the options ask: canonical, or with ``rm_spaces`` off, spaced tokens."""
    return canonical(latex) if opts.rm_spaces or not tokens else " ".join(tokens)


def pieces(layout: Layout, readings: dict[int, Reading], opts: RecognizeOptions) -> list[Piece]:
    found = []
    for r in layout.regions:
        if r.kind == "text":
            found.append(Piece(r, r.text, None))
        elif r.index in readings:
            rd = readings[r.index]
            found.append(Piece(r, spelled(rd.latex, rd.tokens, opts), rd))
    return found


def candidates(piece: Piece, opts: RecognizeOptions) -> list[Candidate] | None:
    """The n-best readings of a math piece (None unless more than one was asked for), the
    chosen one first, as the response's candidates (the one place where the recognizer's
    hypotheses become response models); readings spelled alike are listed once."""
    if opts.n_best <= 1 or piece.reading is None:
        return None
    found: dict[str, Candidate] = {}
    for hyp in piece.reading.candidates:
        latex = spelled(hyp.latex, hyp.tokens, opts)
        if latex not in found:
            conf, rate = round(hyp.confidence, 6), round(hyp.confidence_rate, 6)
            found[latex] = Candidate(latex=latex, confidence=conf, confidence_rate=rate)
    return list(found.values())


def markdown(layout: Layout, by_region: dict[int, Piece], opts: RecognizeOptions) -> str:
    """Mathpix Markdown: one line per page line, math between the requested delimiters."""
    lines = []
    for members in layout.lines:
        present = [by_region[i] for i in members if i in by_region]
        alone = len(present) == 1 and present[0].reading is not None
        if alone and not layout.single_formula:
            lines.append(display_math(present[0].value, opts.math_display_delimiters))
            continue
        parts = [
            p.value if p.reading is None else inline_math(p.value, opts.math_inline_delimiters)
            for p in present
        ]
        if parts:
            lines.append(" ".join(parts))
    return "\n".join(lines)


def page_html(layout: Layout, by_region: dict[int, Piece], opts: RecognizeOptions) -> str:
    """Mathpix's ``html``, mathpix-markdown-it's rendering of ``text`` (MATHPIX_API.md T3, T5):
    a ``<div>`` per paragraph, its lines joined by ``<br>``, a display formula a paragraph of
    its own; each formula carries the hidden MathML, AsciiMath and LaTeX that ``data_options``
    ask for."""
    hidden = [kind for kind, flag in DATA_FLAGS.items() if getattr(opts.data_options, flag)]
    paragraphs: list[list[str]] = [[]]
    for members in layout.lines:
        present = [by_region[i] for i in members if i in by_region]
        if len(present) == 1 and present[0].reading is not None and not layout.single_formula:
            paragraphs += [[math_html(present[0].value, True, hidden)], []]
            continue
        parts = [
            _escaped(p.value) if p.reading is None else math_html(p.value, False, hidden)
            for p in present
        ]
        if parts:
            paragraphs[-1].append(" ".join(parts))
    return "".join("<div>" + "<br>\n".join(lines) + "</div>\n" for lines in paragraphs if lines)


def _escaped(text: str) -> str:
    """Text as markdown-it escapes it (``&``, ``<``, ``>``, ``"``)."""
    return html.escape(text, quote=False).replace('"', "&quot;")


def data_items(found: list[Piece], opts: RecognizeOptions) -> list[DataItem]:
    wanted = [k for k, flag in DATA_FLAGS.items() if getattr(opts.data_options, flag)]
    items = []
    for p in found:
        if p.reading is None:
            continue
        for kind in wanted:
            value = convert(p.value, kind)
            if value is not None:
                items.append(DataItem.model_validate({"type": kind, "value": value}))
    return items


class GenerateAgent:
    """Readings to a Result (all representations from the canonical LaTeX)."""

    name = "generate"

    def process(self, job: Job) -> Job:
        prep, layout, opts = job.prep, job.layout, job.options
        if prep is None or layout is None:
            raise ImageNoContentError("Image has no content")
        found = pieces(layout, job.readings, opts)
        if not found:
            raise ImageNoContentError("Image has no content: nothing readable was found")
        by_region = {p.region.index: p for p in found}
        confs = [p.reading.confidence if p.reading else p.region.confidence for p in found]
        rates = [p.reading.confidence_rate if p.reading else p.region.confidence for p in found]
        result = Result(
            request_id=job.tag.id,
            confidence=round(float(min(confs)), 6),
            confidence_rate=round(float(np.mean(rates)), 6),
            image_width=job.image_size[0] if job.image_size else prep.original_width,
            image_height=job.image_size[1] if job.image_size else prep.original_height,
            auto_rotate_degrees=rotation_degrees(prep.rotation + (180 if job.flipped else 0)),
            auto_rotate_confidence=round(max(prep.rotate_confidence, job.flip_evidence), 6),
            version=job.version,
            preprocessing=job.cleaning.report() if job.cleaning is not None else None,
        )
        if opts.wants("text"):
            result.text = markdown(layout, by_region, opts)
        if layout.single_formula and found[0].reading:
            result.latex_styled = found[0].value  # asked for or not (MATHPIX_API.md T1)
        if any(getattr(opts.data_options, f) for f in DATA_FLAGS.values()):
            result.data = data_items(found, opts)
        if opts.wants("html"):
            result.html = page_html(layout, by_region, opts)
        if opts.include_detected_alphabets:
            result.detected_alphabets = detect_alphabets(p.value for p in found)
        first_math = next((p for p in found if p.reading is not None), None)
        if first_math is not None:
            result.candidates = candidates(first_math, opts)
        offset = (opts.region.top_left_x, opts.region.top_left_y) if opts.region else (0, 0)
        if opts.include_line_data:
            result.line_data = line_data(job, layout, by_region, offset)
        if opts.include_word_data:
            result.word_data = word_data(job, found, offset)
        job.result = result
        return job


def rotation_degrees(degrees: int) -> int:
    """Mathpix's convention: one of 0, 90, -90, 180."""
    d = ((degrees + 180) % 360) - 180
    return 180 if d == -180 else d


def line_data(
    job: Job, layout: Layout, by_region: dict[int, Piece], offset: tuple[int, int]
) -> list[LineData]:
    prep = job.prep
    assert prep is not None
    items = []
    opts = job.options
    for r in layout.regions:
        piece = by_region.get(r.index)
        cnt = contour(prep, r.box, offset, job.flipped)
        if piece is None:
            items.append(
                LineData(
                    id=str(r.index),
                    type=r.kind,
                    cnt=cnt,
                    included=False,
                    error_id="image_no_content",
                    conversion_output=False,
                )
            )
            continue
        rd = piece.reading
        text = piece.value if rd is None else inline_math(piece.value, opts.math_inline_delimiters)
        conf = rd.confidence if rd else r.confidence
        rate = rd.confidence_rate if rd else r.confidence
        items.append(
            LineData(
                id=str(r.index),
                type=r.kind,
                cnt=cnt,
                text=text,
                confidence=round(conf, 6),
                confidence_rate=round(rate, 6),
                candidates=candidates(piece, opts),
            )
        )
    return items


def word_data(job: Job, found: list[Piece], offset: tuple[int, int]) -> list[WordData]:
    prep = job.prep
    assert prep is not None
    words = []
    for p in found:
        if p.reading is not None:
            cnt = contour(prep, p.region.box, offset, job.flipped)
            words.append(
                WordData(
                    type="math",
                    cnt=cnt,
                    latex=p.value,
                    confidence=round(p.reading.confidence, 6),
                    confidence_rate=round(p.reading.confidence_rate, 6),
                )
            )
            continue
        for w in p.region.words:
            cnt = contour(prep, w.box, offset, job.flipped)
            words.append(
                WordData(type="text", cnt=cnt, text=w.text, confidence=round(w.confidence, 6))
            )
    return words


def looks_printed(job: Job, prep: Preprocessed, layout: Layout) -> bool:
    """The style probe's verdict over the page's formula readings (92.6 % on held-out printed
    and handwritten crops, MODEL.md); without a probe or a formula, baseline alignment."""
    votes = [r.handwritten for r in job.readings.values() if r.handwritten is not None]
    if votes:
        return float(np.mean(votes)) < 0.5
    boxes = layout.ink.boxes  # Detect's components, in the page as it was before any flip
    if job.flipped:
        boxes = boxes.turned(prep.page.width, prep.page.height)
    return baseline_alignment(boxes) >= HANDWRITING_ALIGNMENT


def latex_warnings(job: Job) -> list[ErrorInfo]:
    """A ``math_syntax`` warning for each math region whose LaTeX the validator refuses (the
    recognizer's fallback when no hypothesis was valid); ``line_id`` is its ``line_data`` id."""
    found = []
    for index, reading in sorted(job.readings.items()):
        if reading.valid:
            continue
        issues = validate(reading.latex)
        why = issues[0].message if issues else "it does not parse"
        message = f"the LaTeX read for math region {index} is not valid: {why}"
        found.append(ErrorInfo(id="math_syntax", message=message, line_id=str(index)))
    return found


class ValidateAgent:
    """Low-confidence flags, invalid LaTeX warnings, printed/handwritten, and the
    ``confidence_threshold`` check."""

    name = "validate"

    def __init__(self, low_confidence: float = 0.5, default_threshold: float = 0.0) -> None:
        self.low_confidence = low_confidence
        self.default_threshold = default_threshold

    def process(self, job: Job) -> Job:
        result, prep, layout = job.result, job.prep, job.layout
        if result is None or prep is None or layout is None:
            raise ImageNoContentError("Image has no content")
        if job.handwritten is not None:  # pen strokes: handwritten by construction
            printed = not job.handwritten
        else:
            printed = looks_printed(job, prep, layout)
        result.is_printed, result.is_handwritten = printed, not printed
        for line in result.line_data or ():
            line.is_printed, line.is_handwritten = printed, not printed
            if line.confidence is not None:
                line.low_confidence = line.confidence < self.low_confidence
        warnings = latex_warnings(job)
        if warnings:
            result.latex_valid, result.warnings = False, warnings
        threshold = job.options.confidence_threshold
        if threshold is None:
            threshold = self.default_threshold
        confidence = result.confidence or 0.0
        if threshold > 0 and confidence < threshold:
            raise ConfidenceError(
                f"Low confidence: {confidence:.3f} is below the confidence_threshold {threshold}",
                confidence=round(confidence, 6),
            )
        return job


#: Printed glyphs share baselines: below this aligned fraction, the writing is by hand.
HANDWRITING_ALIGNMENT = 0.4
