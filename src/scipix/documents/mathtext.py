"""Inline math straight from the text layer, where its glyphs say all there is to say.

A run of math glyphs on one baseline, with at most sub- and superscripts (smaller glyphs set
above or below the baseline), is written as LaTeX from the characters and fonts alone:
``x^{2}+\\alpha=\\beta_{1}``, ``\\mathbb{R}``. A run with something the text layer cannot show
(a fraction or radical's rule, a big operator, stacked glyphs, a character without a LaTeX
spelling) gives ``None``: its crop goes to the recognizer.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence

from scipix.documents.textlayer import Glyph
from scipix.errors import ScipixError
from scipix.latex.normalize import normalize
from scipix.latex.symbols import FUNCTION_NAMES, UNICODE_TO_COMMAND

#: Upright function names TeX sets in the roman font inside math.
FUNCTIONS = FUNCTION_NAMES
#: Glyphs only a recognizer reads right: radicals, big operators, and anything set in CMEX.
_STRUCTURE = frozenset("√∑∏∫∮⋃⋂⨁⨂")
_FONT_ALPHABETS = (
    (re.compile(r"^(MSBM|DSROM|BBOLD)", re.I), "\\mathbb"),
    (re.compile(r"^(EUFM|EUFB)", re.I), "\\mathfrak"),
    (re.compile(r"^(RSFS)", re.I), "\\mathscr"),
)
SCRIPT = 0.85


def needs_recognizer(glyphs: Sequence[Glyph]) -> bool:
    """True when the glyphs alone cannot tell the formula (see the module docstring)."""
    if any(g.font.upper().startswith("CMEX") or g.ch in _STRUCTURE for g in glyphs):
        return True
    ordered = sorted(glyphs, key=lambda g: g.x0)
    for a, b in itertools.pairwise(ordered):
        overlap = min(a.x1, b.x1) - max(a.x0, b.x0)
        beside = min(a.y1, b.y1) - max(a.y0, b.y0) > 0.3 * min(a.height, b.height)
        if overlap > 0.5 * min(a.x1 - a.x0, b.x1 - b.x0) and not beside:
            return True  # stacked: a fraction, an accent, limits
    return False


def glyph_latex(g: Glyph) -> str | None:
    """One glyph's LaTeX, or None when it has none."""
    if g.latex is not None:
        return g.latex
    for pattern, command in _FONT_ALPHABETS:
        if pattern.match(g.font) and g.ch.isascii() and g.ch.isalpha():
            return f"{command}{{{g.ch.upper()}}}"
    if g.font.upper().startswith("CMSY") and g.ch.isascii() and g.ch.isupper():
        return f"\\mathcal{{{g.ch}}}"
    if g.ch.isascii():
        return {"{": "\\{", "}": "\\}", "%": "\\%", "#": "\\#", "&": "\\&", "_": "\\_"}.get(
            g.ch, g.ch
        )
    found = UNICODE_TO_COMMAND.get(g.ch)
    if found is None:  # a compatibility spelling: µ (micro) for μ, 𝑥 for x
        plain = unicodedata.normalize("NFKC", g.ch)
        found = plain if plain.isascii() and len(plain) == 1 else UNICODE_TO_COMMAND.get(plain)
    return found


def text_layer_latex(glyphs: Sequence[Glyph]) -> str | None:
    """The LaTeX of a simple run of math glyphs, or None (read its crop instead)."""
    if glyphs and all(g.latex is not None for g in glyphs):  # read by OCR already
        return " ".join(g.latex for g in sorted(glyphs, key=lambda g: g.x0) if g.latex)
    if not glyphs or needs_recognizer(glyphs):
        return None
    ordered = sorted(glyphs, key=lambda g: g.x0)
    main = max(g.size for g in ordered)
    base = [g for g in ordered if g.size >= SCRIPT * main]
    if not base:
        return None
    center = sum(g.mid for g in base) / len(base)
    parts: list[str] = []
    script: list[str] = []
    above = False
    for g in ordered:
        spelled = glyph_latex(g)
        if spelled is None:
            return None
        small = g.size < SCRIPT * main
        if small:
            up = g.mid < center
            if script and up != above:
                parts.append(_script(script, above))
                script = []
            above = up
            script.append(spelled)
            continue
        if script:
            parts.append(_script(script, above))
            script = []
        parts.append(spelled)
    if script:
        parts.append(_script(script, above))
    return _tidy(parts)


def _script(tokens: list[str], above: bool) -> str:
    return ("^{" if above else "_{") + _join(tokens) + "}"


def _join(tokens: list[str]) -> str:
    out = ""
    for token in tokens:
        if out and re.search(r"\\[A-Za-z]+$", out) and re.match(r"[A-Za-z0-9]", token):
            out += " "
        out += token
    return out


def _tidy(parts: list[str]) -> str | None:
    latex = _join(parts)
    for name in FUNCTIONS:
        latex = re.sub(rf"(?<![\\A-Za-z]){name}(?![A-Za-z])", rf"\\{name} ", latex)
    latex = latex.replace(" ^", "^").replace(" _", "_").strip()
    try:
        return normalize(latex)
    except ScipixError:
        return None
