"""A PDF page's text layer: every glyph with its font, size and box (PDFium's text page).

Born-digital papers carry their text exactly; the fonts say which glyphs are math: TeX's math
fonts (CMMI, CMSY, CMEX, MSBM, MSAM, EUFM, …, and their Latin Modern / STIX / Cambria Math
kin) or characters that only occur in mathematics (Greek, operators, arrows, mathematical
alphanumerics) are a strong signal of a formula.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from scipix.documents.source import OpenedDocument

#: Font names (subset prefix removed) of math fonts.
MATH_FONT = re.compile(
    r"^(CMMI|CMSY|CMEX|CMBSY|MSBM|MSAM|EUFM|EUFB|EUSM|EURM|RSFS|LMMATH|LATINMODERNMATH|"
    r"STIXMATH|STIXTWOMATH|CAMBRIAMATH|XITSMATH|TXSY|TXEX|PXSY|PXEX|TXMI|PXMI|MTMI|MTSY|"
    r"ESINT|WASY|STMARY|SYMBOL)",
    re.IGNORECASE,
)
#: Font names of bold text (headings).
BOLD_FONT = re.compile(r"(CMBX|BOLD|-BD|BLACK|HEAVY|SEMIBOLD)", re.IGNORECASE)

#: Unicode ranges only mathematics uses: Greek, letterlike symbols, arrows, operators,
#: miscellaneous technical, mathematical alphanumerics.
_MATH_RANGES = (
    (0x0391, 0x03F5),
    (0x2100, 0x214F),
    (0x2190, 0x21FF),
    (0x2200, 0x22FF),
    (0x2308, 0x230B),
    (0x27C0, 0x27EF),
    (0x2980, 0x2AFF),
    (0x1D400, 0x1D7FF),
)


def is_math_char(ch: str) -> bool:
    if len(ch) != 1:
        return False
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _MATH_RANGES)


#: The font of the "glyphs" of a page read by OCR: each is a whole word (or formula).
OCR_FONT = "OCR"


@dataclass(frozen=True)
class Glyph:
    """One glyph: its character, font, size (points) and box (points, y down from the top).
    A page read by OCR has one "glyph" per word or formula: ``ch`` its text, or ``latex``."""

    ch: str
    font: str
    size: float
    x0: float
    y0: float
    x1: float
    y1: float
    latex: str | None = None

    @property
    def math(self) -> bool:
        if self.latex is not None:
            return True
        return bool(MATH_FONT.match(self.font)) or is_math_char(self.ch)

    @property
    def bold(self) -> bool:
        return bool(BOLD_FONT.search(self.font))

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def mid(self) -> float:
        return (self.y0 + self.y1) / 2


#: Spaces and line breaks PDFium makes up, and its marker of a hyphen at a line's end.
_SKIPPED = frozenset({0, 9, 10, 13, 32, 0xA0, 0xFFFE})
_SOFT_HYPHEN = 2


def page_glyphs(doc: OpenedDocument, index: int) -> tuple[list[Glyph], float, float]:
    """Page ``index``'s visible glyphs in PDFium's order (spaces and line breaks left out),
    and the page's width and height in points."""
    assert doc.pdf is not None
    with doc.lock:
        page = doc.load_page(index)
        try:
            width, height = page.get_size()
            textpage = page.get_textpage()
            try:
                glyphs = _glyphs(textpage, height)
            finally:
                textpage.close()
        finally:
            page.close()
    return glyphs, float(width), float(height)


def _glyphs(textpage: pdfium.PdfTextPage, page_height: float) -> list[Glyph]:
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    buffer = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    left, right = ctypes.c_double(), ctypes.c_double()
    bottom, top = ctypes.c_double(), ctypes.c_double()
    fonts: dict[bytes, str] = {}
    found = []
    for i in range(count):
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        if code in _SKIPPED or 0xD800 <= code <= 0xDFFF:
            continue
        ch = "-" if code == _SOFT_HYPHEN else chr(code) if code > 31 else "\ufffd"
        ok = pdfium_c.FPDFText_GetCharBox(
            raw, i, ctypes.byref(left), ctypes.byref(right), ctypes.byref(bottom), ctypes.byref(top)
        )
        if not ok or right.value <= left.value:
            continue
        n = pdfium_c.FPDFText_GetFontInfo(raw, i, buffer, len(buffer), ctypes.byref(flags))
        key = buffer.raw[: max(n - 1, 0)]
        font = fonts.get(key)
        if font is None:
            font = fonts[key] = key.decode("latin-1").split("+", 1)[-1]
        size = pdfium_c.FPDFText_GetFontSize(raw, i)
        y0, y1 = page_height - top.value, page_height - bottom.value
        if y1 <= y0:  # a flat glyph (a minus sign, a rule): give it a hair of height
            y0, y1 = y0 - 0.25, y1 + 0.25
        found.append(Glyph(ch, font, float(size), left.value, y0, right.value, y1))
    return found
