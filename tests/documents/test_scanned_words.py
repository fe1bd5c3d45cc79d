"""Words of a scanned page: the OCR's words keep their spaces when their boxes touch, and a
table the formula recognizer read unsurely is read as the words and numbers it holds."""

from __future__ import annotations

from scipix.documents import open_document
from scipix.documents.scan import blocks, straighten
from scipix.documents.scanwords import as_words
from scipix.documents.source import render_page
from scipix.documents.structure import spell, word_break
from scipix.documents.textlayer import OCR_FONT, Glyph
from scipix.service import Scipix

from .conftest import paper


def test_ocr_words_whose_boxes_touch_are_still_two_words() -> None:
    # boxes as the text OCR estimates them from its character positions: edge to edge
    words = [Glyph("for", OCR_FONT, 10, 0, 0, 14, 10), Glyph("its", OCR_FONT, 10, 14, 0, 26, 10)]
    assert spell(words, 10.0) == "for its"


def test_text_layer_glyphs_join_by_their_gap() -> None:
    f = Glyph("f", "CMR10", 10, 0, 0, 3, 10)
    o = Glyph("o", "CMR10", 10, 3.2, 0, 8, 10)
    far = Glyph("i", "CMR10", 10, 11, 0, 13, 10)
    assert not word_break(f, o, 10.0)
    assert word_break(o, far, 10.0)
    assert spell([f, o, far], 10.0) == "fo i"


def test_a_scanned_table_reads_as_words_and_a_formula_does_not(service: Scipix) -> None:
    with open_document(paper("onecol_scan.pdf"), max_pages=10, max_bytes=10_000_000) as doc:
        gray, _ = render_page(doc, 1, 200)
    gray = straighten(gray)
    boxes, _ = blocks(gray)
    ocr = service.text_recognizer()
    found = []
    for x0, y0, x1, y1 in boxes[:3]:  # the running header, the table, a heading
        block = gray[y0:y1, x0:x1]
        words = as_words(ocr, block, (0, 0, x1 - x0, y1 - y0))
        found.append(None if words is None else [w.text for w in words])
    table = ["Method", "Error", "Time", "Old", "0.31", "12", "New", "0.07", "9"]
    assert table in found
    width = gray.shape[1]
    displays = [b for b in boxes if b[0] > 0.4 * width and b[2] < 0.6 * width and b[3] - b[1] > 40]
    assert len(displays) >= 2  # e^{i pi} + 1 = 0, the divergence, the binomial sum
    for x0, y0, x1, y1 in displays:
        assert as_words(ocr, gray[y0:y1, x0:x1], (0, 0, x1 - x0, y1 - y0)) is None
