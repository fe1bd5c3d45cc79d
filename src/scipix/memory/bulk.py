"""Many entries at once: :func:`add_many` (one transaction, one index batch) and :func:`purge`
(hard deletes, for caches' TTL and size caps)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from scipix.errors import InputError
from scipix.memory.entry import new_uids
from scipix.memory.index import Vector, VectorIndex
from scipix.memory.vectors import allocate, release

if TYPE_CHECKING:
    from scipix.memory.store import MemoryStore

#: From this many entries an ``add_many`` adds them to the HNSW index in a worker thread while
#: it inserts their rows (usearch releases the GIL): SQLite's ~0.05 ms an entry at 1 M then
#: overlaps the index's ~0.37 ms of CPU instead of adding to it.
OVERLAP_FROM = 1024


class _Adding(threading.Thread):
    """``index.add(ids, matrix)`` in a thread of its own; :meth:`result` joins it and raises
    what it raised."""

    def __init__(self, index: VectorIndex, ids: list[int], matrix: Vector) -> None:
        super().__init__(name="scipix-index-add", daemon=True)
        self.index, self.ids, self.matrix = index, ids, matrix
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.index.add(self.ids, self.matrix)
        except BaseException as exc:  # handed to the caller by result()
            self.error = exc

    def result(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error


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
    with store._lock:
        index = store._index(kind)
        adding: _Adding | None = None
        committed = False
        try:
            with store._write() as db:
                first = store._next_seq(db, n) - n + 1
                start = int(db.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()[0])
                ids = list(range(start + 1, start + 1 + n))
                slots = allocate(db, kind, n)
                if n >= OVERLAP_FROM:  # the HNSW add (GIL-free) beside the rows' insert
                    adding = _Adding(index, ids, matrix)
                _insert(db, ids, kind, scope, payloads, matrix, now, first, slots)
            committed = True
            if adding is not None:
                adding.result()
            else:
                index.add(ids, matrix)
        except BaseException:
            if adding is not None and not committed:
                adding.join()
                index.remove(ids)  # the rows were rolled back: so are their vectors
            raise
        store._file(kind).write(ids, slots, matrix)
        if store._seen == first - 1:
            store._seen = first + n - 2
        store._changed(kind, first + n - 1, n)
    return ids


def _insert(
    db: sqlite3.Connection,
    ids: list[int],
    kind: str,
    scope: str,
    payloads: Sequence[Mapping[str, Any]],
    matrix: Vector,
    now: float,
    first: int,
    slots: list[int],
) -> None:
    uids = new_uids(len(ids))
    db.executemany(
        "INSERT INTO entries(id, uid, kind, scope, key, payload, vector, created, updated, "
        "deleted, seq, slot) VALUES (?,?,?,?,NULL,?,?,?,?,0,?,?)",
        (
            (
                entry_id,
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
            for i, entry_id in enumerate(ids)
        ),
    )


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
