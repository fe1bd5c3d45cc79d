"""The words and formulas of a scanned page's blocks as "glyphs" in points (one per word or
formula, font :data:`~scipix.documents.textlayer.OCR_FONT`), from the pipeline's ``word_data``.

The pipeline reads each block (a paragraph with inline math, a display formula, a table). A
formula it read very unsurely (confidence below :data:`UNSURE_MATH`) that the text OCR reads as
plain words and numbers is those words: a table of words and figures, set apart like a display,
or a word the pipeline took for math. What it read as math but is prose (a number, ``\\text{…}``
or a roman word alone) is text too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import cv2
import numpy as np

from scipix.documents.source import Gray
from scipix.documents.textlayer import OCR_FONT, Glyph
from scipix.pipeline.prose import TALL_LINE as ONE_LINE
from scipix.pipeline.prose import WORD_HEIGHT
from scipix.recognition.preprocess import glyph_height as measure_glyphs
from scipix.recognition.text import INK_THRESHOLD, LINE_MARGIN, TextLine, TextRecognizer, Word
from scipix.schema import Result, WordData

#: Formulas read with less confidence than this are offered to the text OCR.
UNSURE_MATH = 0.2
#: The text OCR's words replace such a formula only when it reads them this surely (mean)...
MIN_WORDS_CONFIDENCE = 0.85
#: ...every one is a word or a number, and one word at least has this many letters.
MIN_LETTERS = 3
#: A formula lower than this (points) holds no word (a rule, a bar): not offered to the OCR,
#: which would enlarge a 4 x 1400 pixel rule to 30 x 10400 and read it for 0.8 CPU-s.
MIN_WORD_HEIGHT = 3.0
_WORD = re.compile(r"^[(\[]?(?:[A-Za-z][A-Za-z'-]*|\d+(?:[.,]\d+)*%?)[)\].,;:]?$")
_NOT_MATH = re.compile(
    r"^\s*(?:\\text\{\s*([^{}]*?)\s*\}|(\d+(?:\.\d+)?)|\\mathrm\{([A-Za-z]{2,})\})\s*$"
)
Box = tuple[int, int, int, int]


def block_glyphs(
    result: Result,
    block: Gray,
    origin: tuple[int, int],
    scale: float,
    text_ocr: TextRecognizer | None,
) -> list[Glyph]:
    """The glyphs of one block read by the pipeline: ``block`` its pixels, ``origin`` where
    it lies on the page (pixels), ``scale`` pixels per point; ``text_ocr`` None: formulas
    read unsurely stay formulas."""
    glyphs = []
    for word in result.word_data or ():
        box = _bounds(word)
        if box is None:
            continue
        unsure = word.type == "math" and (word.confidence or 0.0) < UNSURE_MATH
        unsure = unsure and box[3] - box[1] >= MIN_WORD_HEIGHT * scale
        words = as_words(text_ocr, block, box) if unsure and text_ocr is not None else None
        if words is not None:
            glyphs += [_glyph(w.text, None, w.box, origin, scale) for w in words]
            continue
        latex = word.latex
        if word.type == "math" and latex and _NOT_MATH.match(latex):  # a number, a word
            text = _NOT_MATH.sub(lambda m: m.group(1) or m.group(2) or m.group(3) or "", latex)
            glyphs.append(_glyph(text.strip(), None, box, origin, scale))
        elif word.type == "math" and latex:
            glyphs.append(_glyph(latex, latex, box, origin, scale))
        elif word.text:
            glyphs.append(_glyph(word.text, None, box, origin, scale))
    return glyphs


def as_words(text_ocr: TextRecognizer, block: Gray, box: Box) -> list[Word] | None:
    """The words the text OCR reads in ``box`` of ``block`` (boxes in ``block``'s pixels), or
    None when they are not plain, surely read words and numbers."""
    x0, y0, x1, y1 = box
    pad = max((y1 - y0) // 8, 2)
    x0, y0 = max(x0 - pad, 0), max(y0 - pad, 0)
    x1, y1 = min(x1 + pad, block.shape[1]), min(y1 + pad, block.shape[0])
    crop = np.ascontiguousarray(block[y0:y1, x0:x1])
    if crop.size == 0:
        return None
    words = [w for line in read_crop(text_ocr, crop) for w in line.words]
    if not plain_words(words):
        return None
    return [Word(w.text, w.confidence, _moved(w.box, x0, y0)) for w in reading_order(words)]


def read_crop(text_ocr: TextRecognizer, crop: Gray) -> list[TextLine]:
    """The text of ``crop``: one line of words (at most ``ONE_LINE`` glyph heights high) is read
    by the text OCR's recognizer alone, with a white margin; its words as high as the
    detector's boxes would be (``WORD_HEIGHT``); others (a table's rows) with the detector."""
    glyph = measure_glyphs(crop, INK_THRESHOLD)
    if glyph is None or crop.shape[0] > ONE_LINE * glyph:
        return text_ocr.read(crop, glyph)
    pad = round(LINE_MARGIN * glyph)
    padded = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    line = text_ocr.read_lines([np.asarray(padded, dtype=np.uint8)], glyph)[0]
    if line is None:
        return []
    middle, half = crop.shape[0] / 2.0, WORD_HEIGHT * glyph / 2.0
    top, bottom = max(round(middle - half), 0), round(middle + half)
    width = crop.shape[1]

    def placed(b: Box) -> Box:
        return min(max(b[0] - pad, 0), width), top, min(max(b[2] - pad, 0), width), bottom

    words = tuple(Word(w.text, w.confidence, placed(w.box)) for w in line.words)
    return [TextLine(line.text, line.confidence, placed(line.box), words)]


def reading_order(words: Sequence[Word]) -> list[Word]:
    """Words in rows (centres within half a word's height of the row's first), each row left
    to right: the OCR gives each cell of a table row as its own line, a pixel higher or lower."""
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: w.box[1] + w.box[3]):
        mid = (w.box[1] + w.box[3]) / 2
        first = rows[-1][0].box if rows else None
        if first is not None and mid - (first[1] + first[3]) / 2 < (first[3] - first[1]) / 2:
            rows[-1].append(w)
        else:
            rows.append([w])
    return [w for row in rows for w in sorted(row, key=lambda w: w.box[0])]


def plain_words(words: Sequence[Word]) -> bool:
    """Words and numbers only, read surely, one word at least :data:`MIN_LETTERS` long."""
    if not words or not all(_WORD.match(w.text) for w in words):
        return False
    if float(np.mean([w.confidence for w in words])) < MIN_WORDS_CONFIDENCE:
        return False
    return any(sum(c.isalpha() for c in w.text) >= MIN_LETTERS for w in words)


def _bounds(word: WordData) -> Box | None:
    xs, ys = [p[0] for p in word.cnt], [p[1] for p in word.cnt]
    if not xs or max(xs) <= min(xs) or max(ys) <= min(ys):
        return None
    return int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys))


def _moved(box: Box, dx: int, dy: int) -> Box:
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy


def _glyph(text: str, latex: str | None, box: Box, origin: tuple[int, int], scale: float) -> Glyph:
    x0, y0 = (box[0] + origin[0]) / scale, (box[1] + origin[1]) / scale
    x1, y1 = (box[2] + origin[0]) / scale, (box[3] + origin[1]) / scale
    return Glyph(text, OCR_FONT, float(round(y1 - y0)), x0, y0, x1, y1, latex=latex)
