"""MathJax renders: real Node + mathjax-full + resvg, batched in one process."""

from __future__ import annotations

import numpy as np
import pytest

from scipix.training.mathjax import MathjaxRenderer, mathjax_available
from scipix.training.plan import BatchJob, render_job

pytestmark = pytest.mark.skipif(
    not mathjax_available(), reason="MathJax not installed (npm ci --prefix tools/mathjax)"
)


def test_renders_a_batch_and_refuses_unknown_commands() -> None:
    formulas = [r"\frac{a}{b}", r"\foo x", r"\begin{Vmatrix}a&b\\c&d\end{Vmatrix}"]
    outcomes = MathjaxRenderer().render(formulas, [100, 100, 140])
    fraction, unknown, matrix = outcomes
    assert fraction.image is not None and fraction.image.dtype == np.uint8
    assert fraction.image.min() < 80 and fraction.image[0, 0] == 255  # dark ink, white margin
    assert unknown.image is None and "Undefined control sequence" in str(unknown.error)
    assert matrix.image is not None and matrix.image.shape[0] > fraction.image.shape[0] * 0.8


def test_scale_follows_dpi() -> None:
    small, large = MathjaxRenderer().render([r"x^{2}+y", r"x^{2}+y"], [80, 160])
    assert small.image is not None and large.image is not None
    assert 1.6 < large.image.shape[1] / small.image.shape[1] < 2.4


def test_cache_job_dispatches_to_mathjax() -> None:
    job = BatchJob("mathjax", "svg", "mathjax-tex", (("k1", r"\sqrt{x}", "generator", 120),))
    (result,) = render_job(job)
    assert result["renderer"] == "mathjax" and result["png"][:4] == b"\x89PNG"
