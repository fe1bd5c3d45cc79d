"""Strokes drawn to a grayscale image for the formula recognizer.

The recognizer learned handwriting from CROHME's ink drawn to 256 × 256 PNGs (``train/crohme``):
the ink scaled, aspect kept, so that its longer side spans about 245 px, a pen about 1.6 px
wide, anti-aliased, dark on white. :data:`CROHME_STYLE` draws the same way, so ink sent to
``/v3/strokes`` looks like what the model was trained on (the recognizer's pre-processing then
crops and rescales it like any image). :class:`PenStyle` varies size and pen width for training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from scipix.ink.strokes import Ink, Points
from scipix.recognition.preprocess import GrayImage


@dataclass(frozen=True)
class PenStyle:
    """How to draw: the longer side of the ink (px), the pen width (px), margin, supersampling."""

    box: float = 244.0
    pen_width: float = 1.6
    margin: int = 5
    supersample: int = 8
    ink: int = 0  # gray level of the pen (0 black)


#: What ``train/crohme`` PNGs look like (the model's handwriting training images).
CROHME_STYLE = PenStyle()


def fit(strokes: Sequence[Points], box: float) -> tuple[list[Points], tuple[float, float]]:
    """Strokes moved to the origin and scaled so the longer side is ``box``; their (w, h)."""
    every = np.concatenate(strokes)
    low = every.min(axis=0)
    extent = float((every.max(axis=0) - low).max())
    scale = box / extent if extent > 0 else 1.0
    moved = [(s - low) * scale for s in strokes]
    size = (every.max(axis=0) - low) * scale
    return moved, (float(size[0]), float(size[1]))


def draw_points(
    strokes: Sequence[Points], size: tuple[float, float], style: PenStyle = CROHME_STYLE
) -> GrayImage:
    """Draw strokes already in pixel units (origin at the top left of the ink) on white."""
    ss = max(1, style.supersample)
    width = int(np.ceil(size[0])) + 2 * style.margin + 1
    height = int(np.ceil(size[1])) + 2 * style.margin + 1
    canvas = np.full((height * ss, width * ss), 255, dtype=np.uint8)
    thickness = max(1, round(style.pen_width * ss))
    shift = 4  # cv2 sub-pixel bits
    for stroke in strokes:
        pts = np.round((stroke + style.margin) * ss * (1 << shift)).astype(np.int32)
        if len(pts) == 1:
            radius = max(1, thickness // 2) << shift
            cv2.circle(
                canvas, tuple(int(v) for v in pts[0]), radius, style.ink, -1, cv2.LINE_AA, shift
            )
        else:
            cv2.polylines(
                canvas, [pts.reshape(-1, 1, 2)], False, style.ink, thickness, cv2.LINE_AA, shift
            )
    if ss == 1:
        return canvas
    small = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.uint8)


def draw_ink(ink: Ink, style: PenStyle = CROHME_STYLE) -> GrayImage:
    """The ink as a grayscale uint8 image (dark ink on white), drawn in ``style``."""
    strokes, size = fit(ink.strokes, style.box)
    return draw_points(strokes, size, style)
