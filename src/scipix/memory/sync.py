"""Merging entries between stores (the replication hook; see :meth:`MemoryStore.entries`).

Last writer wins per ``uid``: an incoming entry replaces the local one when its ``updated`` time
is later (ties broken by the larger ``uid`` of the writer's … here the payload text, so that both
sides pick the same); a tombstone wins the same way. A replication layer (CRDT documents, issue 20)
ships :class:`~scipix.memory.entry.Entry` values and calls :meth:`MemoryStore.merge`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scipix.memory.entry import Entry

if TYPE_CHECKING:
    from scipix.memory.store import MemoryStore


def _wins(incoming: Entry, local: tuple[float, str]) -> bool:
    text = json.dumps(incoming.payload, sort_keys=True)
    return (incoming.updated, text) > local


def merge_entry(store: MemoryStore, entry: Entry) -> bool:
    """Apply ``entry`` to ``store`` if it is newer than what the store has for its uid."""
    with store._lock:
        row = store.db.execute(
            "SELECT id, updated, payload FROM entries WHERE uid=?", (entry.uid,)
        ).fetchone()
        if row is not None and not _wins(entry, (float(row[1]), _sorted(row[2]))):
            return False
        if entry.deleted or entry.vector is None:
            if row is not None:
                store.delete(int(row[0]))
            return row is not None
        vec = store._vector(entry.kind, entry.vector)
        text = json.dumps(entry.payload, ensure_ascii=False, separators=(",", ":"))
        with store._write() as db:
            seq = store._next_seq(db)
            if row is None:
                cur = db.execute(
                    "INSERT INTO entries(uid, kind, scope, key, payload, vector, created, updated,"
                    " deleted, seq) VALUES (?,?,?,?,?,?,?,?,0,?)",
                    (
                        entry.uid,
                        entry.kind,
                        entry.scope,
                        entry.key,
                        text,
                        vec.tobytes(),
                        entry.created,
                        entry.updated,
                        seq,
                    ),
                )
                entry_id = int(cur.lastrowid or 0)
            else:
                entry_id = int(row[0])
                db.execute(
                    "UPDATE entries SET payload=?, vector=?, updated=?, deleted=0, seq=? "
                    "WHERE id=?",
                    (text, vec.tobytes(), entry.updated, seq, entry_id),
                )
        store._index(entry.kind).add([entry_id], vec[None, :])
        store._changed(entry.kind, seq)
        return True


def _sorted(payload: str) -> str:
    return json.dumps(json.loads(payload), sort_keys=True)
