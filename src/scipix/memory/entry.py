"""What the memory holds and answers: :class:`Entry` (one stored vector and its payload) and
:class:`Hit` (one search result)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scipix.memory.index import Vector


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
