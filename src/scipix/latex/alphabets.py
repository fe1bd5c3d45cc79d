"""Styled letters as Unicode Mathematical Alphanumeric Symbols (``\\mathbb{R}`` -> ``ℝ``).

MathML Core only knows ``mathvariant="normal"``; every other font of a letter or digit is
written with its own code point, which is what :func:`styled` returns.
"""

from __future__ import annotations

# variant -> (first capital, first small letter, first digit or 0)
_STARTS: dict[str, tuple[int, int, int]] = {
    "bold": (0x1D400, 0x1D41A, 0x1D7CE),
    "italic": (0x1D434, 0x1D44E, 0),
    "bold-italic": (0x1D468, 0x1D482, 0x1D7CE),
    "script": (0x1D49C, 0x1D4B6, 0),
    "bold-script": (0x1D4D0, 0x1D4EA, 0x1D7CE),
    "fraktur": (0x1D504, 0x1D51E, 0),
    "double-struck": (0x1D538, 0x1D552, 0x1D7D8),
    "bold-fraktur": (0x1D56C, 0x1D586, 0x1D7CE),
    "sans-serif": (0x1D5A0, 0x1D5BA, 0x1D7E2),
    "sans-serif-bold": (0x1D5D4, 0x1D5EE, 0x1D7EC),
    "sans-serif-italic": (0x1D608, 0x1D622, 0x1D7E2),
    "monospace": (0x1D670, 0x1D68A, 0x1D7F6),
}
# Letters that live in the Letterlike Symbols block instead.
_HOLES: dict[tuple[str, str], str] = {
    ("italic", "h"): "ℎ",
    ("script", "B"): "ℬ",
    ("script", "E"): "ℰ",
    ("script", "F"): "ℱ",
    ("script", "H"): "ℋ",
    ("script", "I"): "ℐ",
    ("script", "L"): "ℒ",
    ("script", "M"): "ℳ",
    ("script", "R"): "ℛ",
    ("script", "e"): "ℯ",
    ("script", "g"): "ℊ",
    ("script", "o"): "ℴ",
    ("fraktur", "C"): "ℭ",
    ("fraktur", "H"): "ℌ",
    ("fraktur", "I"): "ℑ",
    ("fraktur", "R"): "ℜ",
    ("fraktur", "Z"): "ℨ",
    ("double-struck", "C"): "ℂ",
    ("double-struck", "H"): "ℍ",
    ("double-struck", "N"): "ℕ",
    ("double-struck", "P"): "ℙ",
    ("double-struck", "Q"): "ℚ",
    ("double-struck", "R"): "ℝ",
    ("double-struck", "Z"): "ℤ",
}
_GREEK_CAPITALS = "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡϴΣΤΥΦΧΨΩ"
_GREEK_SMALL = "αβγδεζηθικλμνξοπρςστυφχψω"
_GREEK_STARTS: dict[str, tuple[int, int]] = {
    "bold": (0x1D6A8, 0x1D6C2),
    "italic": (0x1D6E2, 0x1D6FC),
    "bold-italic": (0x1D71C, 0x1D736),
    "sans-serif-bold": (0x1D756, 0x1D770),
}


def styled(char: str, variant: str) -> str:
    """``char`` in ``variant`` (``bold``, ``double-struck`` …), or ``char`` when Unicode has no
    such letter."""
    hole = _HOLES.get((variant, char))
    if hole is not None:
        return hole
    starts = _STARTS.get(variant)
    if starts is not None and char.isascii():
        if "A" <= char <= "Z":
            return chr(starts[0] + ord(char) - ord("A"))
        if "a" <= char <= "z":
            return chr(starts[1] + ord(char) - ord("a"))
        if "0" <= char <= "9" and starts[2]:
            return chr(starts[2] + ord(char) - ord("0"))
        return char
    greek = _GREEK_STARTS.get(variant)
    if greek is not None:
        index = _GREEK_CAPITALS.find(char)
        if index >= 0:
            return chr(greek[0] + index)
        index = _GREEK_SMALL.find(char)
        if index >= 0:
            return chr(greek[1] + index)
    return char


def styled_text(text: str, variant: str | None) -> str:
    if not variant or variant == "normal":
        return text
    return "".join(styled(char, variant) for char in text)
