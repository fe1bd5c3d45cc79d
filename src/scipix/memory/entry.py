"""What the memory holds and answers: :class:`Entry` (one stored vector and its payload) and
:class:`Hit` (one search result)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scipix.memory.index import Vector


def new_uids(n: int) -> list[str]:
    """``n`` fresh entry uids: 32 hex digits, the creation time in nanoseconds first, then 32
    random bits and a counter. Time-ordered, so SQLite's unique index on ``uid`` grows at its
    end (a random UUID dirties a random page of it per insert: at 1 M entries that index no
    longer fits SQLite's cache and each insert pays a page read and a page write); unique across
    processes by the random part."""
    head = f"{time.time_ns():016x}{os.urandom(4).hex()}"
    return [f"{head}{i:08x}" for i in range(n)]


@dataclass(frozen=True)
class Hit:
    """A search result: the entry's id, its cosine similarity to the query and its payload."""

    id: int
    score: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """One stored entry, as :meth:`MemoryStore.get` and :meth:`MemoryStore.entries` give it.

    ``id`` is local to one store; ``uid`` is stable across stores (replication merges by it);
    ``seq`` is the store's change number of the entry's last change; ``vector`` is None for a
    tombstone (``deleted``)."""

    id: int
    uid: str
    kind: str
    scope: str
    key: str | None
    payload: dict[str, Any]
    vector: Vector | None = field(repr=False, compare=False)
    created: float
    updated: float
    deleted: bool
    seq: int

    COLUMNS = "id, uid, kind, scope, key, payload, vector, created, updated, deleted, seq"

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Entry:
        entry_id, uid, kind, scope, key, payload, vector, created, updated, deleted, seq = row
        vec = None if vector is None else np.frombuffer(vector, dtype=np.float32).copy()
        return cls(
            int(entry_id),
            str(uid),
            str(kind),
            str(scope),
            key,
            json.loads(payload),
            vec,
            float(created),
            float(updated),
            bool(deleted),
            int(seq),
        )
