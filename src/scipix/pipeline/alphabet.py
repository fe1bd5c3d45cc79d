"""Which of Mathpix's alphabets a result's text uses (``detected_alphabets``).

Mathpix names twelve: ``en`` (Latin), ``hi`` (Devanagari), ``zh`` (Chinese characters), ``ja``
(kana), ``ko`` (Hangul), ``ru`` (Cyrillic), ``th`` (Thai), ``ta`` (Tamil), ``te`` (Telugu),
``gu`` (Gujarati), ``bn`` (Bengali) and ``vi`` (the letters only Vietnamese adds to Latin). They
are told from the characters read: prose as it is, LaTeX without its command names (``\\frac``
is no English, the ``x`` of ``x^{2}`` and the words of ``\\text{if}`` are Latin). Chinese
characters beside kana are Japanese kanji.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scipix.schema import DetectedAlphabets

#: Unicode ranges (first, last code point) of each alphabet.
_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "hi": ((0x0900, 0x097F), (0xA8E0, 0xA8FF)),
    "zh": ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FFFF)),
    "ja": ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)),
    "ko": ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)),
    "ru": ((0x0400, 0x052F),),
    "th": ((0x0E00, 0x0E7F),),
    "ta": ((0x0B80, 0x0BFF),),
    "te": ((0x0C00, 0x0C7F),),
    "gu": ((0x0A80, 0x0AFF),),
    "bn": ((0x0980, 0x09FF),),
    "vi": ((0x1EA0, 0x1EF9),),  # Latin letters with Vietnamese tone marks (ạ, ế, ữ …)
}
#: Vietnamese letters outside that block (the others also belong to other languages).
_VIETNAMESE = frozenset("ăĂđĐơƠưƯ")
_COMMAND = re.compile(r"\\[A-Za-z]+")


def alphabet_of(char: str) -> str | None:
    """The alphabet ``char`` belongs to, or None (digits, symbols, Greek …)."""
    if char in _VIETNAMESE:
        return "vi"
    point = ord(char)
    for name, ranges in _RANGES.items():
        if any(first <= point <= last for first, last in ranges):
            return name
    if char.isalpha() and point < 0x0250:  # ASCII, Latin-1 and Latin Extended letters
        return "en"
    return None


def detect_alphabets(texts: Iterable[str]) -> DetectedAlphabets:
    """The alphabets used by ``texts`` (prose lines and LaTeX)."""
    found: set[str] = set()
    for text in texts:
        for char in _COMMAND.sub(" ", text):
            name = alphabet_of(char)
            if name is not None:
                found.add(name)
    if "ja" in found:
        found.discard("zh")  # kanji, not Chinese
    return DetectedAlphabets(**dict.fromkeys(found, True))
