"""End to end on rendered images with the packaged model: a clean formula, the same turned 90°
and 180°, a skewed and blurred photo-like copy, and a page with a text line and two formulas.

These run once ``src/scipix/weights/`` holds a model; until then they are skipped (and say so).
"""

from __future__ import annotations

import difflib

import numpy as np
import pytest

from imaging.drawing import formula, photo_like, stack, text_line
from scipix.latex import model_tokens, normalize
from scipix.recognition.recognizer import packaged_model_dir
from scipix.schema import DataOptions, RecognizeOptions
from scipix.service import Scipix
from scipix.settings import Settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (packaged_model_dir() / "encoder.onnx").is_file(),
        reason="no packaged formula model in src/scipix/weights/ yet (encoder.onnx, decoder.onnx)",
    ),
]

CLEAN = r"a^{2}+b^{2}=c^{2}"
OTHER = r"\frac{x+1}{y}=2"
OPTIONS = RecognizeOptions(
    formats=("text", "latex_styled"),
    data_options=DataOptions(include_latex=True),
    include_line_data=True,
)


def similarity(got: str, want: str) -> float:
    """Token-level similarity of two LaTeX strings after normalization (1.0 = identical)."""
    a, b = model_tokens(normalize(got)), model_tokens(normalize(want))
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio()


@pytest.fixture(scope="module")
def service() -> Scipix:
    return Scipix(Settings())


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    return formula(CLEAN, dpi=200)


def test_clean_formula(service: Scipix, clean: np.ndarray) -> None:
    result = service.recognize(clean, OPTIONS)
    assert result.latex_styled is not None
    assert normalize(result.latex_styled) == normalize(CLEAN)
    assert result.text == f"\\( {result.latex_styled} \\)"
    assert result.confidence is not None and 0.0 < result.confidence <= 1.0
    assert result.is_printed and result.auto_rotate_degrees == 0
    assert result.image_width == clean.shape[1] and result.line_data and len(result.line_data) == 1


@pytest.mark.parametrize(("turns", "degrees"), [(1, -90), (3, 90), (2, 180)])
def test_turned_formula_reads_like_the_upright_one(
    service: Scipix, clean: np.ndarray, turns: int, degrees: int
) -> None:
    turned = np.ascontiguousarray(np.rot90(clean, turns))
    result = service.recognize(turned, OPTIONS)
    assert result.auto_rotate_degrees == degrees
    assert result.latex_styled is not None
    assert normalize(result.latex_styled) == normalize(CLEAN)
    assert (result.image_width, result.image_height) == (turned.shape[1], turned.shape[0])


def test_skewed_blurred_photo(service: Scipix) -> None:
    photo = photo_like(formula(CLEAN, dpi=240), angle=5.0, blur=1.3, seed=3)
    result = service.recognize(photo, OPTIONS)
    assert result.latex_styled is not None
    assert similarity(result.latex_styled, CLEAN) >= 0.8, result.latex_styled


def test_page_with_a_text_line_and_two_formulas(service: Scipix) -> None:
    page = stack(
        [text_line("Solve the following equations."), formula(CLEAN), formula(OTHER)], gap=40
    )
    result = service.recognize(page, OPTIONS)
    assert result.latex_styled is None  # not a single equation
    assert result.text is not None
    lines = result.text.split("\n")
    assert lines[0] == "Solve the following equations."
    assert lines[1::3] == ["\\[", "\\["] and lines[3::3] == ["\\]", "\\]"] and len(lines) == 7
    assert similarity(lines[2], CLEAN) >= 0.8, lines[2]
    assert similarity(lines[5], OTHER) >= 0.7, lines[5]
    assert result.line_data is not None
    assert [ld.type for ld in result.line_data] == ["text", "math", "math"]
    assert [d.type for d in result.data or ()] == ["latex", "latex"]
    tops = [min(y for _, y in ld.cnt) for ld in result.line_data]
    assert tops == sorted(tops)


@pytest.mark.tex
@pytest.mark.parametrize("turns", [1, 3])
def test_a_turned_tex_formula_with_a_fraction_and_limits_is_turned_back(
    service: Scipix, turns: int
) -> None:
    """Turned by a quarter, a fraction or an integral with limits looks like several short
    lines, so glyph geometry leaves it as it came; reading it both ways finds the turn."""
    from scipix.training.render import TexRenderer, tex_available

    if not tex_available():
        pytest.skip("needs TeX Live")
    latex = r"\int_{0}^{1}x^{2}\,dx=\frac{1}{3}"
    image = TexRenderer("cm").render([latex], dpi=200)[0].image
    assert image is not None
    upright = service.recognize(np.pad(image, 16, constant_values=255), OPTIONS)
    turned = np.ascontiguousarray(np.rot90(np.pad(image, 16, constant_values=255), turns))
    result = service.recognize(turned, OPTIONS)
    assert result.auto_rotate_degrees == (-90 if turns == 1 else 90)
    assert upright.auto_rotate_degrees == 0
    assert result.latex_styled == upright.latex_styled
