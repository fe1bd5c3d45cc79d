"""``VectorFile``: a kind's full vectors, float16 and memory-mapped, for the re-rank.

An approximate index (projected or i8/f16) hands ``rerank`` times k candidates to a re-rank by
cosine with the full vectors; fetched from SQLite they cost a random page read each (about 40 per
query, most of a query's time at 1 M entries). So each kind also keeps its live vectors in
``<kind>.vectors``: row ``slot`` is the entry's unit vector as float16. SQLite records every
live entry's ``slot`` (unique per kind, assigned in the writing transaction, a freed slot is
reused), so every process writes the same bytes at the same place: rows are written with
``pwrite`` after the commit, the file only ever grows, and several processes share it.

Like the index the file is a cache of SQLite. Saving an index flushes the file and records in
``kinds.vseq`` the change up to which it is complete; opening the store checks it (its length
and a sample of rows against the database), replays the later changes, and rewrites it from
SQLite, with a warning, when it is missing, short or does not match. The re-rank only orders
the candidates: the scores a search returns are exact cosines of the f32 vectors in SQLite
(:func:`scipix.memory.lookup.approximate_search`), so a damaged row can cost recall, never a
wrong score.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
#: How far (in cosine) a float16 row's score may be from the exact one: each component is off by
#: at most 2**-11 of itself, so a dot product of unit vectors by at most 2**-11 (with room).
MARGIN = 1e-3
#: Rows compared with the database when a file is opened.
CHECKED = 256


class VectorFile:
    """Rows of float16 unit vectors at the slots SQLite assigns; ``id`` → ``slot`` in memory."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path = path
        self.dim = dim
        self.row_bytes = 2 * dim
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        self._view: npt.NDArray[np.float16] | None = None
        self._slot_of = np.full(0, -1, dtype=np.int64)

    def close(self) -> None:
        self._view = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    @property
    def rows(self) -> int:
        """Whole rows the file holds now."""
        return os.fstat(self._fd).st_size // self.row_bytes

    def write(self, ids: Sequence[int], slots: Sequence[int], vectors: Vector) -> None:
        """Write ``vectors`` (as unit float16) at ``slots`` and remember each id's slot."""
        if len(ids) == 1:  # the common case, kept short (an insert costs ~10 µs here)
            row = np.asarray(vectors, dtype=np.float32).reshape(self.dim)
            half = (row / np.sqrt(row @ row)).astype(np.float16)
            _pwrite(self._fd, half.tobytes(), int(slots[0]) * self.row_bytes)
            if 0 <= ids[0] < len(self._slot_of):
                self._slot_of[ids[0]] = slots[0]
            else:
                self.remember(ids, slots)
            return
        if not len(ids):
            return
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        halves = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float16)
        where = np.asarray(slots, dtype=np.int64)
        order = np.argsort(where, kind="stable")
        start = 0
        for end in range(1, len(order) + 1):  # one pwrite per run of consecutive slots
            if end == len(order) or where[order[end]] != where[order[end - 1]] + 1:
                run = order[start:end]
                _pwrite(self._fd, halves[run].tobytes(), int(where[run[0]]) * self.row_bytes)
                start = end
        self.remember(ids, where)

    def remember(self, ids: Sequence[int], slots: Sequence[int] | npt.NDArray[np.int64]) -> None:
        """Note the slots of ``ids`` (rows already in the file)."""
        keys = np.asarray(ids, dtype=np.int64)
        if not len(keys):
            return
        top = int(keys.max())
        if top >= len(self._slot_of):
            grown = np.full(max(top + 1, 2 * len(self._slot_of)), -1, dtype=np.int64)
            grown[: len(self._slot_of)] = self._slot_of
            self._slot_of = grown
        self._slot_of[keys] = np.asarray(slots, dtype=np.int64)

    def forget(self, ids: Sequence[int]) -> None:
        """The entries ``ids`` are gone: their rows are no longer theirs."""
        keys = np.asarray(ids, dtype=np.int64)
        keys = keys[keys < len(self._slot_of)]
        self._slot_of[keys] = -1

    def slots(self, ids: Sequence[int]) -> npt.NDArray[np.int64]:
        """Each id's slot, -1 where the file has no row for it."""
        keys = np.asarray(ids, dtype=np.int64)
        found = np.full(len(keys), -1, dtype=np.int64)
        inside = keys < len(self._slot_of)
        found[inside] = self._slot_of[keys[inside]]
        return found

    def scores(self, ids: Sequence[int], query: Vector) -> npt.NDArray[np.float32]:
        """The float16 cosine of each of ``ids`` with ``query``; NaN where there is no row."""
        slots = self.slots(ids)
        out = np.full(len(slots), np.nan, dtype=np.float32)
        have = slots >= 0
        if not have.any():
            return out
        view = self._rows(int(slots[have].max()) + 1)
        if view is None:
            return out
        have &= slots < len(view)
        unit = np.asarray(query, dtype=np.float32) / float(np.linalg.norm(query))
        out[have] = view[slots[have]].astype(np.float32) @ unit
        return out

    def row(self, slot: int) -> npt.NDArray[np.float16] | None:
        """The stored row ``slot`` (None beyond the end of the file)."""
        view = self._rows(slot + 1)
        return None if view is None or slot >= len(view) else np.array(view[slot])

    def flush(self) -> None:
        os.fsync(self._fd)

    def _rows(self, needed: int) -> npt.NDArray[np.float16] | None:
        """A read-only map of the file holding at least ``needed`` rows when it has them."""
        if self._view is None or len(self._view) < needed:
            rows = self.rows
            self._view = (
                np.memmap(self.path, dtype=np.float16, mode="r", shape=(rows, self.dim))
                if rows
                else None
            )
        return self._view


def _pwrite(fd: int, data: bytes, offset: int) -> None:
    """Write ``data`` at ``offset`` (seek and write where there is no ``pwrite``: the store's
    lock already serializes its writers)."""
    if hasattr(os, "pwrite"):
        os.pwrite(fd, data, offset)
    else:
        os.lseek(fd, offset, os.SEEK_SET)
        os.write(fd, data)


def allocate(db: sqlite3.Connection, kind: str, n: int) -> list[int]:
    """``n`` free slots of ``kind`` (freed ones first), inside the caller's transaction."""
    slots = [
        int(r[0])
        for r in db.execute(
            "SELECT slot FROM free_slots WHERE kind=? ORDER BY slot LIMIT ?", (kind, n)
        )
    ]
    if slots:
        db.executemany("DELETE FROM free_slots WHERE kind=? AND slot=?", [(kind, s) for s in slots])
    rest = n - len(slots)
    if rest:
        end = int(
            db.execute(
                "UPDATE kinds SET slots=slots+? WHERE kind=? RETURNING slots", (rest, kind)
            ).fetchone()[0]
        )
        slots.extend(range(end - rest, end))
    return slots


def release(db: sqlite3.Connection, kind: str, slots: Sequence[int | None]) -> None:
    """Give ``slots`` back to ``kind``'s free list, inside the caller's transaction."""
    db.executemany(
        "INSERT OR IGNORE INTO free_slots(kind, slot) VALUES (?, ?)",
        [(kind, int(s)) for s in slots if s is not None],
    )
