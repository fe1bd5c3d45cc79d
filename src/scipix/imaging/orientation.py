"""Detect whether a page is turned by 90, 180 or 270 degrees, from how its glyphs line up.

Printed glyphs (letters, digits, most math symbols) stand on a common baseline while their tops
vary (x-height, ascenders, superscripts). So within each line the *bottoms* of the connected
components are aligned and the tops are ragged. Measuring that asymmetry along both axes tells
which image edge is "down": no model, a few milliseconds.

``auto_rotate_degrees`` follows Mathpix: the counter-clockwise rotation applied to make the image
upright, one of 0, 90, -90, 180. ``auto_rotate_confidence`` is the probability that the image
needed a rotation at all (near 0 for an upright image), as Mathpix reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any, TypeVar, cast

import numpy as np

from scipix.imaging.components import Boxes, IntArray, group_intervals, median

ImageT = TypeVar("ImageT", bound=np.ndarray[Any, Any])

#: Log-odds granted to "already upright" (most images are), for the axis and for up/down.
AXIS_PRIOR = 3.0
UPRIGHT_PRIOR = 2.0
#: Log-odds per unit of mean log-elongation difference between the two axes.
AXIS_GAIN = 8.0
#: Log-odds per component of baseline evidence.
FLIP_GAIN = 1.5
#: Components longer than this ratio (fraction bars, rules, brackets) say nothing about baselines.
MAX_ASPECT = 6


@dataclass(frozen=True)
class Orientation:
    """The rotation that makes the page upright and how sure we are that one is needed.

    ``flip_confidence`` is how sure we are of "up" versus "down" along the chosen axis: glyph
    baselines are a weak cue for short formulas, so the pipeline may check a low value with the
    recognizer (read the page both ways, keep the more confident reading).
    """

    degrees: int
    confidence: float
    probabilities: Mapping[int, float]
    flip_confidence: float


def usable(boxes: Boxes) -> Boxes:
    """Components that carry line evidence: not rules or bars, not specks."""
    keep = (boxes.w <= MAX_ASPECT * boxes.h) & (boxes.h <= MAX_ASPECT * boxes.w)
    keep &= np.maximum(boxes.w, boxes.h) >= 3
    return boxes.select(keep)


@dataclass(frozen=True)
class Bands:
    """The horizontal bands of some boxes (components overlapping in y), grouped once for the
    several measures taken on them: ``order`` lists the boxes band by band (each band's in
    index order), ``starts`` where each band begins in it and ``sizes`` how many it holds."""

    order: IntArray
    starts: IntArray
    sizes: IntArray

    @classmethod
    def of(cls, boxes: Boxes) -> Bands:
        labels = group_intervals(boxes.y, boxes.y1)  # 0 … k-1, each used
        order = np.argsort(labels, kind="stable")
        sizes = np.bincount(labels).astype(np.int64)
        ends = np.cumsum(sizes)
        return cls(order, ends - sizes, sizes)

    def members(self, at_least: int = 1) -> list[IntArray]:
        """Indices of the boxes of each band (in band order) holding ``at_least`` boxes."""
        keep = np.flatnonzero(self.sizes >= at_least).tolist()
        starts, stops = self.starts.tolist(), (self.starts + self.sizes).tolist()
        return [self.order[starts[i] : stops[i]] for i in keep]


def bands(boxes: Boxes) -> list[IntArray]:
    """Indices of the components of each horizontal band (components overlapping in y)."""
    return Bands.of(boxes).members()


def line_elongation(boxes: Boxes, grouped: Bands | None = None) -> float:
    """Mean over components of log(length / thickness) of the band holding them.

    Text and formula lines are long along their direction: this is larger along the true
    reading axis than across it. ``grouped``: the boxes' bands, when already known.
    """
    if len(boxes) < 2:
        return 0.0
    g = grouped if grouped is not None else Bands.of(boxes)
    order, starts = g.order, g.starts
    length = np.maximum.reduceat(boxes.x1[order], starts) - np.minimum.reduceat(
        boxes.x[order], starts
    )
    thickness = np.maximum.reduceat(boxes.y1[order], starts) - np.minimum.reduceat(
        boxes.y[order], starts
    )
    ratio = length.astype(np.float64) / np.maximum(thickness.astype(np.float64), 1.0)
    terms = g.sizes * np.log(np.maximum(ratio, 1.0))
    total = 0.0
    for term in terms.tolist():  # summed in band order, one by one (the same float as before)
        total += term
    return total / len(boxes)


def baseline_evidence(boxes: Boxes, grouped: Bands | None = None) -> float:
    """How many more components share a bottom edge than a top edge, summed over lines.

    Positive: the page's "down" is the bottom edge; negative: it is the top edge.
    """
    evidence = 0.0
    g = grouped if grouped is not None else Bands.of(boxes)
    for idx in g.members(at_least=3):
        n = idx.shape[0]
        tops, bottoms = boxes.y[idx], boxes.y1[idx]
        tol = max(1.0, 0.12 * median(boxes.h[idx]))
        bottom = np.abs(bottoms - median(bottoms)) <= tol
        top = np.abs(tops - median(tops)) <= tol
        evidence += (n - 1) * float(bottom.mean() - top.mean())
    return evidence


def sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


@dataclass(frozen=True)
class LineEvidence:
    """A page's usable components (:func:`usable`), the same transposed, and the bands of
    each: what the skew's direction and the orientation are measured on, grouped once."""

    lines: Boxes
    transposed: Boxes
    rows: Bands
    cols: Bands

    @classmethod
    def of(cls, boxes: Boxes) -> LineEvidence:
        lines = usable(boxes)
        transposed = lines.transposed()
        return cls(lines, transposed, Bands.of(lines), Bands.of(transposed))

    @cached_property
    def elongations(self) -> tuple[float, float]:
        """:func:`line_elongation` along the rows and down the columns."""
        return line_elongation(self.lines, self.rows), line_elongation(self.transposed, self.cols)


def detect_orientation(boxes: Boxes, evidence: LineEvidence | None = None) -> Orientation:
    """The upright orientation of a page from its ink components (see the module docstring).
    ``evidence``: ``LineEvidence.of(boxes)``, when already made."""
    ev = evidence if evidence is not None else LineEvidence.of(boxes)
    along, down = ev.elongations
    p_rows = sigmoid(AXIS_GAIN * (along - down) + AXIS_PRIOR)
    # rows > 0: baselines at the bottom. cols > 0: baselines face the right edge, so the page
    # was turned 90° counter-clockwise and needs -90.
    p_up = sigmoid(FLIP_GAIN * baseline_evidence(ev.lines, ev.rows) + UPRIGHT_PRIOR)
    p_right = sigmoid(FLIP_GAIN * baseline_evidence(ev.transposed, ev.cols))
    probabilities = {
        0: p_rows * p_up,
        180: p_rows * (1.0 - p_up),
        -90: (1.0 - p_rows) * p_right,
        90: (1.0 - p_rows) * (1.0 - p_right),
    }
    turned = max((k for k in probabilities if k != 0), key=lambda k: probabilities[k])
    flip = max(p_up, 1.0 - p_up) if turned == 180 else max(p_right, 1.0 - p_right)
    return Orientation(turned, 1.0 - probabilities[0], MappingProxyType(probabilities), flip)


def rotate_quarter(image: ImageT, degrees: int) -> ImageT:
    """Rotate an image or mask by a multiple of 90 degrees counter-clockwise (exact, no
    interpolation)."""
    k = (degrees // 90) % 4
    if k == 0:
        return image
    return cast(ImageT, np.ascontiguousarray(np.rot90(image, k)))  # same dtype, new shape


def baseline_alignment(boxes: Boxes) -> float:
    """The share of glyphs (in lines of 3+) whose bottom lies on their line's median baseline:
    near 1 for print, lower for handwriting; 1.0 when there are too few glyphs to tell."""
    b = usable(boxes)
    aligned, total = 0, 0
    for idx in Bands.of(b).members(at_least=3):
        bottoms = b.y1[idx]
        tol = max(1.0, 0.08 * median(b.h[idx]))
        aligned += int((np.abs(bottoms - median(bottoms)) <= tol).sum())
        total += int(idx.shape[0])
    return aligned / total if total >= 6 else 1.0
