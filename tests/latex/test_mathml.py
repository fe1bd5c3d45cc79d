"""MathML: well-formed for every sample formula, MathML Core only, and stable golden output.

The golden file holds ~50 representative formulas with their MathML; it was checked by eye once
in Chromium. Regenerate it after an intended change with ``SCIPIX_REGENERATE_GOLDEN=1``.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scipix.latex import to_html, to_mathml

GOLDEN = Path(__file__).parent / "golden"
#: Read at import: the root conftest clears SCIPIX_* variables before each test runs.
REGENERATE = bool(os.environ.get("SCIPIX_REGENERATE_GOLDEN"))
NS = "{http://www.w3.org/1998/Math/MathML}"
#: Elements of MathML Core (https://www.w3.org/TR/mathml-core/).
CORE = {
    "math", "semantics", "annotation", "annotation-xml", "mrow", "mi", "mn", "mo", "mtext",
    "mspace", "ms", "merror", "mfrac", "msqrt", "mroot", "mstyle", "mpadded", "mphantom",
    "msub", "msup", "msubsup", "munder", "mover", "munderover", "mmultiscripts", "mprescripts",
    "none", "mtable", "mtr", "mtd",
}  # fmt: skip


def golden_formulas() -> list[str]:
    return (GOLDEN / "mathml_formulas.txt").read_text(encoding="utf-8").splitlines()


def test_every_sample_formula_gives_well_formed_mathml_core(corpus_sample: list[str]) -> None:
    for formula in corpus_sample:
        for display in (False, True):
            root = ET.fromstring(to_mathml(formula, display=display))
            assert root.tag == f"{NS}math"
            assert root.get("display") == ("block" if display else None)
            tags = {element.tag.removeprefix(NS) for element in root.iter()}
            assert tags <= CORE, (formula, tags - CORE)


def test_the_annotation_is_the_canonical_latex() -> None:
    root = ET.fromstring(to_mathml("x^2 \\le \\frac12"))
    annotation = root.find(f"{NS}semantics/{NS}annotation")
    assert annotation is not None
    assert annotation.get("encoding") == "application/x-tex"
    assert annotation.text == "x^{2}\\leq\\frac{1}{2}"


def test_golden_mathml() -> None:
    path = GOLDEN / "mathml.jsonl"
    actual = [
        {"latex": formula, "mathml": to_mathml(formula, display=True)}
        for formula in golden_formulas()
    ]
    if REGENERATE:
        lines = [json.dumps(row, ensure_ascii=False) for row in actual]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(expected) >= 50
    for want, got in zip(expected, actual, strict=True):
        assert got == want


@pytest.mark.parametrize(
    ("src", "fragment"),
    [
        ("x^2", "<msup><mi>x</mi><mn>2</mn></msup>"),
        ("3.14", "<mn>3.14</mn>"),
        ("\\frac{a}{b}", "<mfrac><mi>a</mi><mi>b</mi></mfrac>"),
        ("\\sqrt[3]{x}", "<mroot><mi>x</mi><mn>3</mn></mroot>"),
        ("\\mathbb{R}", "<mi>ℝ</mi>"),
        ("\\mathbf{x}", "<mi>𝐱</mi>"),
        ("\\mathrm{d}", '<mi mathvariant="normal">d</mi>'),
        ("\\mathrm{CH}", "<mi>CH</mi>"),
        ("\\Gamma", '<mi mathvariant="normal">Γ</mi>'),
        ("\\sum_{i}^{n}", '<munderover><mo movablelimits="true">∑</mo>'),
        ("\\int_0^1", "<msubsup><mo>∫</mo>"),
        ("\\lim_{x}", '<munder><mo movablelimits="true" form="prefix">lim</mo>'),
        ("\\sin x", '<mi>sin</mi><mo lspace="0" rspace="0.1667em">\u2061</mo><mi>x</mi>'),
        ("f'", "<msup><mi>f</mi><mo>′</mo></msup>"),
        ("a<b", "<mo>&lt;</mo>"),
        ("\\text{a b}", "<mtext>a\u00a0b</mtext>"),
        ("\\not=", "<mo>≠</mo>"),
        ("\\hat{x}", '<mover accent="true"><mi>x</mi><mo stretchy="false">ˆ</mo></mover>'),
        ("\\binom{n}{k}", '<mfrac linethickness="0"><mi>n</mi><mi>k</mi></mfrac>'),
        ("\\foo", "<merror><mtext>\\foo</mtext></merror>"),
    ],
)
def test_fragments(src: str, fragment: str) -> None:
    assert fragment in to_mathml(src)


def test_environments_become_tables_with_fences() -> None:
    mathml = to_mathml("\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}")
    assert mathml.count("<mtr>") == 2 and mathml.count("<mtd>") == 4
    assert 'form="prefix">(</mo><mtable>' in mathml
    cases = to_mathml("\\begin{cases} 1 & x \\\\ 0 & y \\end{cases}")
    assert '<mtd style="text-align:left">' in cases


def test_html_wraps_the_mathml() -> None:
    assert to_html("x").startswith('<span class="math-inline"><math ')
    assert to_html("x", display=True).startswith('<div class="math-display"><math ')
    assert to_html("x", display=True).endswith("</math></div>")


def test_colors_cannot_inject_markup() -> None:
    mathml = to_mathml('\\textcolor{red"onclick}{x}')
    ET.fromstring(mathml)
    assert "onclick" not in mathml.split("<annotation")[0]
