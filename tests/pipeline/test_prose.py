"""The text OCR runs only where it can matter, once per line at most: never for a formula crop,
first (and alone) for a line of text, after the formula recognizer for an unsure line whose
reading is weak; on a page, once for all the text lines, on their band only."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.drawing import formula, mixed_line, stack, text_line
from pipeline.scripted import CountingTextRecognizer, ScriptedRecognizer
from scipix.recognition.text import TextRecognizer
from scipix.schema import RecognizeOptions
from scipix.service import Scipix
from scipix.settings import Settings

LINE_DATA = RecognizeOptions(include_line_data=True)


@pytest.fixture(scope="module")
def reader() -> CountingTextRecognizer:
    return CountingTextRecognizer()


def service(
    reader: CountingTextRecognizer, *script: tuple[str, float]
) -> tuple[Scipix, ScriptedRecognizer]:
    reader.shapes.clear()
    fake = ScriptedRecognizer(script)
    settings = Settings()
    settings.preprocessing.second_reading_below = 0.0  # these count reads: no second reading
    return Scipix(settings, recognizer=fake, text=reader), fake  # type: ignore[arg-type]


def test_a_formula_goes_straight_to_the_formula_recognizer(reader: CountingTextRecognizer) -> None:
    sp, fake = service(reader, ("x", 0.05))  # even a very weak reading
    result = sp.recognize(formula(r"\sum_{n=1}^{\infty}\frac{1}{n^2}=\frac{\pi^2}{6}"), LINE_DATA)
    assert result.text == "\\( x \\)" and fake.calls <= 2  # (2: the 180° check of a weak one)
    assert reader.shapes == []


def test_a_sure_reading_of_an_unsure_line_needs_no_text_ocr(
    reader: CountingTextRecognizer,
) -> None:
    sp, fake = service(reader, ("x^{2}+5x+6=0", 0.9))
    assert sp.recognize(formula(r"x^{2}+5x+6=0")).text == "\\( x^{2}+5x+6=0 \\)"
    assert reader.shapes == [] and fake.calls == 1


def test_a_text_line_is_read_by_the_text_ocr_alone(reader: CountingTextRecognizer) -> None:
    sp, fake = service(reader, ("x", 0.9))
    line = text_line("Perform the indicated operation and simplify.")
    result = sp.recognize(line, LINE_DATA)
    assert result.text == "Perform the indicated operation and simplify."
    assert [ld.type for ld in result.line_data or ()] == ["text"]
    assert fake.calls == 0 and len(reader.shapes) == 1


def test_prose_with_inline_math_is_read_once_by_each_recognizer(
    reader: CountingTextRecognizer,
) -> None:
    sp, fake = service(reader, ("x^{2}+y^{2}=1", 0.9))
    result = sp.recognize(mixed_line(r"Let $x^2+y^2=1$ be the unit circle"), LINE_DATA)
    assert result.text == "Let \\( x^{2}+y^{2}=1 \\) be the unit circle"
    assert [ld.type for ld in result.line_data or ()] == ["text", "math", "text"]
    assert len(reader.shapes) == 1 and fake.calls == 1  # only the formula's crop


def test_a_weak_reading_of_an_unsure_line_goes_to_the_text_ocr_once(
    reader: CountingTextRecognizer,
) -> None:
    sp, fake = service(reader, ("Solvefora", 0.2), (r"\frac{a}{b}=c", 0.9), ("a", 0.9))
    line = mixed_line(r"Solve $\frac{a}{b}=c$ for $a$")
    result = sp.recognize(line, LINE_DATA)
    assert len(reader.shapes) == 1  # the weak line, once
    assert result.text is not None and result.text.startswith("Solve \\( \\frac{a}{b}=c \\) for")
    assert fake.calls == 3  # the whole line, then its two math parts
    assert [ld.type for ld in result.line_data or ()][:3] == ["text", "math", "text"]


def test_a_page_is_read_once_on_the_band_of_its_text_lines(
    reader: CountingTextRecognizer,
) -> None:
    sp, fake = service(reader, ("x^{2}", 0.2), ("y+1", 0.2))  # weak, but shaped like math
    title = text_line("Solve the following equations.")
    page = stack([title, formula(r"\frac{x}{2}=1"), formula(r"\sqrt{y}+1=2")], gap=40)
    result = sp.recognize(page, LINE_DATA)
    assert result.text == "Solve the following equations.\n\\[\nx^{2}\n\\]\n\\[\ny+1\n\\]"
    assert fake.calls == 2 and len(reader.shapes) == 1
    assert reader.shapes[0][0] < title.shape[0] + 20  # the title's band, not the page


def test_formulas_only_page_needs_no_text_ocr(reader: CountingTextRecognizer) -> None:
    sp, fake = service(reader, ("x", 0.9))
    page = stack([formula(r"\frac{x}{2}=1"), formula(r"\int_0^1 f(x)\,dx")], gap=40)
    sp.recognize(page)
    assert reader.shapes == [] and fake.calls == 2


def test_text_ocr_reads_large_and_small_print_in_page_pixels(
    reader: CountingTextRecognizer,
) -> None:
    for size in (12, 96):
        gray = text_line("Find the area of the shaded region.", size=size)
        (line,) = TextRecognizer.read(reader, gray)
        assert line.text == "Find the area of the shaded region."
        x0, y0, x1, y1 = line.box
        h, w = gray.shape
        assert 0 <= x0 < 0.1 * w and 0.9 * w < x1 <= w + 2 and 0 <= y0 < y1 <= h + 2
        assert [wd.text for wd in line.words][:2] == ["Find", "the"]
        assert all(line.box[0] <= wd.box[0] < wd.box[2] <= line.box[2] + 2 for wd in line.words)
    blank = np.full((60, 400), 255, dtype=np.uint8)
    assert TextRecognizer.read(reader, blank) == []


def test_the_page_is_searched_for_ink_once(
    reader: CountingTextRecognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Detect's components and lines travel on the layout: the prose check (a weak reading of
    an unsure line) and the printed/handwritten estimate reuse them instead of searching the
    cleaned page's mask again."""
    import cv2

    from scipix.imaging import components

    searched: list[tuple[int, ...]] = []

    class CountingCv2:
        def __getattr__(self, name: str) -> object:
            return getattr(cv2, name)

        def findContours(self, image: np.ndarray, *args: int) -> object:  # noqa: N802
            searched.append(image.shape)
            return cv2.findContours(image, *args)

    monkeypatch.setattr(components, "cv2", CountingCv2())
    sp, fake = service(reader, ("Solvefora", 0.2), (r"\frac{a}{b}=c", 0.9), ("a", 0.9))
    result = sp.recognize(mixed_line(r"Solve $\frac{a}{b}=c$ for $a$"), LINE_DATA)
    assert len(reader.shapes) == 1 and fake.calls == 3  # the prose check ran
    assert result.is_printed  # by baseline alignment: the scripted readings have no style probe
    assert searched and max(searched.count(s) for s in searched) == 1, searched
