"""Words of a scanned page: the OCR's words keep their spaces when their boxes touch."""

from __future__ import annotations

from scipix.documents.structure import spell, word_break
from scipix.documents.textlayer import OCR_FONT, Glyph


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
