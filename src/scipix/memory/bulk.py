"""Many entries at once: :func:`add_many` (one transaction, one index batch) and :func:`purge`
(hard deletes, for caches' TTL and size caps)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from scipix.errors import InputError
from scipix.memory.entry import new_uids
from scipix.memory.index import Vector
from scipix.memory.vectors import allocate, release

if TYPE_CHECKING:
    from scipix.memory.store import MemoryStore


def add_many(
    store: MemoryStore,
    kind: str,
    vectors: Vector,
    payloads: Sequence[Mapping[str, Any]],
    *,
    scope: str,
) -> list[int]:
    """See :meth:`MemoryStore.add_many`."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or len(matrix) != len(payloads):
        raise InputError("add_many needs an (n, d) array of vectors and n payloads")
    if not len(matrix):
        return []
    store._vector(kind, matrix[0])  # the kind's name and dimension
    if not np.isfinite(matrix).all() or not np.abs(matrix).sum(axis=1).all():
        raise InputError(f"memory kind {kind!r}: a vector is zero or not finite")
    n, now = len(matrix), time.time()
    with store._lock, store._write() as db:
        first = store._next_seq(db, n) - n + 1
        start = int(db.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()[0]) + 1
        slots = allocate(db, kind, n)
        uids = new_uids(n)
        db.executemany(
            "INSERT INTO entries(id, uid, kind, scope, key, payload, vector, created, updated, "
            "deleted, seq, slot) VALUES (?,?,?,?,NULL,?,?,?,?,0,?,?)",
            (
                (
                    start + i,
                    uids[i],
                    kind,
                    scope,
                    json.dumps(dict(payloads[i])),
                    matrix[i].tobytes(),
                    now,
                    now,
                    first + i,
                    slots[i],
                )
                for i in range(n)
            ),
        )
    ids = list(range(start, start + n))
    with store._lock:
        store._index(kind).add(ids, matrix)
        store._file(kind).write(ids, slots, matrix)
        if store._seen == first - 1:
            store._seen = first + n - 2
        store._changed(kind, first + n - 1, n)
    return ids


def purge(
    store: MemoryStore, kind: str, *, older_than: float | None = None, keep: int | None = None
) -> int:
    """See :meth:`MemoryStore.purge`."""
    with store._lock:
        ids: set[int] = set()
        if older_than is not None:
            ids |= store._ids(
                "SELECT id FROM entries WHERE kind=? AND updated<?", (kind, older_than)
            )
        if keep is not None:
            ids |= store._ids(
                "SELECT id FROM entries WHERE kind=? AND deleted=0 "
                "ORDER BY updated DESC LIMIT -1 OFFSET ?",
                (kind, keep),
            )
        if not ids:
            return 0
        gone = sorted(ids)
        with store._write() as db:
            slots: list[int | None] = []
            for start in range(0, len(gone), 500):
                chunk = gone[start : start + 500]
                marks = ",".join("?" * len(chunk))
                sql = f"DELETE FROM entries WHERE id IN ({marks}) RETURNING slot"
                slots.extend(r[0] for r in db.execute(sql, chunk).fetchall())
            release(db, kind, slots)
        if kind in store._files:
            store._files[kind].forget(gone)
        if kind in store._indexes:
            store._indexes[kind].remove(gone)
            store._unsaved[kind] = store._unsaved.get(kind, 0) + len(ids)
        return len(ids)
