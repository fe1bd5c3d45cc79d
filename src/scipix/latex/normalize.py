"""The normalizer: one canonical spelling per formula, as a string or as model tokens.

The default :func:`normalize` never changes what TeX renders. It writes every argument and
script in braces (``x^2`` -> ``x^{2}``, ``\\frac12`` -> ``\\frac{1}{2}``), drops the braces TeX
itself ignores (``{x}^{2}`` -> ``x^{2}``, ``{\\bar{K}}_{a}`` -> ``\\bar{K}_{a}``, ``{{a+b}}``),
unifies synonyms (``\\le`` -> ``\\leq``, ``\\to`` -> ``\\rightarrow``, ``\\lbrace`` -> ``\\{``),
writes ``{a \\over b}`` as ``\\frac{a}{b}``, ``\\operatorname{sin}`` as ``\\sin``, primes as
``'`` (``x^{\\prime}`` -> ``x'``), orders scripts sub-then-sup, removes whitespace that means
nothing and a trailing ``\\\\`` before ``\\end{...}``.

:class:`NormalizeOptions` adds the lossy rewrites a recognizer's labels want (dropping spacing,
style switches and labels, unifying old font switches such as ``{\\bf x}`` -> ``\\mathbf{x}``).

The same writer produces :func:`model_tokens`, the recognizer's vocabulary units:
``normalize(s) == detokenize(model_tokens(s))``.
"""

from __future__ import annotations

from collections.abc import Sequence

from scipix.latex.options import NormalizeOptions
from scipix.latex.parser import parse
from scipix.latex.writer import CACHE_LIMIT, CONTROL_SPACE, TEXT_SPACE, WORD_END, Writer

__all__ = ["NormalizeOptions", "detokenize", "model_tokens", "normalize"]


def model_tokens(src: str, options: NormalizeOptions | None = None) -> list[str]:
    """The canonical form of ``src`` as recognizer vocabulary units (no token holds whitespace).

    Letters and digits are one token each, ``\\begin{pmatrix}`` and ``\\left(`` are one token,
    text inside ``\\text{..}`` is one token per character with ``\\space`` for a space.
    """
    writer = Writer(options)
    writer.write_list(parse(src).items)
    return writer.out


_DETOKENIZED: dict[str, tuple[str, bool]] = {
    TEXT_SPACE: (" ", False),
    CONTROL_SPACE: ("\\ ", False),
}


def detokenize(tokens: Sequence[str]) -> str:
    """Model tokens back to LaTeX, with a space only where TeX needs one (``\\alpha x``)."""
    parts: list[str] = []
    after_word = False
    table = _DETOKENIZED
    for token in tokens:
        entry = table.get(token)
        if entry is None:
            entry = (token, WORD_END.search(token) is not None)
            if len(table) < CACHE_LIMIT:
                table[token] = entry
        text, word = entry
        if after_word and text[:1].isalpha():
            parts.append(" ")
        parts.append(text)
        after_word = word
    return "".join(parts)


def normalize(src: str, options: NormalizeOptions | None = None) -> str:
    """The canonical spelling of ``src``; raises :class:`LatexError` for malformed input.

    ``normalize(normalize(s)) == normalize(s)``; without lossy options the rendering is unchanged.
    """
    return detokenize(model_tokens(src, options))
