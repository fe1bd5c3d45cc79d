"""The renderers: tight crops, matched scale, and bad formulas skipped without harming a batch."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from scipix.training.mathtext import MATHTEXT_FONTS, MathtextRenderer
from scipix.training.render import (
    DEFAULT_MARGIN,
    TexRenderer,
    available_tex_fonts,
    crop_to_ink,
    run_process,
    unsafe_reason,
)

from .conftest import FORMULAS, MATRIX_FORMULAS, needs_matplotlib, needs_pdftex, needs_tex


def assert_tightly_cropped(image: np.ndarray, margin: int = DEFAULT_MARGIN) -> None:
    assert image.dtype == np.uint8 and image.ndim == 2
    ink = image < 128
    assert ink.sum() > 20, "no ink"
    assert image[:margin].min() == 255 and image[-margin:].min() == 255
    assert image[:, :margin].min() == 255 and image[:, -margin:].min() == 255
    faint = image < 250  # the crop keeps every visible pixel, and nothing more
    assert faint[margin].any() and faint[-margin - 1].any()
    assert faint[:, margin].any() and faint[:, -margin - 1].any()


@pytest.mark.tex
@needs_tex
@pytest.mark.parametrize("engine", ["dvi", pytest.param("pdf", marks=needs_pdftex)])
def test_tex_renders_every_formula_tightly_cropped(engine: str) -> None:
    outcomes = TexRenderer("cm", engine=engine).render(FORMULAS + MATRIX_FORMULAS, dpi=100)  # type: ignore[arg-type]
    for formula, outcome in zip(FORMULAS + MATRIX_FORMULAS, outcomes, strict=True):
        assert outcome.error is None, (formula, outcome.error)
        assert outcome.image is not None
        assert_tightly_cropped(outcome.image)


@pytest.mark.tex
@needs_tex
def test_tex_scale_matches_im2latex_and_follows_dpi() -> None:
    """A capital letter is ~10 px high at 100 dpi (im2latex's scale) and scales with dpi."""
    heights = {}
    for dpi in (60, 100, 140):
        [outcome] = TexRenderer("cm").render(["E"], dpi=dpi)
        assert outcome.image is not None
        heights[dpi] = outcome.image.shape[0] - 2 * DEFAULT_MARGIN
    assert 9 <= heights[100] <= 11
    assert heights[60] < heights[100] < heights[140]


@pytest.mark.tex
@needs_tex
def test_several_tex_fonts_are_usable_and_differ() -> None:
    fonts = available_tex_fonts()
    assert "cm" in fonts and len(fonts) >= 4
    images = [TexRenderer(f).render([r"\alpha+\Gamma(x)"])[0].image for f in fonts[:4]]
    assert all(image is not None for image in images)
    shapes = {image.shape for image in images if image is not None}
    assert len(shapes) > 1, "four fonts rendered identically"


@pytest.mark.tex
@needs_tex
def test_bad_formulas_are_skipped_and_never_poison_their_batch() -> None:
    bad = {
        1: r"\undefinedcommand x",
        3: r"\frac{a}{b",
        5: r"a}b",
        7: r"\input{/etc/passwd}",
        9: r"x \\ y",
        11: r"\iffalse",  # TeX skips the rest of the document: the run dies, is resumed
    }
    formulas = [bad.get(i, FORMULAS[i % len(FORMULAS)]) for i in range(14)]
    started = time.perf_counter()
    outcomes = TexRenderer("cm").render(formulas, dpi=100)
    assert time.perf_counter() - started < 60
    for i, outcome in enumerate(outcomes):
        if i in bad:
            assert outcome.image is None and outcome.error, (formulas[i], outcome)
        else:
            assert outcome.error is None, (formulas[i], outcome.error)
            assert outcome.image is not None
    alone = TexRenderer("cm").render([FORMULAS[2]], dpi=100)[0].image
    assert alone is not None and outcomes[2].image is not None
    assert np.array_equal(alone, outcomes[2].image), "a neighbour changed a good rendering"


@pytest.mark.tex
@needs_tex
def test_per_formula_dpi_in_one_batch() -> None:
    outcomes = TexRenderer("cm").render(["E", "E", "E"], dpi=[60, 100, 140])
    heights = [o.image.shape[0] for o in outcomes if o.image is not None]
    assert len(heights) == 3 and heights[0] < heights[1] < heights[2]


def test_a_process_past_its_time_limit_is_killed(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = run_process(["sleep", "30"], tmp_path, timeout_s=0.5)
    assert not result.finished
    assert time.perf_counter() - started < 5


def test_unsafe_commands_are_refused() -> None:
    for latex in (r"\input{x}", r"\def\a{b}", r"\write18{ls}", r"^^5cinput", r"\end{document}"):
        assert unsafe_reason(latex) is not None, latex
    for latex in (r"\left(x\right)", r"\begin{array}{c}x\end{array}", r"\leftarrow", r"\boxed{x}"):
        assert unsafe_reason(latex) is None, latex


def test_crop_to_ink_keeps_a_margin_and_refuses_blank() -> None:
    page = np.full((50, 80), 255, np.uint8)
    assert crop_to_ink(page) is None
    page[10:20, 30:35] = 0
    cropped = crop_to_ink(page, margin=3)
    assert cropped is not None and cropped.shape == (16, 11)


@needs_matplotlib
@pytest.mark.parametrize("font", MATHTEXT_FONTS)
def test_mathtext_renders_tightly_cropped(font: str) -> None:
    outcomes = MathtextRenderer(font).render(FORMULAS, dpi=100)
    for formula, outcome in zip(FORMULAS, outcomes, strict=True):
        assert outcome.error is None, (formula, outcome.error)
        assert outcome.image is not None
        assert_tightly_cropped(outcome.image)


@needs_matplotlib
def test_mathtext_refuses_what_it_cannot_draw_faithfully() -> None:
    outcomes = MathtextRenderer("cm").render([*MATRIX_FORMULAS, r"\unknowncommand", "x"])
    assert [o.image is None for o in outcomes] == [True, True, True, False]
    assert all(o.error for o in outcomes[:3])
