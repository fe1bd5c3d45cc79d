"""Order statistics from the histogram equal numpy's, bit for bit (issue 19)."""

from __future__ import annotations

import numpy as np

from scipix.imaging.levels import Levels, median_of, percentile_of

QS = (0, 1, 5, 10, 25, 50, 60, 90, 95, 99, 99.9, 100)


def test_percentiles_and_medians_are_numpys() -> None:
    rng = np.random.default_rng(7)
    for trial in range(600):
        n = int(rng.integers(1, 3000)) if trial % 3 else int(rng.integers(1, 12))
        low = int(rng.integers(0, 255))
        values = rng.integers(low, 256, n).astype(np.uint8)
        levels = Levels.of(values)
        assert levels.median() == float(np.median(values))
        for q in QS:
            assert levels.percentile(q) == float(np.percentile(values, q)), (n, q)
        pair = np.percentile(values, [95, 5])
        assert levels.percentile(95) - levels.percentile(5) == float(pair[0] - pair[1])


def test_float_percentiles_and_medians_are_numpys() -> None:
    rng = np.random.default_rng(8)
    for trial in range(300):
        n = int(rng.integers(1, 2000)) if trial % 3 else int(rng.integers(1, 10))
        for dtype in (np.float32, np.float64):
            values = (rng.standard_normal(n) * rng.uniform(0.1, 500)).astype(dtype)
            if trial % 4 == 0:
                values = np.round(values).astype(dtype)  # ties
            assert median_of(values) == float(np.median(values))
            for q in QS:
                mine, numpys = percentile_of(values, q), np.percentile(values, q)
                assert mine == numpys and mine.dtype == numpys.dtype, (n, q, dtype)
        counts = rng.integers(0, 300, n).astype(np.int32)
        assert median_of(counts) == float(np.median(counts))
