"""The two ways a search runs: an exact scan of a small filtered set, or HNSW + post-filter."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from scipix.memory.entry import Hit
from scipix.memory.index import Vector, VectorIndex
from scipix.memory.vectors import MARGIN, VectorFile

if TYPE_CHECKING:
    from scipix.memory.store import MemoryStore

#: A filtered search scans the scope's vectors exactly when it holds at most this many.
EXACT_LIMIT = 1024
#: The most HNSW neighbours a filtered search looks through.
MAX_CANDIDATES = 16_384


def exact_search(
    db: sqlite3.Connection, vec: Vector, k: int, clause: str, args: list[Any]
) -> list[Hit]:
    """The ``k`` entries selected by ``clause`` nearest ``vec``, by scanning them all."""
    rows = db.execute(f"SELECT id, vector, payload FROM entries WHERE {clause}", args)
    found = [(int(i), np.frombuffer(v, np.float32), p) for i, v, p in rows]
    if not found:
        return []
    matrix = np.stack([v for _, v, _ in found])
    norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(vec)) + 1e-12
    scores = matrix @ vec / norms
    order = np.argsort(-scores)[:k]
    return [Hit(found[i][0], float(scores[i]), json.loads(found[i][2])) for i in order]


def approximate_search(
    db: sqlite3.Connection,
    index: VectorIndex,
    vec: Vector,
    k: int,
    clause: str,
    args: list[Any],
    filtered: bool,
    file: VectorFile | None = None,
) -> list[Hit]:
    """HNSW neighbours, kept when ``clause`` selects them; asks for more until ``k`` are kept,
    the whole index was seen or ``MAX_CANDIDATES`` were (a rare filter in a big scope may then
    find fewer than ``k``). An approximate index (i8/f16, or projected) gives ``rerank`` times
    the candidates, ranked again by cosine with the kind's ``file`` of full vectors
    (:func:`rerank_rows`; without one, with the f32 vectors SQLite keeps)."""
    rerank = 1 if index.exact else max(1, index.params.rerank)
    want = max(k * 4, 32) if filtered else k
    while True:
        near = index.search(vec, want * rerank)
        ids = [i for i, _ in near]
        if rerank > 1 and file is not None:
            scored, rows = rerank_rows(db, file, vec, ids, k, clause, args)
        else:
            rows = fetch_rows(db, ids, clause, args, vectors=rerank > 1)
            scored = rescore(vec, rows) if rerank > 1 else [(i, s) for i, s in near if i in rows]
        if len(scored) >= k or want * rerank >= min(len(index), MAX_CANDIDATES):
            return [Hit(i, s, json.loads(rows[i][0])) for i, s in scored[:k]]
        want *= 4


def rerank_rows(
    db: sqlite3.Connection,
    file: VectorFile,
    vec: Vector,
    ids: list[int],
    k: int,
    clause: str,
    args: list[Any],
) -> tuple[list[tuple[int, float]], dict[int, tuple[str, bytes | None]]]:
    """``ids`` ranked by their float16 rows in ``file``; the rows ``clause`` selects are
    fetched from SQLite best first, until ``k`` are kept and no later candidate can beat the
    k-th exact score by more than the float16 error (:data:`MARGIN`). Returns them ranked by
    exact cosine, and the rows."""
    approx = file.scores(ids, vec)
    approx[np.isnan(approx)] = np.inf  # no row in the file (yet): fetched, scored exactly
    order = np.argsort(-approx, kind="stable")
    rows: dict[int, tuple[str, bytes | None]] = {}
    scored: list[tuple[int, float]] = []
    pos = 0
    while pos < len(order):
        if len(rows) < k:
            take = k - len(rows)
        else:
            floor = scored[k - 1][1] - MARGIN
            take = int(np.count_nonzero(approx[order[pos:]] >= floor))
            if take == 0:
                break
        chunk = [ids[j] for j in order[pos : pos + take]]
        rows.update(fetch_rows(db, chunk, clause, args, vectors=True))
        scored = rescore(vec, rows)
        pos += take
    return scored, rows


def rescore(vec: Vector, rows: dict[int, tuple[str, bytes | None]]) -> list[tuple[int, float]]:
    """The rows' ids with their exact cosine to ``vec``, best first."""
    ids = [i for i, (_, blob) in rows.items() if blob is not None]
    if not ids:
        return []
    matrix = np.stack([np.frombuffer(rows[i][1] or b"", dtype=np.float32) for i in ids])
    norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(vec)) + 1e-12
    scores = matrix @ vec / norms
    order = np.argsort(-scores, kind="stable")
    return [(ids[j], float(scores[j])) for j in order]


def fetch_rows(
    db: sqlite3.Connection, ids: list[int], clause: str, args: list[Any], vectors: bool
) -> dict[int, tuple[str, bytes | None]]:
    """The payload text (and, with ``vectors``, the vector) of those of ``ids`` that
    ``clause`` selects."""
    found: dict[int, tuple[str, bytes | None]] = {}
    columns = "id, payload, vector" if vectors else "id, payload, NULL"
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            # NOT INDEXED: look the ids up by rowid, never scan an index of the kind
            f"SELECT {columns} FROM entries NOT INDEXED WHERE id IN ({marks}) AND {clause}",
            [*chunk, *args],
        )
        found.update((int(i), (p, v)) for i, p, v in rows)
    return found


def describe(store: MemoryStore) -> dict[str, Any]:
    """What :meth:`MemoryStore.stats` reports."""
    kinds: dict[str, Any] = {}
    for kind, dim in store.kinds().items():
        rows = store.db.execute(
            "SELECT scope, deleted, count(*) FROM entries WHERE kind=? GROUP BY 1, 2", (kind,)
        ).fetchall()
        scopes = {str(s): int(n) for s, d, n in rows if not d}
        index = store._indexes.get(kind)
        projection = store._projections.get(kind)
        kinds[kind] = {
            "dim": dim,
            "projection": (
                {"dims": projection.dims, "variance": round(projection.variance, 4)}
                if projection is not None and index is not None and index.projection is not None
                else None
            ),
            "entries": sum(scopes.values()),
            "indexed": len(index) if index is not None else 0,
            "tombstones": sum(int(n) for _, d, n in rows if d),
            "scopes": scopes,
        }
    return {"index": asdict(store.params), "kinds": kinds}
