"""``scipix bench``: how fast this machine recognizes formulas, measured the way users call it.

The images it times are shipped here (``images/``, rendered by ``scripts/bench_images.py``);
``benchmarks/`` keeps the heavier studies (accuracy, servers, clusters).
"""

from __future__ import annotations

from scipix.bench.measure import BenchConfig, bench_images, packaged_images, run_bench

__all__ = ["BenchConfig", "bench_images", "packaged_images", "run_bench"]
