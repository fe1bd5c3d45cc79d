"""Order statistics without numpy's per-call overhead: the same floats as numpy's.

``np.percentile`` and ``np.median`` cost tens of microseconds per call in Python overhead, a
large share of a small formula's pre-processing (issue 19). For ``uint8`` values the sorted
array is known from the 256 counts, so :class:`Levels` picks the neighbours numpy would pick
and interpolates them with numpy's own arithmetic ("linear" method, its ``_lerp``), giving
bit-identical results (``tests/imaging/test_levels.py`` checks them against numpy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Levels:
    """The cumulative counts of some ``uint8`` values (``cumulative[v]``: how many are ≤ v)."""

    cumulative: NDArray[np.int64]

    @classmethod
    def of(cls, values: NDArray[np.uint8]) -> Levels:
        counts = np.bincount(values.ravel(), minlength=256)
        return cls(np.cumsum(counts))

    @property
    def count(self) -> int:
        return int(self.cumulative[-1])

    def at(self, k: int) -> int:
        """The ``k``-th smallest value (0-based)."""
        return int(np.searchsorted(self.cumulative, k, side="right"))

    def percentile(self, q: float) -> float:
        """``float(np.percentile(values, q))`` (values not empty)."""
        n = self.count
        virtual = (n - 1) * (q / 100)
        if virtual >= n - 1:
            return float(self.at(n - 1))
        previous = float(np.floor(virtual))
        gamma = virtual - previous
        a = self.at(int(previous))
        diff = self.at(int(previous) + 1) - a
        if gamma >= 0.5:
            return float(a + diff) - diff * (1 - gamma)
        return a + diff * gamma

    def median(self) -> float:
        """``float(np.median(values))`` (values not empty)."""
        n = self.count
        if n % 2:
            return float(self.at(n // 2))
        return (float(self.at(n // 2 - 1)) + float(self.at(n // 2))) / 2.0


def median_of(values: NDArray[Any]) -> float:
    """``float(np.median(values))`` of real values without NaN (the middle one, or the mean of
    the two middle ones in the values' own float type, as numpy's mean takes it)."""
    ordered = np.sort(values, axis=None)
    mid = ordered.shape[0] // 2
    if ordered.shape[0] % 2:
        return float(ordered[mid])
    if ordered.dtype.kind == "f":
        return float((ordered[mid - 1] + ordered[mid]) / 2)
    return (float(ordered[mid - 1]) + float(ordered[mid])) / 2.0


def percentile_of(values: NDArray[np.floating[Any]], q: float) -> np.floating[Any]:
    """``np.percentile(values, q)`` of float values without NaN, in their own type: the two
    neighbours by a partial sort, interpolated as numpy's ``_lerp`` does."""
    flat = values.ravel()
    n = flat.shape[0]
    virtual = (n - 1) * (q / 100)
    if virtual >= n - 1:
        return np.partition(flat, n - 1)[n - 1]  # type: ignore[no-any-return]
    k = int(np.floor(virtual))
    part = np.partition(flat, (k, k + 1))
    a, b = part[k], part[k + 1]
    gamma = virtual - k
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1 - gamma)  # type: ignore[no-any-return]
    return a + diff * gamma  # type: ignore[no-any-return]
