"""The formula grammar: deterministic, well-formed, and steered by its weights."""

from __future__ import annotations

import pytest

from scipix.errors import LatexError
from scipix.latex import normalize
from scipix.training.generator import DEFAULT_SHAPES, DEFAULT_WEIGHTS, FormulaGenerator
from scipix.training.render import TexRenderer

from .conftest import needs_tex


def test_same_seed_same_formulas() -> None:
    assert FormulaGenerator().sample(50, seed=3) == FormulaGenerator().sample(50, seed=3)
    assert FormulaGenerator().sample(50, seed=3) != FormulaGenerator().sample(50, seed=4)


def test_generated_formulas_parse() -> None:
    formulas = FormulaGenerator().sample(400, seed=1)
    failures = []
    for latex in formulas:
        try:
            normalize(latex)
        except LatexError as exc:
            failures.append((latex, exc.message))
    assert not failures, failures[:3]
    assert all(len(f) <= 400 for f in formulas)


def test_every_construct_appears_with_default_weights() -> None:
    text = "\n".join(FormulaGenerator().sample(600, seed=2))
    for marker in (
        "\\frac",
        "\\sqrt",
        "\\begin{cases}",
        "\\begin{aligned}",
        "matrix}",
        "\\sum_",
        "\\int",
        "\\lim_",
        "\\hat{",
        "\\mathbf{",
        "\\left",
        "\\binom",
    ):
        assert marker in text, marker


def test_weights_steer_the_constructs() -> None:
    weights = {**DEFAULT_WEIGHTS, "matrix": 0.0, "array": 0.0}
    shapes = {**DEFAULT_SHAPES, "matrix_equation": 0.0}
    text = "\n".join(FormulaGenerator(weights, shapes).sample(400, seed=5))
    assert "matrix}" not in text and "\\begin{array}" not in text
    heavy = FormulaGenerator({**DEFAULT_WEIGHTS, "fraction": 50.0}).sample(200, seed=5)
    plain = FormulaGenerator().sample(200, seed=5)
    assert sum(f.count("\\frac") for f in heavy) > 2 * sum(f.count("\\frac") for f in plain)
    with pytest.raises(ValueError, match="unknown constructs"):
        FormulaGenerator({"tensor": 1.0})


@pytest.mark.tex
@needs_tex
def test_tex_compiles_generated_formulas() -> None:
    formulas = [normalize(f) for f in FormulaGenerator().sample(60, seed=7)]
    outcomes = TexRenderer("cm").render(formulas, dpi=100)
    failed = [(f, o.error) for f, o in zip(formulas, outcomes, strict=True) if o.image is None]
    assert len(failed) <= 1, failed
