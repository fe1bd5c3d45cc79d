"""Detect: one formula is one math region; a page with text and formulas is split into lines and
prose/math regions; the packaged text OCR reads offline."""

from __future__ import annotations

import socket
from collections.abc import Sequence

import numpy as np
import pytest

from imaging.drawing import formula, stack, text_line
from scipix.imaging.components import find_components
from scipix.imaging.enhance import ink_mask
from scipix.imaging.layout import Line
from scipix.pipeline.detect import detect_layout
from scipix.pipeline.job import Word
from scipix.pipeline.prose import prose_flags, prose_runs, read_lines
from scipix.recognition.text import TextLine, TextRecognizer


def words(*texts: str) -> list[Word]:
    return [Word(t, 0.99, (i * 100, 0, i * 100 + 80, 30)) for i, t in enumerate(texts)]


def test_prose_words_and_math_words() -> None:
    flags = prose_flags(words("Let", "x", "be", "a", "real", "number", "with", "x²", "=", "4"))
    assert flags == [True, False, True, True, True, True, True, False, False, False]
    assert prose_flags(words("sin", "x", "+", "cos", "y")) == [False] * 5
    assert prose_flags(words("α", "β")) == [False, False]
    # the OCR's reading of f(x) = \sin x + \cos x: a function glued to its argument is math...
    assert prose_flags(words("f(x)=", "sinx", "+cosx")) == [False, False, False]
    assert prose_flags(words("sinx")) == [False]
    # ...unless it stands among prose words
    assert prose_flags(words("the", "cost", "of", "it")) == [True, True, True, True]


def test_prose_runs_need_two_words_or_a_long_one() -> None:
    runs = prose_runs(words("Let", "x", "be", "a", "real", "number", "with", "x²", "=", "4"))
    assert [[w.text for w in r] for r in runs] == [["Let"], ["be", "a", "real", "number", "with"]]
    assert prose_runs(words("ab", "+", "1")) == []


def test_a_formula_crop_is_one_math_region_and_needs_no_text_ocr() -> None:
    gray = formula(r"\sum_{n=1}^{\infty} \frac{1}{n^2} = \frac{\pi^2}{6}")

    def no_ocr(*_: object) -> list[TextLine]:
        raise AssertionError("the text OCR must not run for a formula crop")

    layout = detect_layout(find_components(ink_mask(gray)), no_ocr)
    assert layout.single_formula
    assert len(layout.regions) == 1 and layout.regions[0].kind == "math"


def test_the_layout_carries_the_components_of_each_line() -> None:
    page = stack([formula(r"\frac{x}{2}=1"), formula(r"\int_0^1 f(x)\,dx")], gap=40)
    boxes = find_components(ink_mask(page))
    layout = detect_layout(boxes)
    assert layout.ink.boxes is boxes and len(layout.ink.lines) == len(layout.lines) == 2
    for members, line in zip(layout.lines, layout.ink.lines, strict=True):
        (region,) = (layout.regions[i] for i in members)
        assert region.box == line.box == boxes.select(line.members).bounds()


@pytest.fixture(scope="module")
def reader() -> TextRecognizer:
    return TextRecognizer(threads=1)


@pytest.fixture(scope="module")
def mixed_page() -> np.ndarray:
    return stack(
        [
            text_line("Solve the following equations."),
            formula(r"x^2 + y^2 = 9"),
            formula(r"\frac{a+b}{c} = 1"),
        ],
        gap=40,
    )


def test_text_ocr_reads_offline(reader: TextRecognizer, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the text OCR tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    lines = reader.read(text_line("Perform the indicated operation and simplify."))
    assert len(lines) == 1
    assert lines[0].text == "Perform the indicated operation and simplify."
    assert [w.text for w in lines[0].words][:3] == ["Perform", "the", "indicated"]


def test_mixed_page_splits_into_a_text_line_and_two_math_lines(
    reader: TextRecognizer, mixed_page: np.ndarray
) -> None:
    boxes = find_components(ink_mask(mixed_page))
    asked: list[list[int]] = []

    def read(lines: Sequence[Line], chosen: Sequence[int]) -> list[TextLine]:
        asked.append(list(chosen))
        return read_lines(reader, mixed_page, boxes, lines, chosen)

    layout = detect_layout(boxes, read)
    assert asked == [[0]]  # one call, for the text line only
    assert len(layout.lines) == 3
    kinds = [[layout.regions[i].kind for i in line] for line in layout.lines]
    assert kinds == [["text"], ["math"], ["math"]]
    assert layout.regions[0].text == "Solve the following equations."
    boxes = [layout.regions[line[0]].box for line in layout.lines]
    assert boxes[0][3] <= boxes[1][1] and boxes[1][3] <= boxes[2][1]
