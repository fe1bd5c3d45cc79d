"""The Preprocess and Recognize agents (Detect is in ``detect.py``; Generate and Validate in
``generate.py``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from scipix.errors import ImageNoContentError, ScipixError, ValueOutOfRangeError
from scipix.imaging.components import find_components
from scipix.imaging.decode import DecodeLimits, decode_image
from scipix.imaging.geometry import unturn_points
from scipix.imaging.orientation import rotate_quarter
from scipix.imaging.page import Gray, Page, read_only
from scipix.imaging.preprocess import PreprocessConfig, Preprocessed, preprocess
from scipix.pipeline.detect import detect_layout
from scipix.pipeline.job import Job, Layout, Reading, Region
from scipix.pipeline.prose import (
    line_regions,
    looks_like_prose,
    read_lines,
    resplit,
    upright_word,
)
from scipix.pipeline.rows import formula_rows, rows_reading
from scipix.pipeline.strategy import PictureCleaner, cleaned_page, keeps_second, mean_rate
from scipix.recognition.text import TextRecognizer
from scipix.schema import BATCH_SIZE, RecognizeOptions
from scipix.schema import Region as RegionOption
from scipix.timing import stage

if TYPE_CHECKING:
    from scipix.recognition import FormulaRecognizer

log = logging.getLogger(__name__)

#: Below this confidence a single formula that might be upside down is also read turned 180°.
FLIP_CHECK_BELOW = 0.6
#: The turned reading must be this much more probable per token (and no weaker overall) to win.
FLIP_MARGIN = 0.05


@dataclass(frozen=True)
class PreprocessDefaults:
    """Settings-level pre-processing defaults, overridden per call by the request's switches."""

    config: PreprocessConfig
    limits: DecodeLimits

    def for_options(self, options: RecognizeOptions) -> PreprocessConfig:
        switches = options.preprocessing.model_dump(exclude_none=True)
        threshold = options.auto_rotate_confidence_threshold
        return replace(self.config, rotate_threshold=threshold, **switches)


def crop_region(page: Page, region: RegionOption) -> Page:
    x0, y0 = region.top_left_x, region.top_left_y
    x1, y1 = min(page.width, x0 + region.width), min(page.height, y0 + region.height)
    if x0 >= page.width or y0 >= page.height:
        raise ValueOutOfRangeError(
            f"region starts at ({x0}, {y0}), outside the {page.width}×{page.height} image",
            name="region",
            value=region.model_dump(),
        )
    return replace(page, gray=read_only(np.ascontiguousarray(page.gray[y0:y1, x0:x1])))


class PreprocessAgent:
    """Decode (safely) and clean the image: a gray, upright, straight, cropped page."""

    name = "preprocess"

    def __init__(self, defaults: PreprocessDefaults, cleaner: PictureCleaner | None = None) -> None:
        self.defaults = defaults
        self.cleaner = cleaner  # None: the switches alone decide (manual mode)

    def process(self, job: Job) -> Job:
        if job.source is None:
            raise ImageNoContentError("no image was given")
        config = self.defaults.for_options(job.options)
        with stage("preprocess.decode"):
            page = job.source
            if not isinstance(page, Page):  # a Page was decoded by the result cache's lookup
                page = decode_image(page, self.defaults.limits, config.exif_orientation)
        job.source = None  # the encoded bytes are not needed any more
        job.image_size = (page.width, page.height)
        if job.options.region is not None:
            page = crop_region(page, job.options.region)
        if self.cleaner is None:
            job.prep = preprocess(page, config)
        else:
            job.prep, job.cleaning = self.cleaner.prepare(page, config, job.options)
        return job


def reads_better(upright: float, turned: float) -> bool:
    """Whether a reading of the page turned (or cut into rows) is clearly the better one, by
    the mean per-token probability (:func:`mean_rate`) of each: a stable measure; the weakest
    token is not (a small formula's right reading often has one unsure glyph, a turned page's
    confident nonsense none weaker)."""
    return turned >= upright + FLIP_MARGIN


#: pages with at most this many lines, all math, are checked when pre-processing turned them
FORMULA_LINES = 3


def formula_only(layout: Layout) -> bool:
    """A formula, not a page: a few lines, nothing but math."""
    return len(layout.lines) <= FORMULA_LINES and all(r.kind == "math" for r in layout.regions)


#: a page at least this much taller than wide, with few components and no prose, may be a
#: formula turned by 90° (formulas are wider than tall); a squarer one (down to WEAK_ASPECT)
#: only when its reading is weak
TURNED_ASPECT = 1.15
WEAK_ASPECT = 0.6
TURNED_MAX_COMPONENTS = 80


def may_be_turned_formula(
    prep: Preprocessed | None, layout: Layout | None, readings: dict[int, Reading]
) -> bool:
    """Whether a page left as it came could be a formula turned by a quarter: auto-rotation is
    on, the page has few glyphs, nothing read as prose, and it is clearly taller than wide (or
    about square and read weakly)."""
    if prep is None or layout is None or prep.orientation is None or prep.rotation:
        return False
    if len(layout.ink.boxes) > TURNED_MAX_COMPONENTS:
        return False
    if any(r.kind != "math" for r in layout.regions):
        return False
    height, width = prep.page.gray.shape[:2]
    if height >= TURNED_ASPECT * width:
        return True
    weak = min(r.confidence for r in readings.values()) < FLIP_CHECK_BELOW
    return weak and height >= WEAK_ASPECT * width


def unturned_box(
    box: tuple[int, int, int, int], straight_size: tuple[int, int], degrees: int
) -> tuple[int, int, int, int]:
    """A crop box of the page turned by ``degrees`` as a box of the page before the turn."""
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0], [x1 - 1, y1 - 1]], dtype=np.float64)
    pts = unturn_points(corners, straight_size[0], straight_size[1], degrees)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return int(lo[0]), int(lo[1]), int(hi[0]) + 1, int(hi[1]) + 1


def crop(gray: Gray, region: Region) -> Gray:
    x0, y0, x1, y1 = region.box
    return np.ascontiguousarray(gray[y0:y1, x0:x1])


class RecognizeAgent:
    """Read every math region with the formula recognizer (batched), plus two checks: a
    single-formula page is read turned 180° too when its orientation is uncertain and the reading
    weak; a line not yet read by the text OCR goes to it when its reading is weak (``weak``)."""

    name = "recognize"

    def __init__(
        self,
        formula: Callable[[], FormulaRecognizer],
        text: Callable[[], TextRecognizer] | None,
        low_confidence: float = 0.5,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.formula = formula
        self.text = text
        self.low_confidence = low_confidence
        self.batch_size = batch_size  # formulas per recognizer batch (performance.batch_size)

    def read(self, crops: Sequence[Gray], options: RecognizeOptions) -> list[Reading | None]:
        """One reading per crop; None for a crop the recognizer finds blank."""
        if not crops:
            return []
        model = self.formula()
        try:
            found = model.recognize(
                crops,
                beam_width=options.beam_width,
                n_best=options.n_best,
                batch_size=self.batch_size,
            )
            return list(found)
        except ImageNoContentError:
            if len(crops) == 1:
                raise
        readings: list[Reading | None] = []
        for c in crops:  # find the blank one(s); keep the others
            try:
                readings.append(self.read([c], options)[0])
            except ImageNoContentError:
                readings.append(None)
        return readings

    def read_regions(
        self, gray: Gray, regions: Sequence[Region], options: RecognizeOptions
    ) -> dict[int, Reading]:
        """The readings of the math regions among ``regions``, by region index (blank: none)."""
        math = [r for r in regions if r.kind == "math"]
        found = self.read([crop(gray, r) for r in math], options)
        return {r.index: rd for r, rd in zip(math, found, strict=True) if rd is not None}

    def process(self, job: Job) -> Job:
        prep, layout = job.prep, job.layout
        if prep is None or layout is None:
            raise ImageNoContentError("Image has no content")
        start = time.perf_counter()
        job.readings = self.read_regions(prep.page.gray, layout.regions, job.options)
        job.version = self.formula().version
        self.check_cleaning(job, (time.perf_counter() - start) * 1000.0)
        prep, layout = job.prep, job.layout
        assert prep is not None and layout is not None  # check_cleaning replaces, never clears
        if len(layout.lines) == 1:  # before any turn: a weak heading reads as well upside down
            self.check_prose(job)
            prep, layout = job.prep, job.layout
            assert prep is not None and layout is not None  # check_prose keeps both
        if prep.rotation and formula_only(layout) and job.readings:
            self.check_rotation(job)  # may undo the turn: then the other turns are tried below
        if job.readings and may_be_turned_formula(job.prep, job.layout, job.readings):
            self.check_quarter_turns(job)
        if job.layout is not None and job.layout.single_formula and 0 in job.readings:
            self.check_flip(job)
        self.check_rows(job)
        self.check_prose(job)
        return job

    def check_cleaning(self, job: Job, read_ms: float) -> None:
        """A formula read unsure (``preprocessing.second_reading_below``), quickly enough
        (``second_reading_budget_ms``: pre-processing, detection and this reading), is read
        again from the page cleaned the other way (``pipeline/strategy.py``); the reading with
        the higher mean token probability is kept. The decoded page is let go either way."""
        cleaning, layout = job.cleaning, job.layout
        if cleaning is None or cleaning.source is None:
            return
        job.cleaning = replace(cleaning, source=None)
        if layout is None or not job.readings or not formula_only(layout):
            return
        first = list(job.readings.values())
        spent = job.timings.get("preprocess", 0.0) + job.timings.get("detect", 0.0) + read_ms
        other, config = cleaning.alternative, cleaning.config
        weakest = min(r.confidence for r in first)
        if other is None or config is None or not cleaning.wants_second_reading(weakest, spent):
            return
        try:
            prep = cleaned_page(cleaning.source, other, config)
            second_layout = detect_layout(find_components(prep.mask))
        except ScipixError:
            return  # nothing readable that way
        except Exception as exc:  # an OpenCV error on a strange picture: keep the first
            log.warning("second reading (%s) failed: %r", other, exc)
            return
        if not formula_only(second_layout):
            return
        second = self.read_regions(prep.page.gray, second_layout.regions, job.options)
        won = keeps_second(first, list(second.values()))
        if won:
            job.prep, job.layout, job.readings = prep, second_layout, second
        strategy = other if won else cleaning.strategy
        job.cleaning = replace(cleaning, strategy=strategy, second_reading=True, source=None)

    def check_rotation(self, job: Job) -> None:
        """A formula that pre-processing turned by its glyph geometry (weak evidence for short
        formulas: a fraction is taller than wide, superscripts break baselines, a matrix's rows
        look like lines) is read as it came too; the turn is kept only when it reads clearly
        better (its readings' mean token probability against the unturned page's)."""
        prep = job.prep
        assert prep is not None
        turned = mean_rate(list(job.readings.values()))
        back = -prep.rotation
        gray = read_only(rotate_quarter(prep.page.gray, back))
        as_given = self.read([gray], job.options)[0]
        if as_given is None or reads_better(as_given.confidence_rate, turned):
            return
        mask = read_only(rotate_quarter(prep.mask, back))
        total = as_given.confidence_rate + turned
        share = turned / total if total > 0 else 0.0
        box = unturned_box(prep.crop_box, prep.straight_size, prep.rotation)
        self.adopt_turn(job, gray, mask, 0, share, box, as_given)

    def check_quarter_turns(self, job: Job) -> None:
        """A formula turned by 90° that pre-processing left as it came (a turned fraction or
        integral looks like several short lines, so glyph geometry cannot tell its turn) is
        read turned both ways as one formula; a turn is kept only when it reads clearly better
        than the page as it came."""
        prep = job.prep
        assert prep is not None
        given = mean_rate(list(job.readings.values()))
        turns = (90, -90)
        grays = [read_only(rotate_quarter(prep.page.gray, d)) for d in turns]
        readings = self.read(grays, job.options)
        scored = [(r.confidence_rate, i) for i, r in enumerate(readings) if r is not None]
        if not scored:
            return
        best_rate, best = max(scored)
        if not reads_better(given, best_rate):
            return
        degrees, gray = turns[best], grays[best]
        reading = readings[best]
        assert reading is not None
        mask = read_only(rotate_quarter(prep.mask, degrees))
        width, height = prep.straight_size
        total = given + best_rate
        share = best_rate / total if total > 0 else 0.0
        box = unturned_box(prep.crop_box, (height, width), -degrees)
        self.adopt_turn(job, gray, mask, degrees, share, box, reading)

    def adopt_turn(
        self,
        job: Job,
        gray: Gray,
        mask: np.ndarray,
        rotation: int,
        confidence: float,
        crop_box: tuple[int, int, int, int],
        reading: Reading,
    ) -> None:
        """Make the page turned to ``rotation`` the job's page: its layout found again, and
        ``reading`` (of the whole turned page) its reading when it is one formula."""
        prep = job.prep
        assert prep is not None
        orientation = prep.orientation
        if orientation is not None:
            orientation = replace(orientation, degrees=rotation, confidence=confidence)
        job.prep = replace(
            prep,
            page=replace(prep.page, gray=gray),
            mask=mask,
            rotation=rotation,
            orientation=orientation,
            crop_box=crop_box,
        )
        job.layout = detect_layout(find_components(mask))
        if job.layout.single_formula:
            job.readings = {0: reading}
        else:
            job.readings = self.read_regions(gray, job.layout.regions, job.options)

    def check_rows(self, job: Job) -> None:
        """A block of stacked rows (aligned, gathered, a matrix without delimiters) is also read
        row by row; the rows win, as one ``gathered`` formula, when they read clearly better."""
        prep, layout = job.prep, job.layout
        if prep is None or layout is None:
            return
        for region in layout.regions:
            whole = job.readings.get(region.index)
            if (
                region.kind != "math"
                or whole is None
                or layout.lines[region.line] != (region.index,)
            ):
                continue
            boxes = formula_rows(layout.ink.boxes, layout.ink.lines[region.line].members)
            if boxes is None:
                continue
            crops = [np.ascontiguousarray(prep.page.gray[y0:y1, x0:x1]) for x0, y0, x1, y1 in boxes]
            rows = self.read(crops, job.options)
            found = [r for r in rows if r is not None]
            if len(found) == len(rows) and reads_better(whole.confidence_rate, mean_rate(found)):
                job.readings[region.index] = rows_reading(found, whole)

    def check_flip(self, job: Job) -> None:
        prep, reading = job.prep, job.readings[0]
        assert prep is not None
        if (
            prep.orientation is None  # auto-rotation is off
            or prep.flip_confidence >= 0.99
            or reading.confidence >= FLIP_CHECK_BELOW
        ):
            return
        turned = rotate_quarter(prep.page.gray, 180)
        other = self.read([turned], job.options)[0]
        if other is not None and reads_better(reading.confidence_rate, other.confidence_rate):
            job.readings = {0: other}
            mask = read_only(rotate_quarter(prep.mask, 180))
            job.prep = replace(prep, page=replace(prep.page, gray=read_only(turned)), mask=mask)
            job.flipped = True
            total = reading.confidence_rate + other.confidence_rate
            job.flip_evidence = other.confidence_rate / total if total > 0 else 1.0

    def check_prose(self, job: Job) -> None:
        """Hand to the text OCR (in one call) the lines it has not read whose formula reading is
        weak: it reads like prose, or the line's shape is unsure and the reading's confidence
        low. A line where the OCR finds prose is split, and its math parts are read again.
        Pen strokes (``job.handwritten``) are not: the text OCR reads print, not handwriting."""
        layout, prep = job.layout, job.prep
        if self.text is None or layout is None or prep is None or job.flipped or job.handwritten:
            return
        chosen = [i for i in range(len(layout.lines)) if self.weak(layout, i, job.readings)]
        if not chosen:
            return
        boxes, lines = layout.ink.boxes, layout.ink.lines
        text = read_lines(self.text(), prep.page.gray, boxes, lines, chosen)
        strict = len(lines) == 1  # a page's only line: words must look like words
        split = {i: line_regions(lines[i], i, boxes, text, strict) for i in chosen}
        job.layout, moved = resplit(layout, split, frozenset(chosen))
        readings = {moved[i]: rd for i, rd in job.readings.items() if i in moved}
        fresh = [r for r in job.layout.regions if r.index not in readings]
        readings.update(self.read_regions(prep.page.gray, fresh, job.options))
        job.readings = readings

    def weak(self, layout: Layout, line: int, readings: dict[int, Reading]) -> bool:
        """Whether a line is one math region, unread by the text OCR, read weakly as a formula."""
        members = layout.lines[line]
        if line in layout.read or len(members) != 1 or members[0] not in readings:
            return False
        if line in layout.stacked:
            return False  # rows joined into one formula (cases, aligned): never prose
        kind = layout.kinds[line] if line < len(layout.kinds) else "unsure"
        reading = readings[members[0]]
        if kind == "text" or looks_like_prose(reading.latex):
            return True
        weak = reading.confidence < self.low_confidence or upright_word(reading.latex)
        return kind == "unsure" and weak
