"""Connected components of an ink mask and their grouping into bands (lines), vectorized."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from scipix.imaging.enhance import Mask

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Boxes:
    """Component bounding boxes as parallel arrays (x, y, w, h, box area), one per component."""

    x: IntArray
    y: IntArray
    w: IntArray
    h: IntArray
    area: IntArray

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def x1(self) -> IntArray:
        return self.x + self.w

    @property
    def y1(self) -> IntArray:
        return self.y + self.h

    def select(self, keep: NDArray[np.bool_] | IntArray) -> Boxes:
        return Boxes(self.x[keep], self.y[keep], self.w[keep], self.h[keep], self.area[keep])

    def transposed(self) -> Boxes:
        """The same boxes in the transposed image (x and y swapped)."""
        return Boxes(self.y, self.x, self.h, self.w, self.area)

    def turned(self, width: int, height: int) -> Boxes:
        """The same boxes in the ``width`` x ``height`` image turned 180°."""
        return Boxes(width - self.x1, height - self.y1, self.w, self.h, self.area)

    def bounds(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the union of all boxes."""
        return int(self.x.min()), int(self.y.min()), int(self.x1.max()), int(self.y1.max())


def find_components(mask: Mask, min_area: int = 3) -> Boxes:
    """Bounding boxes of the 8-connected ink blobs whose box covers at least ``min_area`` pixels.

    Boxes come from the blobs' outer contours (a blob inside another's hole is not listed),
    gathered with ``reduceat`` rather than a loop; ``area`` is the box area. This is about 20
    times faster than OpenCV's component statistics, which are computed for every pixel.
    """
    contours, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        empty = np.zeros(0, dtype=np.int64)
        return Boxes(empty, empty, empty, empty, empty)
    lengths = np.fromiter((len(c) for c in contours), dtype=np.int64, count=len(contours))
    points = np.concatenate(contours).reshape(-1, 2).astype(np.int64)
    offsets = np.cumsum(lengths) - lengths  # where each contour's points start
    x0 = np.minimum.reduceat(points[:, 0], offsets)
    y0 = np.minimum.reduceat(points[:, 1], offsets)
    w = np.maximum.reduceat(points[:, 0], offsets) - x0 + 1
    h = np.maximum.reduceat(points[:, 1], offsets) - y0 + 1
    keep = w * h >= min_area
    return Boxes(x0[keep], y0[keep], w[keep], h[keep], (w * h)[keep])


def group_intervals(start: IntArray, end: IntArray, gap: int = 0) -> IntArray:
    """A group label per interval [start, end): overlapping (or closer than ``gap``) ones merge.

    Labels are numbered in increasing ``start`` order.
    """
    n = start.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(start, kind="stable")
    s, e = start[order], end[order]
    reach = np.maximum.accumulate(e)
    breaks = np.empty(n, dtype=bool)
    breaks[0] = False
    breaks[1:] = s[1:] >= reach[:-1] + gap
    labels_sorted = np.cumsum(breaks)
    labels = np.empty(n, dtype=np.int64)
    labels[order] = labels_sorted
    return labels


def median(values: IntArray) -> float:
    """``np.median`` of some integers (the same float: the middle one, or the mean of the two
    middle ones, both exact in float64), without its per-call overhead."""
    ordered = np.sort(values).tolist()
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (float(ordered[mid - 1]) + float(ordered[mid])) / 2.0
