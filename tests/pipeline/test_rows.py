"""Stacked formula blocks: their rows are found (and fractions, limits, cases are not cut into
rows), a block of rows is never handed to the text OCR, and reading it row by row wins only when
it reads clearly better."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.drawing import text_line
from scipix.imaging.components import find_components
from scipix.pipeline.agents import reads_better
from scipix.pipeline.rows import formula_rows, rows_reading, stacked
from scipix.pipeline.strategy import mean_rate
from scipix.recognition.reading import Hypothesis, Reading
from scipix.training.render import TexRenderer, tex_available

pytestmark = pytest.mark.tex

ALIGNED = r"\begin{aligned}a&=b+c\\d&=e+f\end{aligned}"
CASES = r"f(x)=\begin{cases}1&\text{if }x>0\\0&\text{otherwise}\end{cases}"


def rendered(latex: str, font: str = "cm", dpi: int = 160) -> np.ndarray:
    if not tex_available():
        pytest.skip("needs TeX Live")
    image = TexRenderer(font).render([latex], dpi=dpi)[0].image
    assert image is not None
    return image


def rows_of(image: np.ndarray) -> list[tuple[int, int, int, int]] | None:
    boxes = find_components(image < 128)
    return formula_rows(boxes, np.arange(len(boxes)))


@pytest.mark.parametrize("font", ["cm", "mathptmx"])
def test_aligned_gathered_and_a_bare_matrix_have_two_rows(font: str) -> None:
    for latex in (
        ALIGNED,
        r"\begin{gathered}x+y=1\\x-y=3\end{gathered}",
        r"\begin{matrix}a&b\\c&d\end{matrix}",
    ):
        image = rendered(latex, font)
        rows = rows_of(image)
        assert rows is not None and len(rows) == 2, latex
        (_, top, _, middle), (_, middle2, _, bottom) = rows
        assert middle == middle2 and top < middle < bottom


@pytest.mark.parametrize(
    "latex",
    [r"\frac{a+b}{c+d}", r"\sum_{i=1}^{n}a_{i}", CASES, r"x^{2}+y^{2}=1", r"\frac{\frac{1}{2}}{3}"],
)
def test_fractions_limits_cases_and_one_liners_are_not_rows(latex: str) -> None:
    assert rows_of(rendered(latex)) is None


def test_a_cases_block_is_stacked_and_a_prose_line_is_not() -> None:
    cases = find_components(rendered(CASES) < 128)
    assert stacked(cases, np.arange(len(cases)))
    prose = find_components(text_line("Let x be a positive real number.") < 128)
    assert not stacked(prose, np.arange(len(prose)))


def reading(latex: str, probs: tuple[float, ...]) -> Reading:
    tokens = tuple(latex.split())
    return Reading((Hypothesis(latex.replace(" ", ""), tokens, -0.1, probs, True),))


def test_rows_win_only_when_clearly_more_probable() -> None:
    whole = reading("a = \\frac { b + c } { c + f }", (0.8,) * 11)
    rows = [reading("a = b + c", (0.95,) * 5), reading("d = e + f", (0.9,) * 5)]
    assert reads_better(whole.confidence_rate, mean_rate(rows))
    assert not reads_better(reading("x", (0.95,)).confidence_rate, mean_rate(rows))
    joined = rows_reading(rows, whole)
    assert joined.latex == r"\begin{gathered}a=b+c\\d=e+f\end{gathered}"
    assert joined.tokens[0] == r"\begin{gathered}" and joined.tokens[-1] == r"\end{gathered}"
    assert len(joined.token_probs) == len(joined.tokens) and joined.valid


@pytest.mark.slow
def test_cases_with_words_is_one_formula_never_text_pieces() -> None:
    from scipix.service import Scipix

    result = Scipix().recognize(np.pad(rendered(CASES), 16, constant_values=255))
    assert result.latex_styled is not None, result.text  # one equation, no prose pieces
    assert result.latex_styled.startswith("f(x)=\\begin{cases}")
