"""Frequent sub-expressions of the stored readings (`scipix memory patterns`).

Each reading's canonical tokens (the recognizer's vocabulary, spacing and styles dropped) are cut
into every *sub-expression*: a run of 2 to ``max_tokens`` tokens whose braces balance and that
starts with neither a script (``^``, ``_``) nor a brace (a bare argument). A pattern's support
is the number of readings that contain it. Only *closed* patterns are reported: one contained
in a longer pattern of the same support says nothing more and is dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from scipix.latex.normalize import detokenize
from scipix.memory.embedding import formula_tokens

_OPEN, _CLOSE = "{", "}"
_NO_START = frozenset({"^", "_", "{", "}", "&", "\\\\"})
_NO_END = frozenset({"^", "_", "{", "&", "\\\\"})


@dataclass(frozen=True)
class Pattern:
    """A frequent sub-expression: its LaTeX, how many readings hold it and its length."""

    latex: str
    support: int
    tokens: int

    def to_json(self) -> dict[str, object]:
        return {"latex": self.latex, "support": self.support, "tokens": self.tokens}


def sub_expressions(tokens: list[str], max_tokens: int) -> set[tuple[str, ...]]:
    """Every balanced run of 2..``max_tokens`` tokens (see the module docstring)."""
    found: set[tuple[str, ...]] = set()
    for start, first in enumerate(tokens):
        if first in _NO_START:
            continue
        depth = 0
        for end in range(start, min(len(tokens), start + max_tokens)):
            token = tokens[end]
            depth += (token == _OPEN) - (token == _CLOSE)
            if depth < 0:
                break
            if depth == 0 and end > start and token not in _NO_END:
                found.add(tuple(tokens[start : end + 1]))
    return found


def mine(
    readings: Iterable[str], *, min_support: int = 2, max_tokens: int = 12, top: int = 20
) -> list[Pattern]:
    """The ``top`` closed sub-expressions held by at least ``min_support`` readings, most
    supported first (longer first among equals)."""
    support: Counter[tuple[str, ...]] = Counter()
    for latex in readings:
        support.update(sub_expressions(formula_tokens(latex), max_tokens))
    frequent = {p: n for p, n in support.items() if n >= min_support}
    absorbed: set[tuple[str, ...]] = set()
    for pattern, n in frequent.items():
        for inner in sub_expressions(list(pattern), max_tokens):
            if inner != pattern and frequent.get(inner) == n:
                absorbed.add(inner)
    closed = [p for p in frequent if p not in absorbed]
    closed.sort(key=lambda p: (-frequent[p], -len(p), p))
    return [Pattern(detokenize(p), frequent[p], len(p)) for p in closed[:top]]
