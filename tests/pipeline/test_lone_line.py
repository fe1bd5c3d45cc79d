"""A page's only line of one word: a heading ("Then", "Proof.") and a short formula
(``\\det A=ad-bc``) have the same shape, so the formula recognizer reads it first and the text OCR
only when that reading is weak, its words then kept as prose only when they look like words."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from imaging.drawing import formula, mixed_line, stack, text_line
from pipeline.scripted import CountingTextRecognizer
from scipix.imaging.components import find_components
from scipix.imaging.enhance import ink_mask
from scipix.imaging.layout import find_lines
from scipix.pipeline.prose import upright_word, word_like
from scipix.pipeline.triage import line_shape, page_line_kind
from scipix.schema import RecognizeOptions
from scipix.service import Scipix
from scipix.settings import Settings

LINE_DATA = RecognizeOptions(include_line_data=True)


@pytest.fixture(scope="module")
def reader() -> CountingTextRecognizer:
    return CountingTextRecognizer()


@pytest.fixture(scope="module")
def service(reader: CountingTextRecognizer) -> Iterator[Scipix]:
    settings = Settings()
    settings.memory.enabled = False
    settings.learning.enabled = False
    with Scipix(settings, text=reader) as sp:
        yield sp


def page_kinds(gray: object) -> list[str]:
    boxes = find_components(ink_mask(gray))  # type: ignore[arg-type]
    lines = find_lines(boxes)
    return [page_line_kind(line_shape(boxes.select(ln.members)), len(lines)) for ln in lines]


def test_a_lone_word_line_is_unsure_but_not_on_a_page() -> None:
    assert page_kinds(formula(r"\det A=ad-bc", dpi=120)) == ["unsure"]  # shaped like "Solution"
    assert page_kinds(mixed_line("Solution")) == ["unsure"]
    assert page_kinds(text_line("Proof.")) == ["unsure"]
    page = stack([text_line("Solution"), text_line("Find the area of the shaded region.")])
    assert page_kinds(page) == ["text", "text"]  # a heading on a page stays text
    assert page_kinds(formula(r"E=mc^{2}", dpi=120)) == ["math"]  # no word: a formula


def test_word_shapes() -> None:
    assert all(word_like(w) for w in ["Then", "Proof.", "have", "x-axis", "CASE", "Answer:"])
    assert not any(word_like(w) for w in ["detA", "bc", "xkcd", "abC", "3rd"])
    assert upright_word(r"\mathrm{Pemat}.") and upright_word(r"\text{ Solllth}")
    assert not upright_word(r"\mathrm{Tr}A") and not upright_word(r"\text{ of }x")


@pytest.mark.parametrize(
    ("image", "text"),
    [
        (mixed_line("Then", dpi=150), "Then"),
        (mixed_line("Proof.", dpi=150), "Proof."),
        (mixed_line("Solution", dpi=120), "Solution"),
        (text_line("Hence", size=16), "Hence"),
        (mixed_line("Remark.", dpi=150), "Remark."),  # read \mathrm{Pemat}. at 0.53
    ],
)
def test_a_heading_alone_is_read_as_prose(service: Scipix, image: object, text: str) -> None:
    result = service.recognize(image, LINE_DATA)  # type: ignore[arg-type]
    assert result.text == text
    assert [ld.type for ld in result.line_data or ()] == ["text"]


@pytest.mark.parametrize("dpi", [100, 120, 200])
def test_a_short_formula_alone_stays_a_formula(
    service: Scipix, reader: CountingTextRecognizer, dpi: int
) -> None:
    reader.shapes.clear()
    result = service.recognize(formula(r"\det A=ad-bc", dpi=dpi), LINE_DATA)
    assert result.text == r"\( \det A=ad-bc \)"
    assert len(reader.shapes) <= 1  # read by the text OCR only when weak, and kept as math


def test_a_formula_read_surely_never_loads_the_text_ocr() -> None:
    settings = Settings()
    settings.memory.enabled = False
    settings.learning.enabled = False
    with Scipix(settings) as sp:
        for tex in (r"E=mc^{2}", r"f(x)=\sin x+\cos x", r"\det A=ad-bc"):
            assert sp.recognize(formula(tex, dpi=200)).text == f"\\( {tex} \\)"
        assert sp._text is None  # the text OCR was never loaded
