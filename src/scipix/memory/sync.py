"""Merging entries between stores (the replication hook; see :meth:`MemoryStore.entries`).

Last writer wins per ``uid``: an incoming entry replaces the local one when its ``(updated,
payload)`` is greater (the payload text breaks ties, so both sides pick the same); a tombstone
wins the same way and is kept. Two entries with different uids and the same upsert key: the
older one becomes a tombstone without its key. A replication layer (CRDT documents, issue 20)
ships :class:`~scipix.memory.entry.Entry` values from :meth:`MemoryStore.entries` and calls
:meth:`MemoryStore.merge` on the other side.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from scipix.memory.entry import Entry
from scipix.memory.vectors import allocate, release

if TYPE_CHECKING:
    from scipix.memory.store import MemoryStore


def _order(updated: float, payload: str) -> tuple[float, str]:
    return (updated, json.dumps(json.loads(payload), sort_keys=True))


def merge_entry(store: MemoryStore, entry: Entry) -> bool:
    """Apply ``entry`` to ``store`` if it is newer than what the store has for its uid."""
    incoming = (entry.updated, json.dumps(entry.payload, sort_keys=True))
    with store._lock:
        row = store.db.execute(
            "SELECT id, updated, payload, slot FROM entries WHERE uid=?", (entry.uid,)
        ).fetchone()
        if row is not None and incoming <= _order(float(row[1]), row[2]):
            return False
        vec = None
        if not entry.deleted and entry.vector is not None:
            vec = store._vector(entry.kind, entry.vector)
        loser: int | None = None
        with store._write() as db:
            seq = store._next_seq(db)
            if vec is not None and entry.key is not None:
                claimed, loser = _claim_key(db, entry, incoming, seq)
                if not claimed:
                    return False
            text = json.dumps(entry.payload if vec is not None else {}, ensure_ascii=False)
            blob = vec.tobytes() if vec is not None else None
            slot = row[3] if row is not None else None
            if vec is None:
                release(db, entry.kind, [slot])
                slot = None
            elif slot is None:
                slot = allocate(db, entry.kind, 1)[0]
            values = (text, blob, entry.updated, int(vec is None), seq, slot)
            if row is None:
                cur = db.execute(
                    "INSERT INTO entries(payload, vector, updated, deleted, seq, slot, uid, kind, "
                    "scope, key, created) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (*values, entry.uid, entry.kind, entry.scope, entry.key, entry.created),
                )
                entry_id = int(cur.lastrowid or 0)
            else:
                entry_id = int(row[0])
                db.execute(
                    "UPDATE entries SET payload=?, vector=?, updated=?, deleted=?, seq=?, slot=? "
                    "WHERE id=?",
                    (*values, entry_id),
                )
        if entry.kind in store.kinds():
            index, file = store._index(entry.kind), store._file(entry.kind)
            gone = [i for i in (loser, None if vec is not None else entry_id) if i is not None]
            index.remove(gone)
            file.forget(gone)
            if vec is not None and slot is not None:
                index.add([entry_id], vec[None, :])
                file.write([entry_id], [int(slot)], vec[None, :])
            store._changed(entry.kind, seq)
        return True


def _claim_key(
    db: sqlite3.Connection, entry: Entry, incoming: tuple[float, str], seq: int
) -> tuple[bool, int | None]:
    """Free ``entry``'s upsert key from a local entry with another uid when that one is older
    (it becomes a keyless tombstone, whose id is returned); False when the local one is newer
    and keeps it."""
    other = db.execute(
        "SELECT id, updated, payload, deleted, slot FROM entries WHERE kind=? AND scope=? "
        "AND key=? AND uid<>?",
        (entry.kind, entry.scope, entry.key, entry.uid),
    ).fetchone()
    if other is None:
        return True, None
    if not other[3] and incoming <= _order(float(other[1]), other[2]):
        return False, None
    db.execute(
        "UPDATE entries SET key=NULL, deleted=1, vector=NULL, payload='{}', seq=?, slot=NULL "
        "WHERE id=?",
        (seq, other[0]),
    )
    release(db, entry.kind, [other[4]])
    return True, int(other[0])


def changed_entries(
    store: MemoryStore, kind: str | None, since: int, tombstones: bool
) -> Iterator[Entry]:
    """See :meth:`MemoryStore.entries`."""
    sql = f"SELECT {Entry.COLUMNS} FROM entries WHERE seq>?"
    args: list[Any] = [since]
    if kind is not None:
        sql += " AND kind=?"
        args.append(kind)
    if not tombstones:
        sql += " AND deleted=0"
    with store._lock:
        rows = store.db.execute(sql + " ORDER BY seq", args).fetchall()
    for row in rows:
        yield Entry.from_row(row)
