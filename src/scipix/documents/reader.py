"""Reading one page: its text layer where it has one, else its rendering by OCR.

Born-digital pages give their glyphs (``textlayer.py``); the structure is found from them
(``lines.py``, ``pagelayout.py``) and the formulas their glyphs cannot spell (display math,
inline math with fractions, radicals, big operators) are cropped from a rendering of the page
at a resolution chosen for the recognizer and read by the :class:`~scipix.Scipix` pipeline.
Pages without text (scans, images) are rendered at ``options.dpi`` and read whole by the same
pipeline; its words and formulas, with their boxes, go through the same structure rules.
Any error of one page is returned as that page's :attr:`PageResult.error`, never raised.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from scipix.documents.lines import find_lines
from scipix.documents.options import DocumentOptions
from scipix.documents.page import PageLine, PageResult, Segment
from scipix.documents.pagelayout import drafts
from scipix.documents.scan import PAD, blocks, straighten
from scipix.documents.scanwords import block_glyphs
from scipix.documents.source import Gray, OpenedDocument, render_page
from scipix.documents.structure import Draft, Part, _box
from scipix.documents.textlayer import Glyph, page_glyphs
from scipix.errors import ScipixError
from scipix.schema import PreprocessSwitches, RecognizeOptions, Result

if TYPE_CHECKING:
    from scipix.service import Scipix

log = logging.getLogger(__name__)

#: A page with fewer visible glyphs in its text layer is read by OCR (a scan, a picture).
MIN_GLYPHS = 20
#: Formula crops are rendered so that a typical glyph is about this many pixels high (twice the
#: recognizer's own glyph height: it scales down, never up), within these resolutions.
CROP_GLYPH_PX = 20.0
CROP_DPI = (144.0, 320.0)
#: Padding around a formula crop, in body sizes.
CROP_PAD = 0.3
#: A scanned page's block whose ink is lower than this (points) is a rule, not read (the
#: formula recognizer read a header's rule of 3 x 1386 pixels as "H" in 23 ms).
MIN_BLOCK_HEIGHT = 3.0
#: A scanned page's blocks are cut from the page straightened and upright: the pipeline neither
#: turns nor straightens them again (nor reads a weak formula turned, as it would a photo).
UPRIGHT = PreprocessSwitches(auto_rotate=False, deskew=False)


def read_page(
    doc: OpenedDocument, index: int, scipix: Scipix, options: DocumentOptions
) -> PageResult:
    """Page ``index`` (0-based) read into lines; a failure is the page's ``error``."""
    started = time.perf_counter()
    try:
        page = _read(doc, index, scipix, options)
    except ScipixError as exc:
        page = PageResult.failed(index + 1, exc, options.dpi)
    except Exception as exc:  # one bad page never stops a document
        log.exception("page %d could not be read", index + 1)
        error = ScipixError(f"page {index + 1} could not be read ({type(exc).__name__})")
        page = PageResult.failed(index + 1, error, options.dpi)
    return page.model_copy(update={"seconds": round(time.perf_counter() - started, 3)})


def _read(doc: OpenedDocument, index: int, scipix: Scipix, options: DocumentOptions) -> PageResult:
    if doc.kind == "pdf" and not options.force_ocr:
        glyphs, width, height = page_glyphs(doc, index)
        if len(glyphs) >= MIN_GLYPHS:
            return _read_text_layer(doc, index, scipix, options, glyphs, (width, height))
    return _read_by_ocr(doc, index, scipix, options)


def _read_text_layer(
    doc: OpenedDocument,
    index: int,
    scipix: Scipix,
    options: DocumentOptions,
    glyphs: list[Glyph],
    size: tuple[float, float],
) -> PageResult:
    width, height = size
    lines, body = find_lines(glyphs, width)
    found = drafts(lines, body, height, first_page=index == 0)
    pending = [p for d in found for p in d.parts if p.kind == "math" and p.value is None]
    if pending:
        _read_formulas(doc, index, scipix, pending, body)
    return _page(index, found, size, options.dpi, "text_layer")


def _read_formulas(
    doc: OpenedDocument, index: int, scipix: Scipix, parts: Sequence[Part], body: float
) -> None:
    """Crop each part's formula from one rendering of the page and read the crops."""
    heights = sorted(g.y1 - g.y0 for p in parts for g in p.glyphs if g.size >= 0.85 * body)
    typical = heights[len(heights) // 2] if heights else body * 0.7
    dpi = min(max(72.0 * CROP_GLYPH_PX / max(typical, 1.0), CROP_DPI[0]), CROP_DPI[1])
    gray, scale = render_page(doc, index, dpi)
    crops = [_crop(gray, p.box(), scale, body) for p in parts]
    opts = RecognizeOptions(formats=("text",))
    for part, result in zip(parts, scipix.recognize_many(crops, opts, workers=1), strict=True):
        part.value = formula_latex(result)
        if part.value is None:  # unreadable: the glyphs' own characters, best effort
            part.value = "".join(g.ch for g in sorted(part.glyphs, key=lambda g: g.x0))


def _crop(gray: Gray, box: tuple[float, float, float, float], scale: float, body: float) -> Gray:
    pad = CROP_PAD * body
    x0, y0 = int(max(box[0] - pad, 0) * scale), int(max(box[1] - pad, 0) * scale)
    x1, y1 = int((box[2] + pad) * scale) + 1, int((box[3] + pad) * scale) + 1
    return np.ascontiguousarray(gray[y0:y1, x0:x1])


_MATH_ONLY = re.compile(r"^\s*(?:\\\(|\\\[)\s*(.*?)\s*(?:\\\)|\\\])\s*$", re.DOTALL)


def formula_latex(result: Result) -> str | None:
    """The LaTeX of a formula crop's result: its one formula, or its text's formulas."""
    if not result.ok:
        return None
    if result.latex_styled:
        return result.latex_styled
    text = result.text or ""
    match = _MATH_ONLY.match(text)
    if match:
        return match.group(1)
    pieces = re.findall(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", text, re.DOTALL)
    joined = " ".join((a or b).strip() for a, b in pieces)
    return joined or None


def _read_by_ocr(
    doc: OpenedDocument, index: int, scipix: Scipix, options: DocumentOptions
) -> PageResult:
    rendered, scale = render_page(doc, index, options.dpi)
    gray = straighten(rendered)
    height_px, width_px = gray.shape
    size = (width_px / scale, height_px / scale)
    boxes, gutter = blocks(gray)
    boxes = [b for b in boxes if b[3] - b[1] - 2 * PAD >= MIN_BLOCK_HEIGHT * scale]
    crops = [np.ascontiguousarray(gray[y0:y1, x0:x1]) for x0, y0, x1, y1 in boxes]
    opts = RecognizeOptions(formats=("text",), include_word_data=True, preprocessing=UPRIGHT)
    text_ocr = scipix.text_recognizer() if scipix.settings.ocr.text_ocr else None
    glyphs: list[Glyph] = []
    confidences = []
    results = scipix.recognize_many(crops, opts, workers=1)
    for box, crop, result in zip(boxes, crops, results, strict=True):
        if not result.ok:  # a speck, a rule: nothing to read
            continue
        glyphs += block_glyphs(result, crop, (box[0], box[1]), scale, text_ocr)
        if result.confidence is not None:
            confidences.append(result.confidence)
    if not glyphs:
        return _page(index, [], size, options.dpi, "ocr")
    glyphs.sort(key=lambda g: (round(g.mid / 4), g.x0))
    split = gutter / scale if gutter is not None else None
    lines, body = find_lines(glyphs, size[0], gutter=split, find=False)
    found = drafts(lines, body, size[1], first_page=index == 0)
    for draft in found:  # a formula of words the pipeline left unread is kept as text
        for part in draft.parts:
            if part.value is None:
                part.value = " ".join(g.latex or g.ch for g in part.glyphs)
    confidence = round(min(confidences), 4) if confidences else None
    return _page(index, found, size, options.dpi, "ocr", confidence)


def _page(
    index: int,
    found: Sequence[Draft],
    size: tuple[float, float],
    dpi: int,
    source: str,
    confidence: float | None = None,
) -> PageResult:
    scale = dpi / 72.0
    lines = []
    for d in found:
        segments = tuple(
            Segment(kind="math" if p.kind == "math" else "text", value=p.value or "")
            for p in d.parts
            if p.value
        )
        x0, y0, x1, y1 = _box(d.glyphs)
        box = (
            int(x0 * scale),
            int(y0 * scale),
            int((x1 - x0) * scale) + 1,
            int((y1 - y0) * scale) + 1,
        )
        lines.append(
            PageLine(
                kind=d.kind,
                segments=segments,
                box=box,
                column=max(d.column, 0),
                block=d.block,
                font_size=round(d.size, 2),
                level=d.level,
                tag=d.tag,
                confidence=confidence,
            )
        )
    width, height = size
    return PageResult(
        page=index + 1,
        width=int(width * scale),
        height=int(height * scale),
        dpi=dpi,
        source=source,
        lines=tuple(lines),
    )
