"""Saving, loading and repairing a store's HNSW indexes (the SQLite rows are the truth).

An index is saved as ``<kind>.<seq>.usearch`` (written to a temporary file, flushed, renamed),
then the ``kinds`` row is pointed at it with its BLAKE3 hash and ``seq``, then older files go: a
crash at any step leaves a loadable (older) file that the row still names. On open each index is
loaded and the changes after its ``seq`` are replayed from SQLite; an index whose file is missing,
corrupt, does not match its hash or does not hold what SQLite holds is rebuilt, with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import blake3
import numpy as np

from scipix.memory.index import IndexFileError, Vector, VectorIndex
from scipix.memory.vectors import CHECKED, VectorFile, allocate

if TYPE_CHECKING:
    from scipix.memory.store import MemoryStore

_CHUNK = 20_000


def live_vectors(
    store: MemoryStore, kind: str
) -> Iterator[tuple[list[int], list[int | None], Vector]]:
    """Every live ``kind`` entry's id, slot and vector, in chunks of :data:`_CHUNK` by id."""
    last = 0
    while True:
        rows = store.db.execute(
            "SELECT id, slot, vector FROM entries WHERE kind=? AND deleted=0 AND id>? "
            "ORDER BY id LIMIT ?",
            (kind, last, _CHUNK),
        ).fetchall()
        if not rows:
            return
        vectors = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
        yield [int(r[0]) for r in rows], [r[1] for r in rows], vectors
        last = int(rows[-1][0])


def save_index(store: MemoryStore, kind: str) -> None:
    """Write ``kind``'s index atomically and record it (see the module docstring)."""
    store._catch_up()
    index = store._indexes[kind]
    seq = store._seen
    path = store.directory / f"{kind}.{seq}.usearch"
    index.save(path)
    digest = file_hash(path)
    vectors = store._files.get(kind)
    if vectors is not None:
        vectors.flush()
    with store._write() as db:
        db.execute(
            "UPDATE kinds SET file=?, hash=?, seq=?, vseq=? WHERE kind=? AND seq<=?",
            (path.name, digest, seq, seq if vectors is not None else 0, kind, seq),
        )
    store._unsaved[kind] = 0
    current = {row[0] for row in store.db.execute("SELECT file FROM kinds WHERE file IS NOT NULL")}
    for old in store.directory.glob(f"{kind}.*.usearch"):
        if old.name not in current:
            old.unlink(missing_ok=True)


def load_indexes(store: MemoryStore) -> None:
    """Load every kind's index, replay later changes, rebuild what cannot be trusted."""
    latest = int(store.db.execute("SELECT value FROM counters WHERE name='seq'").fetchone()[0])
    rows = store.db.execute("SELECT kind, dim, file, hash, seq, vseq FROM kinds").fetchall()
    for kind, dim, file, digest, seq, vseq in rows:
        load_vectors(store, kind, int(vseq))
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
    for ids, _slots, vectors in live_vectors(store, kind):
        index.add(ids, vectors)
    store._unsaved[kind] = max(1, store._unsaved.get(kind, 0))
    return index


def apply_changes(store: MemoryStore, kind: str | None, since: int) -> None:
    """Bring the in-memory indexes up to date with the changes after ``since``."""
    sql = "SELECT id, kind, deleted, vector, slot FROM entries WHERE seq>?"
    args: list[object] = [since]
    if kind is not None:
        sql += " AND kind=?"
        args.append(kind)
    rows = store.db.execute(sql + " ORDER BY seq", args).fetchall()
    for entry_id, entry_kind, deleted, vector, slot in rows:
        index, file = store._index(entry_kind), store._file(entry_kind)
        if deleted or vector is None or slot is None:
            index.remove([int(entry_id)])
            file.forget([int(entry_id)])
        else:
            vec = np.frombuffer(vector, dtype=np.float32)[None, :]
            index.add([int(entry_id)], vec)
            file.write([int(entry_id)], [int(slot)], vec)
        store._unsaved[entry_kind] = store._unsaved.get(entry_kind, 0) + 1


def load_vectors(store: MemoryStore, kind: str, vseq: int) -> None:
    """Open ``kind``'s vector file: check it and replay the changes after ``vseq``, or rewrite
    it from the database (see :mod:`scipix.memory.vectors`)."""
    existed = (store.directory / f"{kind}.vectors").exists()
    file = store._file(kind)
    problem = "" if vseq <= 0 else check_vectors(store, kind, file, vseq, existed)
    if vseq <= 0 or problem:
        if problem:
            warn(f"memory vectors of '{kind}' {problem}; rewriting them from the database")
        rebuild_vectors(store, kind, file)
        return
    rows = store.db.execute(
        "SELECT id, slot FROM entries WHERE kind=? AND slot IS NOT NULL", (kind,)
    ).fetchall()
    file.remember([int(r[0]) for r in rows], [int(r[1]) for r in rows])
    changed = store.db.execute(
        "SELECT id, slot, vector FROM entries WHERE kind=? AND seq>? AND slot IS NOT NULL "
        "AND vector IS NOT NULL",
        (kind, vseq),
    )
    for entry_id, slot, vector in changed:
        file.write([int(entry_id)], [int(slot)], np.frombuffer(vector, dtype=np.float32)[None])


def check_vectors(store: MemoryStore, kind: str, file: VectorFile, vseq: int, existed: bool) -> str:
    """What is wrong with ``file`` (empty when nothing): its length and a random sample of its
    rows (and the last one) against the vectors in the database up to change ``vseq``."""
    if not existed:
        return f"file {file.path.name} is missing"
    top = store.db.execute(
        "SELECT max(slot) FROM entries WHERE kind=? AND slot IS NOT NULL", (kind,)
    ).fetchone()[0]
    if top is None:
        return ""
    picks = {int(top), *np.random.default_rng().integers(0, int(top) + 1, CHECKED).tolist()}
    marks = ",".join("?" * len(picks))
    rows = store.db.execute(
        f"SELECT slot, vector, seq FROM entries WHERE kind=? AND slot IN ({marks})",
        [kind, *sorted(picks)],
    )
    for slot, blob, seq in rows:
        if int(seq) > vseq or blob is None:
            continue  # changed since the file was saved: replayed next
        stored = file.row(int(slot))
        if stored is None:
            return f"file {file.path.name} is short ({file.rows} rows, slot {slot} is needed)"
        vec = np.frombuffer(blob, dtype=np.float32)
        unit = vec / np.linalg.norm(vec)
        if not np.allclose(stored.astype(np.float32), unit, rtol=2e-3, atol=1e-6):
            return f"file {file.path.name} does not match the database (slot {slot})"
    return ""


def rebuild_vectors(store: MemoryStore, kind: str, file: VectorFile) -> None:
    """Write every live ``kind`` vector of the database into ``file`` at its slot (entries
    from before the vector files get their slots first; until the next save the file counts as
    never saved, so a rewrite cut short is done again)."""
    with store._write() as db:
        db.execute("UPDATE kinds SET vseq=0 WHERE kind=?", (kind,))
        missing = [
            int(r[0])
            for r in db.execute(
                "SELECT id FROM entries WHERE kind=? AND deleted=0 AND slot IS NULL", (kind,)
            )
        ]
        if missing:
            slots = allocate(db, kind, len(missing))
            db.executemany("UPDATE entries SET slot=? WHERE id=?", zip(slots, missing, strict=True))
    for ids, places, vectors in live_vectors(store, kind):
        assigned = [p for p in places if p is not None]
        assert len(assigned) == len(ids)  # every live entry got its slot above
        file.write(ids, assigned, vectors)
    store._unsaved[kind] = max(1, store._unsaved.get(kind, 0))


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
