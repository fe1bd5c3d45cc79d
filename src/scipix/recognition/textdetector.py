"""Where the text lines of an image are: the text OCR's detector (PP-OCR's DB model, shipped in
the rapidocr wheel), run on an ONNX Runtime session of ours.

The steps are rapidocr's (``ch_ppocr_det``): the image resized to multiples of 32 pixels and
normalized; on the model's probability map, pixels above ``THRESH`` dilated into regions; each
region's minimum-area rectangle, kept when the mean probability in it reaches ``BOX_THRESH``
and grown by ``UNCLIP`` times its area over its perimeter on every side (rapidocr offsets the
rectangle with pyclipper, whose result has this same minimum-area rectangle); rectangles ordered
top to bottom, then left to right within a row. They are written here rather than imported
because rapidocr's detector module loads its whole model catalogue first (a 1,593-line YAML
parsed by OmegaConf: ~0.5 CPU-s at the first use of the text OCR).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import onnxruntime as ort

#: A text line's corners: top-left, top-right, bottom-right, bottom-left (x, y).
Quad = npt.NDArray[np.float32]
Image = npt.NDArray[np.uint8]

#: The model's input is cut down to this longest side (never enlarged).
LIMIT_SIDE = 2000
THRESH = 0.3
BOX_THRESH = 0.5
UNCLIP = 1.6
MIN_SIZE = 3
MAX_CANDIDATES = 1000
#: Boxes whose tops are closer than this (pixels) are one row, ordered left to right.
ROW_TOLERANCE = 10


def corners(center: Sequence[float], size: Sequence[float], angle: float) -> Quad:
    """A rotated rectangle's corners as top-left, top-right, bottom-right, bottom-left."""
    points = np.asarray(cv2.boxPoints((tuple(center), tuple(size), angle)), dtype=np.float32)
    by_x = points[np.argsort(points[:, 0], kind="stable")]
    left = by_x[:2][np.argsort(by_x[:2, 1], kind="stable")]
    right = by_x[2:][np.argsort(by_x[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], dtype=np.float32)


def box_score(prob: npt.NDArray[np.float32], quad: Quad) -> float:
    """The mean probability inside ``quad``."""
    h, w = prob.shape
    x0 = int(np.clip(np.floor(quad[:, 0].min()), 0, w - 1))
    x1 = int(np.clip(np.ceil(quad[:, 0].max()), 0, w - 1))
    y0 = int(np.clip(np.floor(quad[:, 1].min()), 0, h - 1))
    y1 = int(np.clip(np.ceil(quad[:, 1].max()), 0, h - 1))
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
    cv2.fillPoly(mask, [(quad - [x0, y0]).astype(np.int32)], 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


def quads_from_map(prob: npt.NDArray[np.float32], width: int, height: int) -> list[Quad]:
    """The text boxes on a probability map, in the pixels of an image ``width`` x ``height``."""
    rows, cols = prob.shape
    mask = cv2.dilate((prob > THRESH).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    quads = []
    for contour in contours[:MAX_CANDIDATES]:
        center, (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < MIN_SIZE or box_score(prob, corners(center, (rw, rh), angle)) < BOX_THRESH:
            continue
        grow = rw * rh * UNCLIP / (2.0 * (rw + rh))
        size = (rw + 2 * grow, rh + 2 * grow)
        if min(size) < MIN_SIZE + 2:
            continue
        quad = corners(center, size, angle)
        quad[:, 0] = np.clip(np.round(quad[:, 0] / cols * width), 0, width - 1)
        quad[:, 1] = np.clip(np.round(quad[:, 1] / rows * height), 0, height - 1)
        if np.linalg.norm(quad[0] - quad[1]) > 3 and np.linalg.norm(quad[0] - quad[3]) > 3:
            quads.append(quad)
    return quads


def reading_order(quads: list[Quad]) -> list[Quad]:
    """Top to bottom (tops within ``ROW_TOLERANCE`` of the previous are one row), each row
    left to right."""
    if not quads:
        return []
    tops = np.array([q[0, 1] for q in quads])
    order = np.argsort(tops, kind="stable")
    rows = np.concatenate([[0], np.cumsum(np.diff(tops[order]) >= ROW_TOLERANCE)])
    lefts = np.array([quads[i][0, 0] for i in order])
    return [quads[order[i]] for i in np.lexsort((lefts, rows))]


class TextDetector:
    """The text lines of an RGB image, as quads in its pixels (thread-safe)."""

    def __init__(self, session: ort.InferenceSession) -> None:
        self.session = session
        self.input = session.get_inputs()[0].name

    def detect(self, rgb: Image) -> list[Quad]:
        h, w = rgb.shape[:2]
        ratio = min(1.0, LIMIT_SIDE / max(h, w))
        size_h = round(int(h * ratio) / 32) * 32
        size_w = round(int(w * ratio) / 32) * 32
        if size_h <= 0 or size_w <= 0:
            return []
        resized = cv2.resize(rgb, (size_w, size_h)).astype(np.float32)
        x = ((resized / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        prob = self.session.run(None, {self.input: x})[0][0, 0]
        return reading_order(quads_from_map(prob, w, h))
