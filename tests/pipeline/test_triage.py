"""Triage: formulas are never sent to the text OCR first, text lines always are, whatever the
size of the print; a line of prose with inline formulas counts as text unless it stacks."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.drawing import formula, mixed_line, text_line
from scipix.imaging.components import Boxes, find_components
from scipix.imaging.enhance import ink_mask
from scipix.imaging.layout import find_lines
from scipix.pipeline.triage import LineKind, LineShape, line_shape

FORMULAS = [
    r"\frac{a+b}{c}=\sqrt{x}",
    r"\sum_{n=1}^{\infty}\frac{1}{n^2}=\frac{\pi^2}{6}",
    r"x^{2}+5x+6=0",
    r"e^{i\pi}+1=0",
    r"\int_0^1 f(x)\,dx",
    r"a_{n+1}=a_n+d",
    r"f(x)=\sin x+\cos x",
    r"\alpha+\beta=\gamma",
]
SENTENCES = [
    "Perform the indicated operation and simplify.",
    "Find the area of the shaded region.",
    "Show that the sequence converges.",
]


def kinds(gray: np.ndarray) -> list[LineKind]:
    boxes = find_components(ink_mask(gray))
    return [line_shape(boxes.select(line.members)).kind for line in find_lines(boxes)]


@pytest.mark.parametrize("dpi", [100, 200, 400])
def test_formulas_never_look_like_text(dpi: int) -> None:
    found = [kinds(formula(tex, dpi=dpi)) for tex in FORMULAS]
    assert all(len(k) == 1 for k in found)
    assert [k[0] for k in found] == [
        "math",
        "math",
        "unsure",
        "unsure",
        "math",
        "math",
        "unsure",
        "math",
    ]


@pytest.mark.parametrize("size", [16, 32, 64])
def test_text_lines_look_like_text(size: int) -> None:
    assert [kinds(text_line(s, size=size)) for s in SENTENCES] == [["text"]] * 3
    assert kinds(text_line("Proof.", size=size)) == ["math"]  # one short word: no prose to find


def test_prose_with_inline_math() -> None:
    assert kinds(mixed_line(r"Let $x^2+y^2=1$ be the unit circle")) == ["text"]
    assert kinds(mixed_line(r"where $n \geq 1$ is an integer")) == ["text"]
    assert kinds(mixed_line(r"Solve $\frac{a}{b}=c$ for $a$")) == ["unsure"]  # a fraction


def test_shape_statistics() -> None:
    boxes = find_components(ink_mask(text_line("Show that the sequence converges.")))
    shape = line_shape(boxes)
    assert shape.aligned > 0.85 and shape.stacked == 0.0 and shape.words >= 2
    fraction = line_shape(find_components(ink_mask(formula(r"\frac{a+b}{c+d}"))))
    assert fraction.stacked > 0.5
    empty = np.zeros(0, dtype=np.int64)
    assert line_shape(Boxes(empty, empty, empty, empty, empty)) == LineShape(0, 0.0, 0.0, 0, 0.0)
