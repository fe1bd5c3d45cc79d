"""The shipped formula model reads real rendered formulas (TeX, two sizes and two fonts)."""

from __future__ import annotations

import numpy as np
import pytest

from scipix.errors import ImageNoContentError
from scipix.latex import NormalizeOptions, equivalent, normalize
from scipix.recognition import FormulaRecognizer
from scipix.training.render import TexRenderer, tex_available

pytestmark = [
    pytest.mark.slow,
    pytest.mark.tex,
    pytest.mark.skipif(not tex_available(), reason="needs TeX Live (scripts/setup.sh installs it)"),
]

FORMULAS = [
    r"x^{2}+y^{2}=z^{2}",
    r"\frac{a}{b}",
    r"\sqrt{2}",
    r"\sum_{i=1}^{n} i",
    r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
    r"E=mc^{2}",
    r"\alpha+\beta",
    r"f(x)=x+1",
]
LABELS = NormalizeOptions.for_labels()
#: (font, dpi): Computer Modern at two sizes and a Times-like font
RENDERS = (("cm", 100), ("cm", 180), ("mathptmx", 120))


@pytest.fixture(scope="module")
def recognizer() -> FormulaRecognizer:
    return FormulaRecognizer.load()


@pytest.fixture(scope="module")
def renders() -> dict[tuple[str, int], np.ndarray]:
    found = {}
    for font, dpi in RENDERS:
        outcomes = TexRenderer(font).render(FORMULAS, dpi=dpi)
        for formula, outcome in zip(FORMULAS, outcomes, strict=True):
            assert outcome.image is not None, outcome.error
            found[(formula, dpi)] = outcome.image
    return found


def same(predicted: str, expected: str) -> bool:
    if normalize(predicted, LABELS) == normalize(expected, LABELS):
        return True
    return equivalent(predicted, expected).level == "exact"


#: the shipped model (val BLEU 0.76) does not yet read a small 2x2 pmatrix; strict, so the day it
#: does, this marker has to go
MATRIX_GAP = pytest.mark.xfail(strict=True, reason="model gap: 2x2 pmatrix not read yet (MODEL.md)")


@pytest.mark.parametrize(
    "formula",
    [pytest.param(f, marks=MATRIX_GAP) if "pmatrix" in f else f for f in FORMULAS],
)
def test_reads_each_formula_in_most_renders(
    recognizer: FormulaRecognizer, renders: dict[tuple[str, int], np.ndarray], formula: str
) -> None:
    results = recognizer.recognize([renders[(formula, dpi)] for _, dpi in RENDERS])
    right = [same(r.latex, formula) and r.valid for r in results]
    assert sum(right) >= 2, [r.latex for r in results]


def test_reads_larger_renders_and_another_font(
    recognizer: FormulaRecognizer, renders: dict[tuple[str, int], np.ndarray]
) -> None:
    images = [renders[(f, dpi)] for dpi in (180, 120) for f in FORMULAS]
    results = recognizer.recognize(images)
    right = [same(r.latex, f) for r, f in zip(results, FORMULAS * 2, strict=True)]
    assert sum(right) >= 0.75 * len(right), [r.latex for r in results]


def test_noise_is_less_confident_than_formulas(
    recognizer: FormulaRecognizer, renders: dict[tuple[str, int], np.ndarray]
) -> None:
    rng = np.random.default_rng(0)
    noise = [
        np.where(rng.random((60, 240)) < 0.08, 0, 255).astype(np.uint8),
        (rng.random((80, 300)) * 255).astype(np.uint8),
    ]
    clean = recognizer.recognize([renders[(f, 100)] for f in FORMULAS])
    noisy = recognizer.recognize(noise)
    assert max(r.confidence for r in noisy) < np.median([r.confidence for r in clean])


def test_blank_image_has_no_content(recognizer: FormulaRecognizer) -> None:
    with pytest.raises(ImageNoContentError):
        recognizer.recognize([np.full((64, 256), 255, np.uint8)])


def test_n_best_alternatives_are_distinct(
    recognizer: FormulaRecognizer, renders: dict[tuple[str, int], np.ndarray]
) -> None:
    [result] = recognizer.recognize([renders[(FORMULAS[0], 100)]], beam_width=4, n_best=3)
    assert len(result.hypotheses) == 3
    assert len({h.tokens for h in result.hypotheses}) == 3
    assert result.hypotheses[0].score >= result.hypotheses[-1].score


def test_style_probe_calls_tex_renders_printed(
    recognizer: FormulaRecognizer, renders: dict[tuple[str, int], np.ndarray]
) -> None:
    results = recognizer.recognize(list(renders.values()))
    styles = [r.handwritten for r in results]
    assert all(s is not None and 0.0 < s < 1.0 for s in styles), styles
    printed = sum(s < 0.5 for s in styles if s is not None)
    assert printed >= 0.75 * len(styles), styles


def test_service_reports_a_tex_render_as_printed(
    renders: dict[tuple[str, int], np.ndarray],
) -> None:
    from scipix.service import Scipix
    from scipix.settings import Settings

    settings = Settings()
    settings.ocr.text_ocr = False
    service = Scipix(settings)
    results = [service.recognize(renders[(f, 180)]) for f in FORMULAS]
    assert sum(r.is_printed and not r.is_handwritten for r in results) >= 6, [
        (r.latex_styled, r.is_printed) for r in results
    ]


def test_upright_formulas_stay_upright_and_straight(
    renders: dict[tuple[str, int], np.ndarray],
) -> None:
    """Glyph geometry is weak evidence on short formulas (a fraction is taller than wide, a
    matrix's rows look like lines, a superscript breaks the baseline): the pipeline must not
    turn or deskew clean upright renders, and the recognizer checks any turn it does make."""
    from scipix.service import Scipix
    from scipix.settings import Settings

    settings = Settings()
    settings.ocr.text_ocr = False
    service = Scipix(settings)
    images = list(renders.values())
    turned = [service.recognize(im).auto_rotate_degrees for im in images]
    assert turned.count(0) == len(images), turned
    skews = [service.preprocess(im).skew for im in images]
    assert sum(s == 0 for s in skews) >= 0.9 * len(images), skews


#: structure the model half-reads: unconstrained, the beam left braces, \left and environments
#: open in some of these renders (\frac{\partial^2 u}{\partial x^2} at 180 dpi: all 3 of its best)
STRUCTURED = [
    r"\frac{\partial^{2} u}{\partial x^{2}}",
    r"\sqrt[3]{\frac{x^{2}+1}{y}}",
    r"\left| \sum_{k=1}^{n} a_{k} \right|",
    r"\begin{cases} x & x>0 \\ -x & x<0 \end{cases}",
    r"f(x)=\left\{ \begin{array}{ll} 1 & x \geq 0 \\ 0 & x<0 \end{array} \right.",
]


def test_every_hypothesis_of_structured_renders_is_valid_latex(
    recognizer: FormulaRecognizer,
) -> None:
    images = []
    for font, dpi in RENDERS:
        for outcome in TexRenderer(font).render(STRUCTURED, dpi=dpi):
            assert outcome.image is not None, outcome.error
            images.append(outcome.image)
    results = recognizer.recognize(images, n_best=3)
    invalid = [h.latex for r in results for h in r.hypotheses if not h.valid]
    assert invalid == []
    assert all(len(r.hypotheses) == 3 for r in results)


def test_a_batch_of_differently_sized_renders_reads_as_one_by_one(
    recognizer: FormulaRecognizer, renders: dict[tuple[str, int], np.ndarray]
) -> None:
    # padding an image to a wider neighbour's size changed its reading (E=mc^{2} -> E=m\alpha^{2})
    images = list(renders.values())
    together = recognizer.recognize(images)
    alone = [recognizer.recognize([image])[0] for image in images]
    assert [r.tokens for r in together] == [r.tokens for r in alone]
    scores = [r.best.score for r in alone]
    assert [r.best.score for r in together] == pytest.approx(scores, abs=1e-4)
