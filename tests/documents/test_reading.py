"""Reading the test papers: born-digital through the text layer, scanned through OCR."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from scipix.documents import (
    DocumentOptions,
    PageResult,
    assemble,
    open_document,
    read_page,
)
from scipix.latex.normalize import normalize
from scipix.service import Scipix

from .conftest import DATA, paper

LIMITS = {"max_pages": 100, "max_bytes": 10_000_000}


@pytest.fixture(scope="module")
def twocol_page(service: Scipix) -> PageResult:
    with open_document(paper("twocol.pdf"), **LIMITS) as doc:
        return read_page(doc, 0, service, DocumentOptions())


def test_a_born_digital_two_column_page_reads_in_order_with_its_math(
    twocol_page: PageResult,
) -> None:
    page = twocol_page
    assert page.ok and page.source == "text_layer"
    mmd = assemble([page], DocumentOptions()).to_mmd()
    assert mmd.startswith("\\title{Two Columns of Careful Analysis}")
    # left column first, then the right one; a word hyphenated at a line's end is whole again
    assert mmd.index("\\section*{1 Introduction}") < mmd.index("\\section*{2 Main results}")
    assert "Readers who know the earlier results" in mmd
    assert "\\( \\alpha \\)" in mmd and "\\( a_{n}>0 \\)" in mmd and "\\( \\lambda/\\mu \\)" in mmd
    # running header and page number are not text, but lines.json keeps them as page_info
    assert "Scipix test paper" not in mmd
    kinds = [
        line["type"]
        for line in assemble([page], DocumentOptions()).to_lines_json()["pages"][0]["lines"]
    ]
    assert kinds.count("page_info") == 2
    displays = [ln for ln in page.lines if ln.kind == "display"]
    truth = json.loads((DATA / "twocol.json").read_text())["display"]
    assert len(displays) >= 5
    assert [ln.tag for ln in displays[:3]] == ["1", "2", "3"]
    read = {normalize(ln.text) for ln in displays}
    assert normalize(truth[0]) in read  # e^{i\pi}+1=0, read from its crop


def test_a_table_becomes_a_markdown_table(twocol_page: PageResult) -> None:
    md = assemble([twocol_page], DocumentOptions()).to_md()
    assert "| Method | Error | Time |" in md
    assert "| New | 0.07 | 9 |" in md


def test_delimiters_follow_the_options(twocol_page: PageResult) -> None:
    options = DocumentOptions(
        math_inline_delimiters=("$", "$"), math_display_delimiters=("$$", "$$")
    )
    mmd = assemble([twocol_page], options).to_mmd()
    assert "$\\alpha$" in mmd and "\\(" not in mmd
    assert re.search(r"^\$\$\ne\^\{i\\pi\}\+1=0 \\tag\{1\}\n\$\$$", mmd, re.M)


def test_a_page_survives_a_json_round_trip(twocol_page: PageResult) -> None:
    text = json.dumps(twocol_page.to_json())
    assert PageResult.from_json(text) == twocol_page


def scanned_image() -> bytes:
    """The top of the scanned one-column paper's first page, as a PNG (a photo of a page)."""
    doc = pdfium.PdfDocument(paper("onecol_scan.pdf"))
    image = doc[0].render(scale=200 / 72, grayscale=True).to_pil().convert("L")
    doc.close()
    top = image.crop((0, 0, image.width, image.height * 2 // 5))
    out = io.BytesIO()
    top.save(out, "PNG")
    return out.getvalue()


def test_a_scanned_page_image_is_read_by_ocr(service: Scipix) -> None:
    with open_document(scanned_image(), **LIMITS) as doc:
        assert doc.kind == "image" and doc.num_pages == 1
        page = read_page(doc, 0, service, DocumentOptions())
    assert page.ok and page.source == "ocr"
    mmd = assemble([page], DocumentOptions()).to_mmd()
    assert "Note on Simple Estimates" in mmd
    # words read by OCR keep their spaces even where their estimated boxes touch
    assert "which we use below" in mmd
    assert "for its transpose" in mmd
    displays = [normalize(ln.text) for ln in page.lines if ln.kind == "display"]
    assert normalize("\\int_{0}^{1}x^{2}dx=\\frac{1}{3}") in displays


def test_an_unreadable_page_marks_that_page_only(service: Scipix) -> None:
    with open_document(paper("twocol.pdf"), **LIMITS) as doc:
        pages = [
            read_page(doc, 1, service, DocumentOptions()),
            read_page(doc, 7, service, DocumentOptions()),
        ]
    good, bad = pages
    assert good.ok and not bad.ok and bad.error is not None
    assert bad.page == 8 and bad.lines == ()
    document = assemble(pages, DocumentOptions())
    assert "which we use below" in document.to_mmd()
    assert document.to_lines_json()["pages"][1]["error_info"]["id"] == bad.error.id


def test_page_ranges_select_pages() -> None:
    options = DocumentOptions(page_ranges="2, 4-6, -1")
    assert options.select_pages(10) == [1, 3, 4, 5, 9]
    assert DocumentOptions(page_ranges="2 - -2").select_pages(5) == [1, 2, 3]
    assert DocumentOptions().select_pages(3) == [0, 1, 2]
    assert np.array_equal(DocumentOptions(page_ranges="9-12").select_pages(10), [8, 9])


def test_docx_has_native_equations_and_tex_zip_compiles(
    twocol_page: PageResult, tmp_path: Path
) -> None:
    document = assemble([twocol_page], DocumentOptions())
    with zipfile.ZipFile(io.BytesIO(document.to_docx())) as docx:
        xml = docx.read("word/document.xml").decode()
    assert xml.count("<m:oMath") >= 10  # inline and display formulas as Word equations
    assert "Careful Analysis" in xml
    with zipfile.ZipFile(io.BytesIO(document.to_tex_zip("paper"))) as archive:
        source = archive.read("paper/paper.tex").decode()
    assert "\\section*{1 Introduction}" in source and "\\tag{1}" in source
    if shutil.which("pdflatex") is None:
        return
    (tmp_path / "paper.tex").write_text(source)
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
