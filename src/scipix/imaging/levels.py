"""Order statistics of gray levels from their histogram: the same floats as numpy's.

``np.percentile`` and ``np.median`` cost tens of microseconds per call in Python overhead, a
large share of a small formula's pre-processing (issue 19). For ``uint8`` values the sorted
array is known from the 256 counts, so :class:`Levels` picks the neighbours numpy would pick
and interpolates them with numpy's own arithmetic ("linear" method, its ``_lerp``), giving
bit-identical results (``tests/imaging/test_levels.py`` checks them against numpy).
"""

from __future__ import annotations

from dataclasses import dataclass

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
