"""Mathpix's fields, exactly (issue 13): each test names the example of ``MATHPIX_API.md``
(T1..T6, or its section) whose shape it reproduces. The formula model is a scripted stand-in."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from imaging.drawing import formula, stack, text_line
from pipeline.scripted import ScriptedRecognizer, hypothesis
from scipix.imaging.components import Boxes
from scipix.latex import to_mmd
from scipix.pipeline.alphabet import detect_alphabets
from scipix.pipeline.formats import convert, math_html
from scipix.pipeline.generate import Piece, markdown, page_html
from scipix.pipeline.job import Ink, Layout, Reading, Region
from scipix.schema import DataOptions, RecognizeOptions
from scipix.service import Scipix
from scipix.settings import Settings

CIRCLE = "x^{2}+y^{2}=9"  # T5's formula, already in our canonical spelling
RENDERED = re.compile(r"<math .*?</math>", re.S)  # our MathML, where Mathpix's SVG would go


def service(*script: tuple[str, float]) -> Scipix:
    settings = Settings()
    fake = ScriptedRecognizer(script or [(CIRCLE, 0.9)])
    return Scipix(settings, recognizer=fake)  # type: ignore[arg-type]


def recognize(image: np.ndarray, **options: Any) -> dict[str, Any]:
    sp = service()
    return sp.recognize(image, RecognizeOptions.model_validate(options)).to_mathpix()


def hidden_only(html: str) -> str:
    """The html without our rendered MathML: what Mathpix (no SVG asked for) answers."""
    assert html.count("<math ") == len(RENDERED.findall(html))
    return RENDERED.sub("", html)


# 1. Inline delimiters


def test_dollar_delimiters_touch_the_formula_as_in_t2() -> None:
    """T2: ``math_inline_delimiters: ["$", "$"]`` gives ``$f(x)=...$`` (no inner spaces)."""
    assert recognize(formula(CIRCLE), math_inline_delimiters=["$", "$"])["text"] == f"${CIRCLE}$"
    assert to_mmd(CIRCLE, inline_delimiters=("$", "$")) == f"${CIRCLE}$"


def test_the_default_delimiters_keep_their_spaces_as_in_t1_and_t5() -> None:
    """T5: ``"text": "\\\\( x^{2}+y^{2}=9 \\\\)"``, the default ``\\\\( \\\\)`` padded inside."""
    assert recognize(formula(CIRCLE))["text"] == "\\( x^{2}+y^{2}=9 \\)"


def test_display_delimiters_stand_on_their_own_lines() -> None:
    """Section 1 (``text``: display math in ``\\\\[ \\\\]``): the delimiters on their own lines,
    no padding spaces, ``$$`` as ``\\\\[`` (Mathpix Markdown's block math)."""
    page = stack([text_line("Solve the following equations."), formula("x^{2}"), formula("y+1")])
    sp = service(("x^{2}", 0.9), ("y+1", 0.9))
    text = sp.recognize(page, RecognizeOptions(math_display_delimiters=("$$", "$$"))).text
    assert text == "Solve the following equations.\n$$\nx^{2}\n$$\n$$\ny+1\n$$"


# 3. latex_styled


def test_latex_styled_comes_with_a_single_equation_even_unasked_as_in_t1() -> None:
    """T1 asks for ``formats: ["text", "data"]`` and still gets ``latex_styled``; T2 asks for
    nothing and gets it too; a page that is not one equation has none, even when asked."""
    for options in ({"formats": ["text", "data"]}, {}, {"formats": ["latex_styled"]}):
        assert recognize(formula(CIRCLE), **options)["latex_styled"] == CIRCLE
    page = stack([text_line("Solve the following equations."), formula(CIRCLE)])
    assert "latex_styled" not in recognize(page, formats=["text", "latex_styled"])


# 4. html


def test_html_of_one_formula_is_t5s() -> None:
    """T5: ``formats: ["text", "html", "data"]``, ``data_options: {include_asciimath: true}``."""
    body = recognize(
        formula(CIRCLE),
        formats=["text", "html", "data"],
        data_options={"include_asciimath": True},
    )
    asciimath = convert(CIRCLE, "asciimath")
    assert body["data"] == [{"type": "asciimath", "value": asciimath}]
    assert hidden_only(body["html"]) == (
        '<div><span class="math-inline ">\n'
        f'<asciimath style="display: none;">{asciimath}</asciimath></span></div>\n'
    )
    assert "<math " in body["html"]  # rendered too, after the hidden copies


T3_LATEX = "\\frac{2 p-2}{p} \\div \\frac{4 p-4}{9 p^{2}}"
T3_TEXT = "Perform the indicated operation and simplify.\n3) \\( " + T3_LATEX + " \\)"
T3_HTML = (
    "<div>Perform the indicated operation and simplify.<br>\n3) "
    '<span  class="math-inline " >\n<asciimath style="display: none;">'
    "(2p-2)/(p)-:(4p-4)/(9p^(2))</asciimath>"
    '<latex style="display: none">' + T3_LATEX + "</latex></span></div>\n"
)


def page_of(*lines: tuple[str, ...], math: str = T3_LATEX) -> tuple[Layout, dict[int, Piece]]:
    """A layout of ``lines`` of prose pieces, ``""`` standing for the formula ``math``."""
    empty = np.zeros(0, dtype=np.int64)
    reading = Reading((hypothesis(math, 0.99),))
    regions, pieces, members = [], {}, []
    for number, line in enumerate(lines):
        members.append(tuple(range(len(regions), len(regions) + len(line))))
        for text in line:
            region = Region(len(regions), "text" if text else "math", (0, 0, 9, 9), number, text)
            regions.append(region)
            pieces[region.index] = Piece(region, text or math, None if text else reading)
    ink = Ink(boxes=Boxes(empty, empty, empty, empty, empty), lines=())
    return Layout(regions=tuple(regions), lines=tuple(members), ink=ink), pieces


def t3_page() -> tuple[Layout, dict[int, Piece]]:
    """T3's image as the layout sees it: a line of prose, then ``3)`` and the formula."""
    return page_of(("Perform the indicated operation and simplify.",), ("3)", ""))


def test_html_of_prose_and_inline_math_is_t3s() -> None:
    """T3: ``formats: ["text", "html"]`` with ``include_asciimath`` and ``include_latex``. T3
    spells the span ``<span  class="math-inline " >`` and T5 ``<span class="math-inline ">``
    (two versions of mathpix-markdown-it); we write T5's. The AsciiMath is our converter's."""
    layout, pieces = t3_page()
    opts = RecognizeOptions(data_options=DataOptions(include_asciimath=True, include_latex=True))
    assert markdown(layout, pieces, opts) == T3_TEXT
    expected = T3_HTML.replace('<span  class="math-inline " >', '<span class="math-inline ">')
    expected = expected.replace("(2p-2)/(p)-:(4p-4)/(9p^(2))", convert(T3_LATEX, "asciimath") or "")
    assert hidden_only(page_html(layout, pieces, opts)) == expected


def test_html_paragraphs_and_display_math_follow_mathpix_markdown_it() -> None:
    """Section 1 (``html``, rendered by mathpix-markdown-it): a display formula is a paragraph
    ``<div>`` of its own holding ``<span class="math-block ">``; no data options, no hidden
    copies; markdown-it's escaping of prose."""
    page = stack([text_line("Solve the following equations."), formula("x^{2}"), formula("y+1")])
    sp = service(("x^{2}", 0.9), ("y+1", 0.9))
    html = sp.recognize(page, RecognizeOptions(formats=("html",))).html or ""
    assert hidden_only(html) == "<div>Solve the following equations.</div>\n" + (
        '<div><span class="math-block ">\n</span></div>\n' * 2
    )
    assert html.count('display="block"') == 2
    layout, pieces = page_of(('If a < b & "c",', ""), ("then",))
    assert hidden_only(page_html(layout, pieces, RecognizeOptions())) == (
        '<div>If a &lt; b &amp; &quot;c&quot;, <span class="math-inline ">\n</span><br>\n'
        "then</div>\n"
    )


def test_hidden_mathml_comes_first_then_asciimath_and_latex() -> None:
    """mathpix-markdown-it's order: ``<mathml>`` (not escaped), ``<asciimath>``, ``<latex>``
    (escaped), then the rendering; the newline only before a first non-MathML child."""
    span = math_html("a<b", False, ("latex", "asciimath", "mathml"))
    mathml = convert("a<b", "mathml")
    assert span.startswith(f'<span class="math-inline "><mathml style="display: none">{mathml}')
    assert '</mathml><asciimath style="display: none;">' in span
    assert '<latex style="display: none">a&lt;b</latex><math ' in span


# 2. detected_alphabets


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Perform the operation", {"en"}),
        ("\\frac{1}{2}+\\sqrt{3}", set()),  # command names are not English
        ("\\text { if } 2>1", {"en"}),
        ("Решите уравнение", {"ru"}),
        ("求解方程", {"zh"}),
        ("方程式を解く", {"ja"}),  # kanji beside kana: Japanese
        ("방정식을 풀어라", {"ko"}),
        ("समीकरण हल करें", {"hi"}),
        ("แก้สมการ", {"th"}),
        ("சமன்பாடு", {"ta"}),
        ("సమీకరణం", {"te"}),
        ("સમીકરણ", {"gu"}),
        ("সমীকরণ", {"bn"}),
        ("Giải phương trình", {"en", "vi"}),
        ("\\alpha+β=γ", set()),
    ],
)
def test_detected_alphabets_of_text(text: str, found: set[str]) -> None:
    detected = detect_alphabets([text]).model_dump()
    assert " ".join(detected) == "en hi zh ja ko ru th ta te gu bn vi"  # section 1's keys
    assert {name for name, present in detected.items() if present} == found


def test_detected_alphabets_only_when_asked() -> None:
    """Section 1: ``include_detected_alphabets`` adds ``detected_alphabets`` (12 booleans)."""
    assert "detected_alphabets" not in recognize(formula(CIRCLE))
    body = recognize(formula(CIRCLE), include_detected_alphabets=True)
    assert body["detected_alphabets"] == {
        "en": True, "hi": False, "zh": False, "ja": False, "ko": False, "ru": False,
        "th": False, "ta": False, "te": False, "gu": False, "bn": False, "vi": False,
    }  # fmt: skip
