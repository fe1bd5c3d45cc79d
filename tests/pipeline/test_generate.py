"""Recognize → Generate → Validate with a scripted stand-in for the formula model (test double),
so the Mathpix shape of results is checked whether or not the real model is installed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from imaging.drawing import formula, stack, text_line
from pipeline.scripted import ScriptedRecognizer
from scipix.errors import ConfidenceError
from scipix.latex import model_tokens
from scipix.schema import DataOptions, RecognizeOptions, Region
from scipix.service import Scipix
from scipix.settings import Settings

LATEX = "a^{2}+b^{2}=c^{2}"


def service(*script: tuple[str, float], **ocr: Any) -> tuple[Scipix, ScriptedRecognizer]:
    settings = Settings()
    settings.preprocessing.second_reading_below = 0.0  # scripted reads: no second reading
    for key, value in ocr.items():
        setattr(settings.ocr, key, value)
    fake = ScriptedRecognizer(script or [(LATEX, 0.9)])
    return Scipix(settings, recognizer=fake), fake  # type: ignore[arg-type]


ALL_DATA = DataOptions(
    include_latex=True, include_mathml=True, include_asciimath=True, include_html=True
)


def test_single_formula_has_the_mathpix_shape() -> None:
    sp, _ = service()
    img = formula(LATEX)
    opts = RecognizeOptions(
        formats=("text", "latex_styled", "html"), data_options=ALL_DATA, include_line_data=True
    )
    body = sp.recognize(img, opts).to_mathpix()
    assert body["text"] == f"\\( {LATEX} \\)" and body["latex_styled"] == LATEX
    assert [d["type"] for d in body["data"]] == ["latex", "mathml", "asciimath", "html"]
    assert body["data"][1]["value"].startswith("<math") and "<math" in body["html"]
    assert body["confidence"] == pytest.approx(0.9) and body["version"] == "scripted-1"
    assert (body["image_width"], body["image_height"]) == (img.shape[1], img.shape[0])
    assert body["auto_rotate_degrees"] == 0 and body["is_printed"] is True
    (line,) = body["line_data"]
    xs, ys = [p[0] for p in line["cnt"]], [p[1] for p in line["cnt"]]
    assert 0 <= min(xs) < max(xs) <= img.shape[1] and 0 <= min(ys) < max(ys) <= img.shape[0]
    assert line["type"] == "math" and line["low_confidence"] is False


def test_only_requested_fields_appear() -> None:
    sp, _ = service()
    body = sp.recognize(formula(LATEX), RecognizeOptions(formats=("text",))).to_mathpix()
    assert body.pop("latex_styled") == LATEX  # one equation: said unasked (MATHPIX_API.md T1)
    assert set(body) == {
        "request_id", "text", "confidence", "confidence_rate", "is_printed", "is_handwritten",
        "image_width", "image_height", "auto_rotate_degrees", "auto_rotate_confidence", "version",
        "preprocessing",  # how the picture was cleaned: always said (not in Mathpix's API)
    }  # fmt: skip


def test_no_formats_means_text_and_latex_styled_as_from_mathpix() -> None:
    sp, _ = service()
    for options in (None, RecognizeOptions.from_request({"formats": []})):
        body = sp.recognize(formula(LATEX), options).to_mathpix()
        assert body["text"] == f"\\( {LATEX} \\)" and body["latex_styled"] == LATEX
    page = stack([text_line("Solve the following equations."), formula(LATEX), formula("y+1")])
    assert "latex_styled" not in sp.recognize(page).to_mathpix()  # not one equation


def test_delimiters_and_rm_spaces() -> None:
    """``$x$`` without inner spaces (MATHPIX_API.md T2), ``\\( x \\)`` with them (T1)."""
    sp, _ = service()
    opts = RecognizeOptions(math_inline_delimiters=("$", "$"), rm_spaces=False)
    text = sp.recognize(formula(LATEX), opts).text
    assert text == "$" + " ".join(model_tokens(LATEX)) + "$"
    sp, _ = service(math_inline_delimiters=("$", "$"))  # settings supply unset options
    assert sp.recognize(formula(LATEX)).text == f"${LATEX}$"


def test_confidence_threshold_is_a_math_confidence_error() -> None:
    sp, _ = service((LATEX, 0.4))
    with pytest.raises(ConfidenceError) as info:
        sp.recognize(formula(LATEX), RecognizeOptions(confidence_threshold=0.5))
    assert info.value.error_id == "math_confidence"
    sp, _ = service((LATEX, 0.4), confidence_threshold=0.5)
    (result,) = sp.recognize_many([formula(LATEX)])
    assert result.error_info is not None and result.error_info.id == "math_confidence"


def test_text_line_and_two_formulas_make_mixed_markdown() -> None:
    sp, fake = service(("x^{2}", 0.8), ("y+1", 0.7))
    page = stack([text_line("Solve the following equations."), formula(LATEX), formula("y+1")])
    opts = RecognizeOptions(data_options=DataOptions(include_latex=True), include_line_data=True)
    result = sp.recognize(page, opts)
    assert result.text == "Solve the following equations.\n\\[\nx^{2}\n\\]\n\\[\ny+1\n\\]"
    assert [ld.type for ld in result.line_data or ()] == ["text", "math", "math"]
    assert [d.value for d in result.data or ()] == ["x^{2}", "y+1"]
    assert result.confidence == pytest.approx(0.7)
    assert fake.calls == 2  # the text line never went to the formula model


def test_upside_down_formula_is_checked_by_reading_it_both_ways() -> None:
    sp, fake = service((LATEX, 0.2), (LATEX, 0.95))  # the turned reading is the sure one
    result = sp.recognize(np.ascontiguousarray(np.rot90(formula(LATEX), 2)))
    assert fake.calls == 2
    assert result.auto_rotate_degrees == 180 and result.confidence == pytest.approx(0.95)


def test_a_line_of_prose_goes_to_the_text_ocr() -> None:
    sp, _ = service(("Performtheindicatedoperation", 0.3))
    line = text_line("Perform the indicated operation and simplify.")
    result = sp.recognize(line, RecognizeOptions(include_line_data=True))
    assert result.text == "Perform the indicated operation and simplify."
    assert [ld.type for ld in result.line_data or ()] == ["text"]


def test_region_crops_the_input_and_keeps_its_coordinates() -> None:
    sp, fake = service()
    canvas = np.full((400, 1000), 255, dtype=np.uint8)
    f = formula(LATEX, pad=0)
    canvas[300 : 300 + f.shape[0], 600 : 600 + f.shape[1]] = f
    canvas[20:60, 20:400] = 0  # ink outside the region is ignored
    region = Region(top_left_x=580, top_left_y=280, width=400, height=110)
    result = sp.recognize(canvas, RecognizeOptions(region=region, include_line_data=True))
    (line,) = result.line_data or []
    xs, ys = [p[0] for p in line.cnt], [p[1] for p in line.cnt]
    assert 580 <= min(xs) <= 605 and 280 <= min(ys) <= 305
    assert fake.shapes[0][0] < 110


def test_n_best_readings_are_candidates() -> None:
    fake = ScriptedRecognizer([(LATEX, 0.9)], [("a^{2}+b^{2}=c", 0.4), ("a^2+b^2=c^2", 0.3)])
    sp = Scipix(Settings(), recognizer=fake)  # type: ignore[arg-type]
    opts = RecognizeOptions(n_best=3, include_line_data=True)
    result = sp.recognize(formula(LATEX), opts)
    assert result.latex_styled == LATEX
    got = [(c.latex, c.confidence) for c in result.candidates or ()]
    assert got == [(LATEX, 0.9), ("a^{2}+b^{2}=c", 0.4)]  # the third is spelled like the first
    (line,) = result.line_data or ()
    assert line.candidates == result.candidates
    body = sp.recognize(formula(LATEX), RecognizeOptions(n_best=2)).to_mathpix()
    assert [c["latex"] for c in body["candidates"]] == [LATEX, "a^{2}+b^{2}=c"]
    assert "candidates" not in sp.recognize(formula(LATEX)).to_mathpix()  # n_best 1
