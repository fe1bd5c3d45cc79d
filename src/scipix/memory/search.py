"""Finding stored readings again: by formula (similar and *equivalent*) or by image.

By formula: the query's LaTeX embedding finds the nearest readings (kind ``reading``); readings
with the query's canonical form are found by their stored normal form whatever their embedding;
the top ``check_top`` candidates are then checked, at once, with
:func:`scipix.latex.equivalence.equivalent` (same canonical form, or SymPy finds the difference
is zero, each in a child process killed after ``timeout_s``). Equivalent readings come first (exact
before symbolic), then the others by similarity.

By image: the image embedding finds the nearest cached results (kind ``result``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from scipix.latex.equivalence import equivalent
from scipix.latex.normalize import NormalizeOptions, normalize
from scipix.memory.embedding import latex_embedding
from scipix.memory.entry import Hit
from scipix.memory.index import Vector
from scipix.memory.store import MemoryStore

#: The store's kind for readings (LaTeX embeddings of every recognized formula).
READING = "reading"
#: The store's kind for cached results (image embeddings).
RESULT = "result"
_CANONICAL = NormalizeOptions.for_labels()

Match = Literal["exact", "symbolic", "similar"]


@dataclass(frozen=True)
class Found:
    """One stored reading found: its entry id, similarity, how it matches, LaTeX and payload."""

    id: int
    score: float
    match: Match
    latex: str
    payload: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        fields = ("request_id", "time", "pixels")
        extra = {k: self.payload[k] for k in fields if k in self.payload}
        return {
            "id": self.id,
            "score": round(self.score, 4),
            "match": self.match,
            "latex": self.latex,
            **extra,
        }


def canonical(latex: str) -> str:
    """The canonical form readings are compared by; raises LatexError for invalid LaTeX."""
    return normalize(latex, _CANONICAL)


def search_formula(
    store: MemoryStore,
    latex: str,
    k: int,
    *,
    scope: str | None,
    dim: int,
    check_top: int = 3,
    timeout_s: float = 5.0,
) -> list[Found]:
    """The ``k`` stored readings most like ``latex`` (see the module docstring); raises
    LatexError for a query that is not valid LaTeX."""
    normal = canonical(latex)
    vector = latex_embedding(latex, dim)
    if not vector.any():
        return []
    hits = store.search(READING, vector, max(k * 3, 20), scope=scope)
    same = store.search(READING, vector, k, scope=scope, where={"normal": normal})
    seen: dict[int, Hit] = {h.id: h for h in same}
    for hit in hits:
        seen.setdefault(hit.id, hit)
    ranked = sorted(seen.values(), key=lambda h: -h.score)
    texts = [str(h.payload.get("latex", "")) for h in ranked]
    to_check = [i for i, h in enumerate(ranked[:check_top]) if h.payload.get("normal") != normal]
    with ThreadPoolExecutor(max_workers=max(1, len(to_check))) as pool:
        verdicts = dict(
            zip(
                to_check,
                pool.map(lambda i: equivalent(latex, texts[i], timeout_s=timeout_s), to_check),
                strict=True,
            )
        )
    found = []
    for i, hit in enumerate(ranked):
        match: Match = "similar"
        verdict = verdicts.get(i)
        if hit.payload.get("normal") == normal:
            match = "exact"
        elif verdict is not None and verdict.equal:
            match = "exact" if verdict.level == "exact" else "symbolic"
        found.append(Found(hit.id, hit.score, match, texts[i], hit.payload))
    order = {"exact": 0, "symbolic": 1, "similar": 2}
    found.sort(key=lambda f: (order[f.match], -f.score))
    return found[:k]


def search_image(
    store: MemoryStore, embedding: Vector, k: int, *, scope: str | None
) -> list[Found]:
    """The ``k`` cached results whose images are nearest ``embedding``."""
    hits = store.search(RESULT, embedding, k, scope=scope)
    return [
        Found(h.id, h.score, "similar", str(h.payload.get("latex") or ""), h.payload) for h in hits
    ]
