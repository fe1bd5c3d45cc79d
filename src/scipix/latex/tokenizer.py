"""The LaTeX tokenizer: one compiled regular expression, one pass, positions kept.

A token is the smallest unit the rest of :mod:`scipix.latex` (and the recognizer's vocabulary)
works with:

========== ==========================================================================
kind       examples
========== ==========================================================================
begin      ``\\begin{pmatrix}`` (one token, whitespace inside removed)
end        ``\\end{pmatrix}``
left       ``\\left(``, ``\\left\\langle``, ``\\left.`` (the delimiter is part of the token)
right      ``\\right)``, ``\\right.``
middle     ``\\middle|``
command    ``\\frac``, ``\\alpha`` (a control word)
symbol     ``\\,``, ``\\{``, ``\\%``, ``\\ `` (a control symbol)
newline    ``\\\\``
lbrace     ``{``
rbrace     ``}``
sup / sub  ``^`` / ``_``
prime      ``'``
align      ``&``
digit      ``0`` … ``9`` (one token per digit)
letter     ``a`` … ``Z`` (one token per letter; Unicode letters too)
space      a run of whitespace
comment    ``% ...`` up to the end of the line
char       anything else: ``+ = ( ) [ ] | , . ; : ! ? / < > * ~ $ #`` and Unicode symbols
========== ==========================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate
from operator import add, sub

from scipix.errors import LatexError

#: Longest accepted input (characters); longer inputs are refused at once.
MAX_CHARS = 100_000

_PIECE = re.compile(
    r"\\(?:begin|end)\s*\{\s*[A-Za-z]+\*?\s*\}"
    r"|\\(?:left|right|middle)(?![A-Za-z])\s*(?:\\[A-Za-z]+|\\[^A-Za-z\s]|[^\s\\{}%])?"
    r"|\\[A-Za-z]+"
    r"|\\[^A-Za-z]?"
    r"|\s+"
    r"|%[^\n]*"
    r"|.",
    re.DOTALL,
)

#: The same tokens, each with the whitespace before it (the parser's fast path).
_SPACED_TOKEN = re.compile(
    r"(\s*)(\\(?:begin|end)\s*\{\s*[A-Za-z]+\*?\s*\}"
    r"|\\(?:left|right|middle)(?![A-Za-z])\s*(?:\\[A-Za-z]+|\\[^A-Za-z\s]|[^\s\\{}%])?"
    r"|\\[A-Za-z]+"
    r"|\\[^A-Za-z]?"
    r"|\S)",
    re.DOTALL,
)
_SQUEEZED = frozenset({"\\b", "\\e", "\\l", "\\r", "\\m"})


def check_length(src: str) -> None:
    """Refuse inputs longer than :data:`MAX_CHARS` before any work is done on them."""
    if len(src) > MAX_CHARS:
        raise LatexError(
            f"formula is too long ({len(src)} characters; the limit is {MAX_CHARS})",
            position=MAX_CHARS,
            issue="too_long",
        )


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its text (whitespace inside ``\\begin{..}``/``\\left(`` removed), its kind and
    its span ``[start, end)`` in the source string."""

    text: str
    kind: str
    start: int
    end: int


class Lexed:
    """The tokens the parser reads: whitespace and comments dropped, positions and the
    "whitespace came before" flag (which text mode needs) kept in parallel lists."""

    __slots__ = ("spaced", "src", "starts", "texts")

    def __init__(self, src: str) -> None:
        check_length(src)
        self.src = src
        if "%" in src:
            self.lex_with_comments(src)
            return
        pairs = _SPACED_TOKEN.findall(src)
        spaces: tuple[str, ...] = ()
        texts: tuple[str, ...] = ()
        if pairs:
            spaces, texts = zip(*pairs, strict=True)
        lengths = list(map(len, texts))
        ends = list(accumulate(map(add, map(len, spaces), lengths)))
        self.starts = list(map(sub, ends, lengths))
        self.starts.append(len(src))
        self.spaced = list(map(bool, spaces))
        self.spaced.append(len(src) > (ends[-1] if ends else 0))
        self.texts = list(texts)
        if "\\begin" in src or "\\end" in src or "\\left" in src or "\\right" in src:
            self.texts = [_squeeze(t) if t[:2] in _SQUEEZED else t for t in self.texts]
        elif "\\middle" in src:
            self.texts = [_squeeze(t) if t[:2] == "\\m" else t for t in self.texts]

    def lex_with_comments(self, src: str) -> None:
        """The slow path: comments (``%`` to the end of the line) are dropped."""
        pieces = _PIECE.findall(src)
        offsets = list(accumulate(map(len, pieces), initial=0))
        texts: list[str] = []
        starts: list[int] = []
        spaced: list[bool] = []
        space = False
        for k, piece in enumerate(pieces):
            first = piece[0]
            if first.isspace():
                space = True
                continue
            if first == "%":
                continue
            if first == "\\" and len(piece) > 2 and piece[1] in "belrm":
                piece = _squeeze(piece)
            texts.append(piece)
            starts.append(offsets[k])
            spaced.append(space)
            space = False
        starts.append(len(src))
        spaced.append(space)
        self.texts = texts
        self.starts = starts
        self.spaced = spaced


def _squeeze(piece: str) -> str:
    """``\\begin { array }`` -> ``\\begin{array}``, ``\\left (`` -> ``\\left(``."""
    if piece.startswith(("\\begin", "\\end", "\\left", "\\right", "\\middle")):
        return "".join(piece.split())
    return piece


def token_kind(text: str) -> str:
    """The kind of one token's text (see the module docstring)."""
    first = text[0]
    if first == "\\":
        if len(text) == 1:
            return "char"
        second = text[1]
        if second.isascii() and second.isalpha():
            for prefix, kind in _PREFIX_KINDS:
                if text.startswith(prefix) and (
                    prefix[-1] == "{" or len(text) == len(prefix) or not text[len(prefix)].isalpha()
                ):
                    return kind
            return "command"
        return "newline" if second == "\\" else "symbol"
    char_kind = _CHAR_KINDS.get(first)
    if char_kind is not None:
        return char_kind
    if first.isspace():
        return "space"
    if first.isdigit() and first.isascii():
        return "digit"
    if first.isalpha():
        return "letter"
    return "char"


_PREFIX_KINDS = (
    ("\\begin{", "begin"),
    ("\\end{", "end"),
    ("\\left", "left"),
    ("\\right", "right"),
    ("\\middle", "middle"),
)
_CHAR_KINDS = {
    "{": "lbrace",
    "}": "rbrace",
    "^": "sup",
    "_": "sub",
    "'": "prime",
    "&": "align",
    "%": "comment",
}


def tokenize(src: str) -> list[Token]:
    """Split LaTeX source into tokens, whitespace and comments included, positions kept.

    Never raises for odd input except :class:`LatexError` for inputs over :data:`MAX_CHARS`.
    """
    check_length(src)
    tokens: list[Token] = []
    start = 0
    for piece in _PIECE.findall(src):
        end = start + len(piece)
        text = _squeeze(piece) if piece[0] == "\\" and len(piece) > 2 else piece
        tokens.append(Token(text, token_kind(text), start, end))
        start = end
    return tokens
