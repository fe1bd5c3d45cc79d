"""Saving, loading and repairing a store's HNSW indexes (the SQLite rows are the truth).

An index is saved as ``<kind>.<seq>.usearch`` (written to a temporary file, flushed, renamed),
then the ``kinds`` row is pointed at it with its BLAKE3 hash and ``seq``, then older files go: a
crash at any step leaves a loadable (older) file that the row still names. On open each index is
loaded and the changes after its ``seq`` are replayed from SQLite; an index whose file is missing,
corrupt, does not match its hash or does not hold what SQLite holds is rebuilt, with a warning.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import blake3
import numpy as np

from scipix.memory.index import IndexFileError, VectorIndex

if TYPE_CHECKING:
    from scipix.memory.store import MemoryStore

_CHUNK = 20_000


def save_index(store: MemoryStore, kind: str) -> None:
    """Write ``kind``'s index atomically and record it (see the module docstring)."""
    store._catch_up()
    index = store._indexes[kind]
    seq = store._seen
    path = store.directory / f"{kind}.{seq}.usearch"
    index.save(path)
    digest = file_hash(path)
    with store._write() as db:
        db.execute(
            "UPDATE kinds SET file=?, hash=?, seq=? WHERE kind=? AND seq<=?",
            (path.name, digest, seq, kind, seq),
        )
    store._unsaved[kind] = 0
    current = {row[0] for row in store.db.execute("SELECT file FROM kinds WHERE file IS NOT NULL")}
    for old in store.directory.glob(f"{kind}.*.usearch"):
        if old.name not in current:
            old.unlink(missing_ok=True)


def load_indexes(store: MemoryStore) -> None:
    """Load every kind's index, replay later changes, rebuild what cannot be trusted."""
    latest = int(store.db.execute("SELECT value FROM counters WHERE name='seq'").fetchone()[0])
    rows = store.db.execute("SELECT kind, dim, file, hash, seq FROM kinds").fetchall()
    for kind, dim, file, digest, seq in rows:
        index, problem = _load_file(store, kind, int(dim), file, digest)
        if index is None:
            if problem:
                warn(f"memory index of '{kind}' {problem}; rebuilding it from the database")
            store._indexes[kind] = rebuild(store, kind, int(dim))
            continue
        store._indexes[kind] = index
        apply_changes(store, kind, int(seq))
        live = store.count(kind)
        if len(index) != live:
            warn(
                f"memory index of '{kind}' holds {len(index)} vectors, the database {live}; "
                "rebuilding it from the database"
            )
            store._indexes[kind] = rebuild(store, kind, int(dim))
    store._seen = latest
    for stray in store.directory.glob("*.usearch.tmp"):
        stray.unlink(missing_ok=True)


def _load_file(
    store: MemoryStore, kind: str, dim: int, file: str | None, digest: str | None
) -> tuple[VectorIndex | None, str]:
    if file is None:
        return None, ""  # never saved (first run, or killed before the first save)
    path: Path = store.directory / file
    if not path.exists():
        return None, f"file {file} is missing"
    if digest is not None and file_hash(path) != digest:
        return None, f"file {file} is corrupt (its hash changed)"
    try:
        return VectorIndex.load(path, dim, store.params, store._projections.get(kind)), ""
    except IndexFileError as exc:
        return None, f"file cannot be read ({exc})"


def rebuild(store: MemoryStore, kind: str, dim: int) -> VectorIndex:
    """A new index of every live ``kind`` vector in the database."""
    index = VectorIndex(dim, store.params, store._projections.get(kind))
    last = 0
    while True:
        rows = store.db.execute(
            "SELECT id, vector FROM entries WHERE kind=? AND deleted=0 AND id>? ORDER BY id "
            "LIMIT ?",
            (kind, last, _CHUNK),
        ).fetchall()
        if not rows:
            break
        ids = [int(r[0]) for r in rows]
        index.add(ids, np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows]))
        last = ids[-1]
    store._unsaved[kind] = max(1, store._unsaved.get(kind, 0))
    return index


def apply_changes(store: MemoryStore, kind: str | None, since: int) -> None:
    """Bring the in-memory indexes up to date with the changes after ``since``."""
    sql = "SELECT id, kind, deleted, vector, seq FROM entries WHERE seq>?"
    args: list[object] = [since]
    if kind is not None:
        sql += " AND kind=?"
        args.append(kind)
    rows = store.db.execute(sql + " ORDER BY seq", args).fetchall()
    for entry_id, entry_kind, deleted, vector, _seq in rows:
        index = store._index(entry_kind)
        if deleted or vector is None:
            index.remove([int(entry_id)])
        else:
            index.add([int(entry_id)], np.frombuffer(vector, dtype=np.float32)[None, :])
        store._unsaved[entry_kind] = store._unsaved.get(entry_kind, 0) + 1


def replay(store: MemoryStore, since: int) -> None:
    """Apply every change after ``since`` (another process's writes) and note the latest."""
    from scipix.memory.projection import refresh

    latest = int(store.db.execute("SELECT value FROM counters WHERE name='seq'").fetchone()[0])
    refresh(store)  # projections another process fitted (their kinds are rebuilt)
    apply_changes(store, None, since)
    store._seen = max(store._seen, latest)


def warn(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def file_hash(path: Path) -> str:
    h = blake3.blake3()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            h.update(chunk)
    return str(h.hexdigest())
