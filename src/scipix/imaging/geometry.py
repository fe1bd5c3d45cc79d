"""Geometry: skew estimation and correction, crop to content, resize and pad."""

from __future__ import annotations

import math

import cv2
import numpy as np

from scipix.imaging.components import Boxes, median
from scipix.imaging.enhance import Mask
from scipix.imaging.page import Gray

#: Skew search range and steps, in degrees.
MAX_SKEW = 15.0
COARSE_STEP = 1.0
FINE_STEP = 0.1
#: Smaller tilts are left alone, and so are tilts that do not line the ink edges up this much
#: better than 0° does.
MIN_SKEW = 0.8
MIN_GAIN = 1.08
#: Little ink (a short formula: fewer edge points than this) lines up at some small angle by
#: chance: on clean upright TeX renders at 100 dpi 11 of 43 came out "skewed" with gains of
#: 1.09-1.29, so such pages need a clearer gain (the recognizer is trained on small tilts).
SMALL_INK_POINTS = 600
MIN_GAIN_SMALL_INK = 1.3
#: At most this many edge pixels go into the skew search.
SKEW_POINTS = 1500


def projection_sharpness(ys: np.ndarray, xs: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """For each angle (degrees), the sum of squared 1-pixel bin counts of the points projected
    across it: points on lines tilted by that angle fall into few bins, so the sum peaks there."""
    theta = np.deg2rad(angles).astype(np.float32)[:, None]
    proj = ys[None, :] * np.cos(theta) + xs[None, :] * np.sin(theta)
    bins = (proj - proj.min(axis=1, keepdims=True)).astype(np.int32)
    width = int(bins.max()) + 1
    keys = bins + np.arange(angles.shape[0], dtype=np.int32)[:, None] * width
    counts = np.bincount(keys.ravel(), minlength=angles.shape[0] * width).astype(np.float64)
    result: np.ndarray = (counts.reshape(angles.shape[0], width) ** 2).sum(axis=1)
    return result


def edge_points(mask: Mask, limit: int = SKEW_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(ys, xs) of the top and bottom edge pixels of the ink, an even sample of at most ``limit``.

    Glyph bottoms sit on baselines and their tops on x-heights: these edges make sharp lines."""
    edges = mask[:-1] ^ mask[1:]  # where ink starts or ends going down a column
    flat = np.flatnonzero(edges)
    stride = max(1, flat.shape[0] // limit)
    ys, xs = np.divmod(flat[::stride], mask.shape[1])
    return ys.astype(np.float32), xs.astype(np.float32)


def measure_skew(mask: Mask) -> tuple[float, float]:
    """(tilt, gain): the tilt of the ink's horizontal lines in degrees (counter-clockwise
    positive, within ±15°), and how much better it lines up the ink's horizontal edges than 0°
    does (1.0: no better).

    A projection-profile search over the edges, coarse (1°) then fine (0.1°).
    """
    ys, xs = edge_points(mask)
    if ys.shape[0] < 20:
        return 0.0, 1.0
    coarse = np.arange(-MAX_SKEW, MAX_SKEW + COARSE_STEP / 2, COARSE_STEP)
    scores = projection_sharpness(ys, xs, coarse) / (1.0 + 0.01 * np.abs(coarse))
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - COARSE_STEP, best + COARSE_STEP + FINE_STEP / 2, FINE_STEP)
    fine_scores = projection_sharpness(ys, xs, np.concatenate(([0.0], fine)))
    angle = float(fine[int(np.argmax(fine_scores[1:]))])
    return round(angle, 2), float(fine_scores[1:].max() / max(fine_scores[0], 1e-9))


def estimate_skew(mask: Mask, vertical: bool | None = None) -> float:
    """The counter-clockwise rotation (degrees) that straightens the page's lines, whether they
    run across (text upright or upside down) or down (turned by 90°) the image; 0 when the
    tilt is tiny or not clearly real (a formula's own shape can prefer a small angle by chance).
    ``vertical``: whether the lines run down the image (None: measure both ways).
    """
    across, gain = measure_skew(mask) if vertical is None or not vertical else (0.0, 0.0)
    down, gain_t = measure_skew(mask.T) if vertical is None or vertical else (0.0, 0.0)
    # In the transposed image a counter-clockwise tilt is a clockwise one in the original.
    fix, best_gain = (-across, gain) if gain >= gain_t else (down, gain_t)
    if abs(fix) < MIN_SKEW or best_gain < MIN_GAIN:
        return 0.0
    if best_gain < MIN_GAIN_SMALL_INK and edge_points(mask)[0].shape[0] < SMALL_INK_POINTS:
        return 0.0
    return fix


def rotation_matrix(width: int, height: int, degrees: float) -> tuple[np.ndarray, int, int]:
    """The affine matrix rotating a ``width``×``height`` image counter-clockwise by ``degrees``
    about its centre into a canvas grown to fit, and that canvas's width and height."""
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w = math.ceil(height * sin + width * cos)
    new_h = math.ceil(height * cos + width * sin)
    matrix[0, 2] += new_w / 2.0 - width / 2.0
    matrix[1, 2] += new_h / 2.0 - height / 2.0
    return matrix, new_w, new_h


def rotate_image(gray: Gray, degrees: float, fill: int = 255, nearest: bool = False) -> Gray:
    """Rotate counter-clockwise by ``degrees`` about the centre, growing the canvas to fit."""
    matrix, new_w, new_h = rotation_matrix(gray.shape[1], gray.shape[0], degrees)
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    out = cv2.warpAffine(
        gray, matrix, (new_w, new_h), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=fill
    )
    return np.asarray(out, dtype=np.uint8)


def unrotate_points(points: np.ndarray, width: int, height: int, degrees: float) -> np.ndarray:
    """Points of an image made by ``rotate_image`` (from a ``width``×``height`` one) mapped back."""
    matrix, _, _ = rotation_matrix(width, height, degrees)
    inverse = cv2.invertAffineTransform(matrix)
    result: np.ndarray = points @ inverse[:, :2].T + inverse[:, 2]
    return result


def unturn_points(points: np.ndarray, width: int, height: int, degrees: int) -> np.ndarray:
    """Points of ``np.rot90(image, degrees // 90)`` mapped back to the ``width``×``height``
    image it was made from."""
    k = (degrees // 90) % 4
    pts = points.astype(np.float64).copy()
    sizes = [(width, height), (height, width)]
    for step in range(k, 0, -1):
        w_before, _ = sizes[(step - 1) % 2]  # the image before this quarter turn
        x, y = pts[:, 0].copy(), pts[:, 1].copy()
        pts[:, 0], pts[:, 1] = w_before - 1 - y, x
    return pts


def rotate_mask(mask: Mask, degrees: float) -> Mask:
    turned = rotate_image(mask.view(np.uint8), degrees, fill=0, nearest=True)
    result: Mask = turned.astype(bool)
    return result


def content_box(boxes: Boxes, shape: tuple[int, ...], margin: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around the ink components, plus ``margin``, clipped to the image.

    Specks far smaller than the typical component (dust, JPEG noise) do not extend the box.
    """
    if len(boxes) == 0:
        return 0, 0, int(shape[1]), int(shape[0])
    floor = max(3.0, 0.02 * median(boxes.area))
    kept = boxes.select(boxes.area >= floor) if (boxes.area >= floor).any() else boxes
    x0, y0, x1, y1 = kept.bounds()
    return (
        max(0, x0 - margin),
        max(0, y0 - margin),
        min(int(shape[1]), x1 + margin),
        min(int(shape[0]), y1 + margin),
    )


def resize_pad(
    gray: Gray,
    max_height: int,
    max_width: int,
    pad_multiple: int = 1,
    upscale: bool = False,
    fill: int = 255,
) -> Gray:
    """Scale to fit within (max_height, max_width) keeping the aspect ratio, then pad the right
    and bottom with ``fill`` to multiples of ``pad_multiple``."""
    h, w = gray.shape[:2]
    scale = min(max_height / h, max_width / w)
    if scale < 1.0 or (upscale and scale > 1.0):
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
        gray = np.asarray(cv2.resize(gray, size, interpolation=interp), dtype=np.uint8)
        h, w = gray.shape[:2]
    m = max(1, pad_multiple)
    pad_h, pad_w = (-h) % m, (-w) % m
    if pad_h or pad_w:
        gray = np.asarray(
            cv2.copyMakeBorder(gray, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=fill),
            dtype=np.uint8,
        )
    return gray


def downscale(gray: Gray, max_side: int) -> tuple[Gray, float]:
    """A copy no longer than ``max_side`` on its long side, and the scale used (<= 1)."""
    scale = min(1.0, max_side / max(gray.shape[:2]))
    if scale >= 1.0:
        return gray, 1.0
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), dtype=np.uint8), scale
