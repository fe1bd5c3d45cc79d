"""The pre-processing chain: polarity, deskew, orientation, crop, CLAHE, denoise, binarize.

:func:`preprocess` turns a decoded :class:`Page` into a clean page (dark ink on light paper,
upright, straight, cropped to its content) plus the ink mask that region detection uses, and it
times every step. Each step is switched by :class:`PreprocessConfig` (from settings, overridden
per call). Analysis (orientation, skew, crop box) runs on a copy no longer than ``analysis_side``
so a 12-megapixel photo costs about what a screenshot does; the page itself is transformed once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TypeVar

import numpy as np

from scipix.errors import ImageNoContentError
from scipix.imaging import enhance
from scipix.imaging.components import Boxes, find_components
from scipix.imaging.enhance import Mask, PageInk
from scipix.imaging.geometry import (
    content_box,
    downscale,
    estimate_skew,
    rotate_image,
    rotate_mask,
    unrotate_points,
    unturn_points,
)
from scipix.imaging.orientation import (
    LineEvidence,
    Orientation,
    detect_orientation,
    rotate_quarter,
)
from scipix.imaging.page import Gray, Page, read_only
from scipix.schema import AUTO_ROTATE_CONFIDENCE, PREPROCESS_DEFAULTS

T = TypeVar("T")

#: The pre-processing steps, in the order they run.
#: How much longer (log length/thickness, ``line_elongation``) lines must be down the image than
#: across it before the skew is measured on vertical lines.
VERTICAL_MARGIN = 0.4
STEPS = ("polarity", "analyse", "deskew", "orient", "crop", "clahe", "denoise", "binarize")


@dataclass(frozen=True)
class PreprocessConfig:
    """Which steps run (the switches of :class:`~scipix.schema.PreprocessSteps`, whose defaults
    they take), and their few parameters."""

    auto_rotate: bool = PREPROCESS_DEFAULTS.auto_rotate
    deskew: bool = PREPROCESS_DEFAULTS.deskew
    crop: bool = PREPROCESS_DEFAULTS.crop
    clahe: bool = PREPROCESS_DEFAULTS.clahe
    denoise: bool = PREPROCESS_DEFAULTS.denoise
    binarize: bool = PREPROCESS_DEFAULTS.binarize
    #: Undo the EXIF orientation tag while decoding (Mathpix's server ignores it).
    exif_orientation: bool = PREPROCESS_DEFAULTS.exif_orientation
    #: Rotate only when the probability that the page is turned reaches this (Mathpix: 0.99).
    rotate_threshold: float = AUTO_ROTATE_CONFIDENCE
    #: Long side of the copy that orientation, skew and crop are measured on.
    analysis_side: int = 1600
    #: Ink kept around the content when cropping, in pixels.
    margin: int = 8


@dataclass(frozen=True)
class Preprocessed:
    """A clean page and what was done to get it (all sizes in pixels of the cleaned page)."""

    page: Page
    mask: Mask
    original_width: int
    original_height: int
    rotation: int
    orientation: Orientation | None
    skew: float
    inverted: bool
    crop_box: tuple[int, int, int, int]
    straight_size: tuple[int, int] = (0, 0)
    timings: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def to_source(self, points: np.ndarray) -> np.ndarray:
        """Points (x, y) of the cleaned page mapped back to the decoded image."""
        pts = points.astype(np.float64) + np.array(self.crop_box[:2], dtype=np.float64)
        if self.rotation:
            pts = unturn_points(pts, self.straight_size[0], self.straight_size[1], self.rotation)
        if self.skew:
            pts = unrotate_points(pts, self.original_width, self.original_height, self.skew)
        return pts

    @property
    def rotate_confidence(self) -> float:
        return self.orientation.confidence if self.orientation is not None else 0.0

    @property
    def flip_confidence(self) -> float:
        return self.orientation.flip_confidence if self.orientation is not None else 1.0


class Timer:
    """Times named steps in milliseconds."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    def run(self, name: str, fn: Callable[[], T]) -> T:
        start = time.perf_counter()
        try:
            return fn()
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - start) * 1000.0


def no_content() -> ImageNoContentError:
    return ImageNoContentError(
        "Image has no content: no marks darker than the background were found "
        "(a blank, uniform or extremely faint image)"
    )


def analyse(gray: Gray, side: int) -> tuple[Mask, Boxes, float]:
    """The ink mask and components of a copy no longer than ``side``, and that copy's scale."""
    small, scale = downscale(gray, side)
    mask = enhance.ink_mask(small)
    return mask, find_components(mask), scale


def paper_fill(gray: Gray) -> int:
    """The paper's gray level, to fill areas a rotation uncovers."""
    return enhance.percentile(enhance.histogram(gray), 90)


def preprocess(
    page: Page, config: PreprocessConfig | None = None, ink: PageInk | None = None
) -> Preprocessed:
    """Clean ``page`` (see the module docstring); raises ImageNoContentError for a blank page.
    ``ink``: the page's ink, when already measured (by the picture classifier)."""
    cfg = config or PreprocessConfig()
    timer = Timer()
    known = ink is not None and ink.gray.shape == page.gray.shape
    if ink is not None and known and max(page.gray.shape[:2]) <= cfg.analysis_side:
        gray, inverted = timer.run("polarity", lambda: (ink.gray, ink.inverted))
        mask, scale = ink.mask, 1.0
        boxes = timer.run("analyse", lambda: find_components(mask))
    else:
        gray, inverted = timer.run("polarity", lambda: enhance.normalize_polarity(page.gray))
        mask, boxes, scale = timer.run("analyse", lambda: analyse(gray, cfg.analysis_side))
    if len(boxes) == 0 or int(boxes.area.sum()) < 12:
        raise no_content()
    skew = 0.0
    evidence: LineEvidence | None = None  # of the boxes as they are now
    if cfg.deskew:
        evidence = timer.run("deskew", lambda: LineEvidence.of(boxes))
        skew, gray, mask, boxes = timer.run(
            "deskew", lambda: straighten(gray, mask, boxes, evidence)
        )
        if skew:
            evidence = None
    straight_size = (int(gray.shape[1]), int(gray.shape[0]))
    orientation, rotation = None, 0
    if cfg.auto_rotate:
        orientation = timer.run("orient", lambda: detect_orientation(boxes, evidence))
        if orientation.confidence >= cfg.rotate_threshold:
            rotation = orientation.degrees
            gray = rotate_quarter(gray, rotation)
            mask = rotate_quarter(mask, rotation)
            boxes = find_components(mask)
    box = (0, 0, gray.shape[1], gray.shape[0])
    if cfg.crop:
        box = timer.run("crop", lambda: crop_box(boxes, scale, gray.shape, cfg.margin))
        gray = gray[box[1] : box[3], box[0] : box[2]]
    full_mask = timer.run("crop", lambda: page_mask(gray, mask, scale, box, cfg.crop))
    gray = enhance_steps(gray, cfg, timer)
    cleaned = replace(page, gray=read_only(np.ascontiguousarray(gray)))
    return Preprocessed(
        page=cleaned,
        mask=full_mask,
        original_width=page.width,
        original_height=page.height,
        rotation=rotation,
        orientation=orientation,
        skew=skew,
        inverted=inverted,
        crop_box=box,
        straight_size=straight_size,
        timings=MappingProxyType(timer.ms),
    )


def straighten(
    gray: Gray, mask: Mask, boxes: Boxes, evidence: LineEvidence | None = None
) -> tuple[float, Gray, Mask, Boxes]:
    """Measure the skew on the analysis copy; straighten the page and the mask if it is real.
    The angle returned is the counter-clockwise rotation applied. ``evidence``:
    ``LineEvidence.of(boxes)``, when already made."""
    ev = evidence if evidence is not None else LineEvidence.of(boxes)
    rows, cols = ev.elongations
    # Lines run down the image only when clearly longer that way: a compact formula (a sum with
    # limits, an integral) is about as long both ways, and the slanted strokes of its big
    # operator would be taken for tilted vertical lines (a 12° turn that loses the exponent).
    vertical = bool(cols > rows + VERTICAL_MARGIN)
    angle = estimate_skew(mask, vertical)
    if angle == 0.0:
        return 0.0, gray, mask, boxes
    gray = rotate_image(gray, angle, fill=paper_fill(gray))
    mask = rotate_mask(mask, angle)
    return angle, gray, mask, find_components(mask)


def crop_box(
    boxes: Boxes, scale: float, shape: tuple[int, ...], margin: int
) -> tuple[int, int, int, int]:
    """The content box on the full-size page from the boxes of the analysis copy."""
    x0, y0, x1, y1 = content_box(boxes, (round(shape[0] * scale), round(shape[1] * scale)), 0)
    inv = 1.0 / scale
    return (
        max(0, int(x0 * inv) - margin),
        max(0, int(y0 * inv) - margin),
        min(int(shape[1]), int(np.ceil(x1 * inv)) + margin),
        min(int(shape[0]), int(np.ceil(y1 * inv)) + margin),
    )


def page_mask(
    gray: Gray, mask: Mask, scale: float, box: tuple[int, int, int, int], cropped: bool
) -> Mask:
    """The ink mask of the final page: a slice of the analysis mask when it was full size."""
    if scale >= 1.0:
        out = mask[box[1] : box[3], box[0] : box[2]] if cropped else mask
        return read_only(np.ascontiguousarray(out))
    return read_only(enhance.ink_mask(gray))


def enhance_steps(gray: Gray, cfg: PreprocessConfig, timer: Timer) -> Gray:
    if cfg.clahe:
        gray = timer.run("clahe", lambda: enhance.clahe(gray))
    if cfg.denoise:
        gray = timer.run("denoise", lambda: enhance.denoise(gray))
    if cfg.binarize:
        gray = timer.run("binarize", lambda: enhance.binarize(gray))
    return gray
