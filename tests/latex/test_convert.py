"""AsciiMath and Mathpix Markdown output."""

from __future__ import annotations

import pytest

from scipix.latex import to_asciimath, to_mmd

ASCIIMATH = [
    ("x^2+\\frac{1}{2}", "x^2+1/2"),
    ("\\frac{a+b}{c}", "(a+b)/c"),
    ("x^{a+b}_{i}", "x_i^(a+b)"),
    ("\\sum_{i=1}^{n} i^2", "sum_(i=1)^n i^2"),
    ("\\sqrt{x} + \\sqrt[3]{y}", "sqrt(x)+root(3)(y)"),
    ("\\mathbb{R}^n", "RR^n"),
    ("\\mathbf{v}", "bb(v)"),
    ("\\hat{x} + \\vec{v}", "hat(x)+vec(v)"),
    ("a \\leq b \\neq c", "a<=b!=c"),
    ("x \\in A \\cup B", "x in A uu B"),
    ("\\alpha \\to \\infty", "alpha->oo"),
    ("\\left( x \\right)", "(x)"),
    ("\\left\\langle x \\right\\rangle", "(:x:)"),
    ("\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}", "((a,b),(c,d))"),
    ("\\begin{bmatrix} 1 \\\\ 2 \\end{bmatrix}", "[(1),(2)]"),
    ("\\begin{cases} x & x>0 \\\\ 0 & \\text{else} \\end{cases}", '{(x,x>0),(0,"else"):}'),
    ("\\text{if } x", '"if " x'),
    ("\\binom{n}{k}", "((n),(k))"),
    ("f'(x)", "f'(x)"),
    ("\\sin^2 x", "sin^2 x"),
    ("3.14 \\times 10^{-3}", "3.14 xx 10^(-3)"),
    ("\\operatorname{rank} A", '"rank" A'),
    ("a \\, b", "a b"),
]


@pytest.mark.parametrize(("src", "expected"), ASCIIMATH)
def test_asciimath(src: str, expected: str) -> None:
    assert to_asciimath(src) == expected


def test_every_sample_formula_converts_to_asciimath(corpus_sample: list[str]) -> None:
    for formula in corpus_sample:
        assert isinstance(to_asciimath(formula), str)


def test_mmd_delimiters_are_configurable() -> None:
    assert to_mmd("x^2") == "\\( x^{2} \\)"  # Mathpix's spacing (MATHPIX_API.md T1, T5)
    assert to_mmd("x^2", display=True) == "\\[\nx^{2}\n\\]"
    assert to_mmd("x", inline_delimiters=("$", "$")) == "$x$"
    assert to_mmd("x", display=True, display_delimiters=("$$", "$$")) == "$$\nx\n$$"
