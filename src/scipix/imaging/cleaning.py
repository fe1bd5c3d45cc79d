"""Cleaning a photographed or scanned page before the usual pre-processing, per strategy.

A *strategy* names what is done to the decoded page before :func:`~scipix.imaging.preprocess`:

- ``plain``: nothing (today's default path; right for clean renders and screenshots);
- ``flatten``: dark ink on light paper, the paper's uneven light divided out (a background
  estimated by a morphological closing of a median-filtered copy, smoothed), sensor and JPEG
  noise smoothed (edge-preserving), contrast stretched so the paper is white and the ink black;
- ``binarize``: ``flatten``, then an adaptive threshold to pure black ink on white.

Each step is an OpenCV call on the whole page (or on a reduced copy, for the background), so a
12-megapixel photo costs tens of milliseconds, not seconds.
"""

from __future__ import annotations

import cv2
import numpy as np

from scipix.imaging import enhance
from scipix.imaging.geometry import downscale
from scipix.imaging.page import Gray
from scipix.schema import CleaningStrategy

Strategy = CleaningStrategy

STRATEGIES: tuple[Strategy, ...] = ("plain", "flatten", "binarize")
#: The background is estimated on a copy no longer than this.
BACKGROUND_SIDE = 600


def estimate_background(gray: Gray) -> Gray:
    """The paper's brightness under the ink, at full size: a median filter (noise), a closing
    wider than the strokes (the ink disappears), a blur (smooth light), on a reduced copy."""
    small, scale = downscale(gray, BACKGROUND_SIDE)
    kernel = enhance.stroke_kernel(small.shape)
    quiet = cv2.medianBlur(small, 3)
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel, kernel))
    closed = cv2.morphologyEx(quiet, cv2.MORPH_CLOSE, element)
    smooth = np.asarray(cv2.GaussianBlur(closed, (0, 0), kernel / 3), dtype=np.uint8)
    background = np.maximum(smooth, np.asarray(closed, dtype=np.uint8))
    if scale < 1.0:
        size = (gray.shape[1], gray.shape[0])
        background = cv2.resize(background, size, interpolation=cv2.INTER_LINEAR)
    return np.asarray(background, dtype=np.uint8)


def flatten_illumination(gray: Gray) -> Gray:
    """Divide the page by its background: uniformly white paper, ink with its contrast."""
    background = estimate_background(gray)
    flat = cv2.divide(gray, np.maximum(background, 1), scale=255)
    return np.asarray(flat, dtype=np.uint8)


def smooth_noise(gray: Gray) -> Gray:
    """Edge-preserving smoothing of sensor and JPEG noise (see :func:`enhance.denoise`)."""
    return enhance.denoise(gray)


def stretch_contrast(gray: Gray, low: float = 1.0, high: float = 60.0) -> Gray:
    """Map the ``low`` percentile (the darkest ink) to black and the ``high`` one (flattened
    paper, which covers most of a page) to white, linearly; a flat page is left alone."""
    hist = enhance.histogram(gray)
    lo, hi = enhance.percentile(hist, low), enhance.percentile(hist, high)
    if hi - lo < 16:
        return gray
    table = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)), 0, 255)
    return np.asarray(cv2.LUT(gray, table.astype(np.uint8)), dtype=np.uint8)


def threshold_ink(gray: Gray) -> Gray:
    """Black ink on white paper: Otsu's threshold of the flattened page (its paper is even, so
    one global level separates paper from ink)."""
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return np.asarray(binary, dtype=np.uint8)


def clean(gray: Gray, strategy: Strategy) -> Gray:
    """``gray`` cleaned by ``strategy`` (see the module docstring)."""
    if strategy == "plain":
        return gray
    page, _ = enhance.normalize_polarity(gray)
    page = stretch_contrast(smooth_noise(flatten_illumination(page)))
    if strategy == "binarize":
        page = threshold_ink(page)
    return page
