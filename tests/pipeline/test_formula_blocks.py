"""Formula blocks: a formula that spans several rows of ink (limits, ``cases`` with text, a
matrix, ``aligned``) is one math block that never goes to the text OCR, while a page of prose
keeps its lines and two formulas with a line of prose between them stay apart."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from imaging.drawing import formula, stack, text_line
from scipix.imaging.components import find_components
from scipix.imaging.enhance import ink_mask
from scipix.imaging.layout import Line
from scipix.pipeline.detect import detect_layout
from scipix.pipeline.job import Layout
from scipix.recognition.text import TextLine
from scipix.training.render import TexRenderer, tex_available

needs_tex = pytest.mark.skipif(not tex_available(), reason="needs TeX Live (latex, dvipng)")

FORMULAS = {
    "sum with limits": r"\sum_{i=1}^{m}\sum_{j=1}^{n}a_{ij}",
    "lim": r"\lim_{x\to 0}\frac{\sin x}{x}=1",
    "cases with text": r"f(x)=\begin{cases}x^2&\text{if }x\ge 0\\-x&\text{otherwise}\end{cases}",
    "3x3 bmatrix": r"\begin{bmatrix}1&2&3\\4&5&6\\7&8&9\end{bmatrix}",
    "aligned": r"\begin{aligned}a&=b+c\\d&=e+f\end{aligned}",
}
#: (font, dpi): the sizes where the line-by-line layout cut these formulas (and prose lines
#: ran together: Palatino at 100 dpi).
STYLES = [("cm", 100), ("cm", 160), ("mathpazo", 100)]
PROSE = [
    r"The quick brown fox jumps over the lazy dog again.",
    r"Typing quietly, Judy gave up her sphinx puzzle quest.",
    r"Each line of this paragraph is short enough to fit.",
]


def page(body: str) -> str:
    """A 12 cm wide page of prose and displays (each ``\\par`` ends a line), as one formula."""
    return r"\mbox{\begin{minipage}{12cm}\parindent=0pt " + body + r"\end{minipage}}"


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, str, int], np.ndarray]:
    """Every formula and page in every style, rendered by TeX (one run per font)."""
    if not tex_available():
        pytest.skip("needs TeX Live (latex, dvipng)")
    items = dict(FORMULAS)
    items["prose"] = page("".join(p + r"\par " for p in PROSE))
    items["display, prose, display"] = page(
        r"\[\sum_{k=1}^{n}k=\frac{n(n+1)}{2}\]" + PROSE[0] + r"\[\int_0^1 x\,dx=\frac{1}{2}\]"
    )
    found = {}
    for font in sorted({f for f, _ in STYLES}):
        dpis = [d for f, d in STYLES if f == font]
        batch = [(name, dpi) for dpi in dpis for name in items]
        outcomes = TexRenderer(font, margin=12).render(
            [items[n] for n, _ in batch], [d for _, d in batch]
        )
        for (name, dpi), outcome in zip(batch, outcomes, strict=True):
            assert outcome.image is not None, outcome.error
            found[(name, font, dpi)] = outcome.image
    return found


def layout_without_ocr(gray: np.ndarray) -> Layout:
    """The Detect agent's layout; the test fails if any line would go to the text OCR."""

    def no_ocr(lines: Sequence[Line], chosen: Sequence[int]) -> list[TextLine]:
        raise AssertionError(f"lines {list(chosen)} of a formula went to the text OCR")

    return detect_layout(find_components(ink_mask(gray)), no_ocr)


def line_count(gray: np.ndarray) -> int:
    return len(detect_layout(find_components(ink_mask(gray))).lines)


@pytest.mark.tex
@needs_tex
@pytest.mark.parametrize(("font", "dpi"), STYLES)
@pytest.mark.parametrize("name", list(FORMULAS))
def test_a_rendered_formula_is_one_math_block(
    rendered: dict[tuple[str, str, int], np.ndarray], name: str, font: str, dpi: int
) -> None:
    layout = layout_without_ocr(rendered[(name, font, dpi)])
    assert layout.single_formula, f"{len(layout.lines)} lines, kinds {layout.kinds}"


@pytest.mark.parametrize("dpi", [100, 200])
def test_sums_with_limits_drawn_by_mathtext_are_one_math_block(dpi: int) -> None:
    layout = layout_without_ocr(formula(r"\sum_{i=1}^{m}\sum_{j=1}^{n}a_{ij}", dpi=dpi))
    assert layout.single_formula, f"{len(layout.lines)} lines"


@pytest.mark.tex
@needs_tex
@pytest.mark.parametrize(("font", "dpi"), STYLES)
def test_a_rendered_page_keeps_its_lines(
    rendered: dict[tuple[str, str, int], np.ndarray], font: str, dpi: int
) -> None:
    assert line_count(rendered[("prose", font, dpi)]) == 3
    assert line_count(rendered[("display, prose, display", font, dpi)]) == 3


def test_three_tightly_set_lines_of_prose_stay_three_lines() -> None:
    lines = [text_line(p, pad=2) for p in PROSE]
    assert line_count(stack(lines, gap=0)) == 3


def test_two_formulas_with_a_line_of_prose_between_stay_apart() -> None:
    parts = [
        formula(r"\sum_{i=1}^{n} i = \frac{n(n+1)}{2}", pad=2),
        text_line("Adding the first and the last terms gives", pad=2),
        formula(r"\int_0^1 x\,dx=\frac{1}{2}", pad=2),
    ]
    layout = detect_layout(find_components(ink_mask(stack(parts, gap=0))))
    assert len(layout.lines) == 3
    assert layout.kinds == ("math", "text", "math")
