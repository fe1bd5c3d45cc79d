"""The conversions of ``documents.convert``: Mathpix Markdown -> Markdown, HTML (MathML, and
sanitized: text that says ``<script>`` stays text), html.zip, PowerPoint and a compiled
latex.pdf (when a TeX engine is installed; refused by id when not). No model needed."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from scipix.documents import DocumentOptions, PageLine, PageResult, Segment, assemble, convert
from scipix.documents.browser import browser
from scipix.documents.sanitize import sanitize_html
from scipix.errors import LatexError, UnknownFormatError

HOSTILE = '<script>alert(1)</script> <img src=x onerror="alert(2)"> <a href="javascript:x()">a</a>'


def hostile_document() -> object:
    lines = (
        PageLine(
            kind="title", segments=(Segment(kind="text", value="A <b>title</b>"),), box=(0, 0, 9, 9)
        ),
        PageLine(
            kind="text",
            segments=(
                Segment(kind="text", value=HOSTILE + " and energy ∑ α → é 中"),
                Segment(kind="math", value="E=mc^{2}"),
            ),
            box=(0, 10, 9, 9),
            block=1,
        ),
        PageLine(
            kind="display",
            segments=(Segment(kind="math", value=r"\frac{a}{b}"),),
            box=(0, 20, 9, 9),
            block=2,
        ),
    )
    page = PageResult(page=1, width=100, height=100, dpi=72, source="text_layer", lines=lines)
    return assemble([page], DocumentOptions())


def no_live_markup(page: str) -> None:
    tags = re.findall(r"<[^>]*>", page.lower())  # escaped text (&lt;script&gt;) is no tag
    assert not [t for t in tags if t.startswith("<script") or "javascript:" in t], tags
    assert not [t for t in tags if re.search(r"\son\w+\s*=", t)], "an event handler survived"


def test_hostile_text_stays_text_in_html() -> None:
    document = hostile_document()
    page = convert.document_to(document, "html", "doc").decode()  # type: ignore[arg-type]
    no_live_markup(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, not run
    assert "<math" in page and "<mfrac>" in page  # math as MathML
    assert "Content-Security-Policy" in page
    archive = zipfile.ZipFile(io.BytesIO(convert.document_to(document, "html.zip", "doc")))  # type: ignore[arg-type]
    assert archive.read("doc/doc.html").decode() == page


@pytest.mark.parametrize(
    "fragment",
    [
        '<p onclick="x()">a</p>',
        '<a href=" jav&#x09;ascript:alert(1)">a</a>',
        '<a href="JAVASCRIPT:alert(1)">a</a>',
        "<svg><script>alert(1)</script></svg>",
        '<img src="x" onerror="alert(1)">',
        '<iframe src="https://e.com"></iframe><style>*{}</style>',
        '<math><mi xlink:href="javascript:x" href="javascript:y">x</mi></math>',
        '<span style="background:url(javascript:x)">s</span>',
    ],
)
def test_the_sanitizer_removes_every_way_to_run_code(fragment: str) -> None:
    cleaned = sanitize_html(fragment)
    no_live_markup(cleaned)
    assert "style=" not in cleaned and "<iframe" not in cleaned


def test_the_sanitizer_keeps_structure_math_and_safe_links() -> None:
    kept = '<p>a <a href="https://e.com/x?y=1#z">l</a> <math display="block"><mi>x</mi></math></p>'
    assert sanitize_html(kept) == kept
    assert sanitize_html("<p>a<b>b") == "<p>a<b>b</b></p>"


def test_mmd_becomes_markdown_and_unclosed_math_is_refused() -> None:
    mmd = "\\title{T}\n\n\\section*{Intro}\n\nA \\(x^{2}\\) and \\\\(not math)\n\n"
    mmd += "\\[\\frac{1}{2}\\]\n"
    md = convert.mmd_to_markdown(mmd)
    assert md == "# T\n\n## Intro\n\nA $x^{2}$ and \\\\(not math)\n\n$$\\frac{1}{2}$$\n"
    with pytest.raises(LatexError) as refused:
        convert.mmd_to_markdown("ok \\(x + 1")
    assert refused.value.to_mathpix()["error_info"] == {
        "id": "math_syntax",
        "message": refused.value.message,
        "position": 3,
    }


def test_pptx_is_a_presentation() -> None:
    data = convert.document_to(hostile_document(), "pptx")  # type: ignore[arg-type]
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "ppt/presentation.xml" in names and any(n.startswith("ppt/slides/") for n in names)


def test_latex_pdf_compiles_or_is_refused_by_id(monkeypatch: pytest.MonkeyPatch) -> None:
    document = hostile_document()
    if convert.tex_engine() is not None:
        assert convert.document_to(document, "latex.pdf").startswith(b"%PDF-")  # type: ignore[arg-type]
        with pytest.raises(LatexError, match="compile"):  # no file outside the TeX tree
            convert.latex_to_pdf(
                r"\documentclass{article}\begin{document}\input{/etc/passwd}\end{document}"
            )
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(UnknownFormatError, match="TeX engine") as refused:
        convert.document_to(document, "latex.pdf")  # type: ignore[arg-type]
    assert refused.value.to_mathpix()["error_info"]["id"] == "opts_unknown_format"


@pytest.mark.parametrize("fmt", ["docx", "pptx", "html"])
def test_images_named_in_the_text_are_never_read(fmt: str, tmp_path: Path) -> None:
    """An image path or URL in the text (``![x](/etc/…)``) is not fetched into the output."""
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n" + b"TOP-SECRET" * 10)
    mmd = f"Look: ![x]({secret}) and ![y](http://127.0.0.1:9/a.png)\n"
    data = convert.mmd_to(mmd, fmt)
    assert b"TOP-SECRET" not in data
    if fmt != "html":
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        assert not [n for n in names if "/media/" in n], names
    document = assemble(
        [
            PageResult(
                page=1,
                width=9,
                height=9,
                dpi=72,
                source="text_layer",
                lines=(
                    PageLine(
                        kind="text", segments=(Segment(kind="text", value=mmd),), box=(0, 0, 9, 9)
                    ),
                ),
            )
        ],
        DocumentOptions(),
    )
    assert b"TOP-SECRET" not in zipfile.ZipFile(io.BytesIO(document.to_docx())).read(
        "word/document.xml"
    )
    assert not [
        n for n in zipfile.ZipFile(io.BytesIO(document.to_docx())).namelist() if "/media/" in n
    ]


def test_pdf_is_the_html_printed_or_refused_by_id(monkeypatch: pytest.MonkeyPatch) -> None:
    document = hostile_document()
    if browser() is not None:
        import pypdfium2

        data = convert.document_to(document, "pdf")  # type: ignore[arg-type]
        pdf = pypdfium2.PdfDocument(data)
        text = pdf[0].get_textpage().get_text_range()
        pdf.close()
        assert "<script>alert(1)</script>" in text and "energy" in text  # printed as text
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(UnknownFormatError, match="Chromium") as refused:
        convert.mmd_to("x", "pdf")
    assert refused.value.to_mathpix()["error_info"]["formats"] == "pdf"


def test_spaced_inline_math_and_formulas_pandoc_refuses_still_become_mathml() -> None:
    md = convert.mmd_to_markdown("a \\( x + 1 \\) b \\(\\) c")
    assert md == "a $x + 1$ b  c"  # pandoc reads $x$, not $ x $; \(\) is nothing
    tagged = "\\[\\lim_{n\\rightarrow\\infty}\\left(1+\\frac{1}{n}\\right)^{n}=e \\tag{3}\\]"
    page = convert.markdown_to_html(convert.mmd_to_markdown(f"See \\( \\alpha \\).\n\n{tagged}\n"))
    assert page.count("<math") == 2 and "$" not in page and "<munder>" in page


def test_equation_numbers_survive_in_html() -> None:
    """MathML converters drop ``\\tag``: the number is shown beside its display formula."""
    mmd = "\\[ x=1 \\tag{3} \\]\n\n\\[ y=2 \\tag*{(A.1)} \\]\n\n\\[ z=3 \\]\n\n"
    mmd += "and \\( w \\tag{9} \\)"
    page = convert.markdown_to_html(convert.mmd_to_markdown(mmd))
    numbers = re.findall(r'<span class="eqno">([^<]*)</span>', page)
    assert numbers == ["(3)", "(A.1)"]
    assert page.count('<span class="equation">') == 2
