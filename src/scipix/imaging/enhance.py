"""Pixel-level enhancement: polarity, ink detection, CLAHE, denoising and binarization.

All functions take and return gray ``uint8`` arrays (dark ink on light paper) and never loop over
pixels in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from scipix.imaging.page import Gray

Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class PageInk:
    """A page's ink as measured at full size: the page with dark ink on light paper
    (:func:`normalize_polarity`), whether it was inverted, and its :func:`ink_mask`. Whoever
    measured it first (the picture classifier) hands it on, so pre-processing does not redo it."""

    gray: Gray
    inverted: bool
    mask: Mask


#: Larger images' histograms count every other pixel each way.
FULL_HISTOGRAM_PIXELS = 250_000
#: The smallest darkening (in gray levels) below the local paper level that counts as ink.
MIN_INK_CONTRAST = 24


def histogram(gray: Gray) -> NDArray[np.float64]:
    """The 256-bin histogram of ``gray`` (of every other pixel each way for large images: the
    percentiles taken from it do not need all of them)."""
    if gray.size > FULL_HISTOGRAM_PIXELS:
        gray = np.ascontiguousarray(gray[::2, ::2])
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256])
    return np.asarray(hist, dtype=np.float64).ravel()


def percentile(hist: NDArray[np.float64], q: float) -> int:
    """The ``q``-th percentile (0-100) of the values a 256-bin histogram counts."""
    cumulative = np.cumsum(hist)
    return int(np.searchsorted(cumulative, cumulative[-1] * q / 100.0))


def is_inverted(gray: Gray) -> bool:
    """Light ink on a dark background (dark-mode screenshots, chalkboards, negatives)."""
    return counts_inverted(histogram(gray))


def counts_inverted(hist: NDArray[np.float64]) -> bool:
    """:func:`is_inverted` from the picture's 256-bin histogram (the median level is dark)."""
    return percentile(hist, 50) < 100


def normalize_polarity(gray: Gray) -> tuple[Gray, bool]:
    """Dark ink on light paper: invert an image whose background is dark."""
    if is_inverted(gray):
        return np.ascontiguousarray(255 - gray), True
    return gray, False


def paper_level(gray: Gray, kernel: int) -> Gray:
    """The local paper brightness: a max filter wider than strokes, then smoothed."""
    element = cv2.getStructuringElement(cv2.MORPH_RECT, (kernel, kernel))
    paper = np.asarray(cv2.dilate(gray, element), dtype=np.uint8)
    blurred = np.asarray(cv2.blur(paper, (kernel, kernel)), dtype=np.uint8)
    return np.maximum(paper, blurred)


def stroke_kernel(shape: tuple[int, ...]) -> int:
    """A window wider than typical strokes and narrower than the page: odd, 15-61 px."""
    size = int(np.clip(min(shape[:2]) // 12, 15, 61))
    return size | 1


def ink_mask(gray: Gray, min_contrast: int = MIN_INK_CONTRAST) -> Mask:
    """Pixels clearly darker than the paper around them (robust to shading and to noise)."""
    paper = paper_level(gray, stroke_kernel(gray.shape))
    return ink_of_darkening(np.asarray(cv2.subtract(paper, gray), dtype=np.uint8), min_contrast)


def ink_of_darkening(darkening: Gray, min_contrast: int = MIN_INK_CONTRAST) -> Mask:
    """:func:`ink_mask` from the darkening below the paper level (paper minus page)."""
    top = percentile(histogram(darkening), 99.9)
    threshold = max(min_contrast, int(0.35 * top))
    mask: Mask = darkening >= threshold
    return mask


def clahe(gray: Gray, clip_limit: float = 2.0, tiles: int = 8) -> Gray:
    """Contrast-limited adaptive histogram equalization (local contrast for faded photos)."""
    engine = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles))
    return np.asarray(engine.apply(gray), dtype=np.uint8)


def denoise(gray: Gray, strength: float = 30.0) -> Gray:
    """Edge-preserving (bilateral) smoothing: flattens sensor and JPEG noise on the paper while
    keeping thin strokes such as fraction bars, which a median filter would erase. (Non-local
    means denoises better but costs about 20 times as much: seconds on a 12 MP photo.)"""
    return np.asarray(cv2.bilateralFilter(gray, 5, strength, 5), dtype=np.uint8)


def binarize(gray: Gray) -> Gray:
    """Adaptive (local mean) threshold to pure black ink on white paper."""
    mask = ink_mask(gray)
    return np.where(mask, np.uint8(0), np.uint8(255))


def flatten_background(gray: Gray) -> Gray:
    """Divide out uneven illumination: the paper becomes uniformly white, ink keeps contrast."""
    paper = paper_level(gray, stroke_kernel(gray.shape)).astype(np.float32)
    flat = gray.astype(np.float32) * (255.0 / np.maximum(paper, 1.0))
    return np.clip(flat, 0, 255).astype(np.uint8)
