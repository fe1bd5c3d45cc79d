"""``MemoryStore``: vectors with JSON payloads in one directory (SQLite in WAL mode + usearch).

SQLite (``memory.sqlite``) is the source of truth: every entry's payload, its vector (float32),
its scope, its upsert key, its stable ``uid``, its times and a change number ``seq``; a deletion
leaves a tombstone (so replicas can merge). Each kind of vector (``"image"``, ``"latex"``, …) has
its own HNSW index (:mod:`scipix.memory.index`), a cache of the SQLite vectors saved atomically as
``<kind>.<seq>.usearch``; the ``kinds`` table names the current file, its BLAKE3 hash and the last
change it holds. Opening the store loads each file and replays the later changes from SQLite, so
a process killed at any moment loses no committed entry; a file that is missing, corrupt or does
not match its hash is rebuilt from SQLite, with a warning. Each kind's full vectors are also
kept as float16 rows in ``<kind>.vectors`` (at the entry's ``slot``) for the re-rank of an
approximate index; the same rules hold for it (:mod:`scipix.memory.vectors`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scipix.errors import InputError, StoreError
from scipix.memory.entry import Entry, Hit, new_uids
from scipix.memory.index import IndexParams, Vector, VectorIndex
from scipix.memory.lookup import EXACT_LIMIT, approximate_search, exact_search
from scipix.memory.projection import Projection, load_projections, maybe_reduce
from scipix.memory.schema import SCHEMA, Transaction, migrate, where_clause
from scipix.memory.vectors import VectorFile, allocate, release
from scipix.settings.model import MemorySettings, Settings

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
#: :meth:`MemoryStore.close` saves an index when its unsaved changes times this reach its size:
#: a change replays on open in ~0.5 ms (a row read and an HNSW insert), an index saves in
#: ~1.3 µs per entry (1 M entries: 1.3 s).
SAVE_RATIO = 400


class MemoryStore:
    """One memory directory; thread-safe; see :mod:`scipix.memory` for the API."""

    def __init__(self, directory: Path, settings: MemorySettings) -> None:
        self.directory = Path(directory)
        self.settings = settings
        self.params = IndexParams(
            connectivity=settings.connectivity,
            expansion_add=settings.expansion_add,
            expansion_search=settings.expansion_search,
            dtype=settings.dtype,
            rerank=settings.rerank,
        )
        self._lock = threading.RLock()
        self._indexes: dict[str, VectorIndex] = {}
        self._files: dict[str, VectorFile] = {}
        self._projections: dict[str, Projection] = {}
        self._reduce_checked: dict[str, int] = {}
        self._unsaved: dict[str, int] = {}
        self._seen = 0
        self._dims: dict[str, int] = {}
        self._db: sqlite3.Connection | None = None

    # -- life cycle ----------------------------------------------------------------------------

    @classmethod
    def open(cls, directory: Path, settings: MemorySettings | None = None) -> MemoryStore:
        """Open (or create) the store in ``directory``; raises StoreError when it cannot."""
        store = cls(directory, settings if settings is not None else MemorySettings())
        try:
            store.directory.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                store.directory / "memory.sqlite",
                check_same_thread=False,
                isolation_level=None,
                timeout=30.0,
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            migrate(db)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the memory in {directory}: {exc}") from exc
        store._db = db
        with store._lock:
            store._projections = load_projections(db)
            store._reduce_checked = {k: p.fitted_on for k, p in store._projections.items()}
            store._load_indexes()
        return store

    def close(self) -> None:
        """Save the indexes whose changes cost more to replay than to save, and close the
        database (idempotent). A big index with a few changes is left as it is: the next open
        replays them from SQLite (one ``scipix ocr`` against a memory of 1 M entries would
        otherwise rewrite a 1.3 s index for one reading)."""
        with self._lock:
            if self._db is None:
                return
            for kind, index in list(self._indexes.items()):
                if self._unsaved.get(kind, 0) * SAVE_RATIO >= max(len(index), 1):
                    self._save(kind)
            for file in self._files.values():
                file.close()
            self._files.clear()
            self._db.close()
            self._db = None

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError("the memory store is closed")
        return self._db

    # -- writing -------------------------------------------------------------------------------

    def add(
        self,
        kind: str,
        vector: Vector,
        payload: Mapping[str, Any],
        *,
        scope: str,
        key: str | None = None,
    ) -> int:
        """Store ``vector`` with ``payload`` in ``scope``; with ``key``, replace the entry of the
        same (kind, scope, key) in place (same id and uid). Returns the entry's id."""
        vec = self._vector(kind, vector)
        text = json.dumps(dict(payload), ensure_ascii=False, separators=(",", ":"))
        now = time.time()
        with self._lock, self._write() as db:
            seq = self._next_seq(db)
            row = None
            if key is not None:
                row = db.execute(
                    "SELECT id, slot FROM entries WHERE kind=? AND scope=? AND key=?",
                    (kind, scope, key),
                ).fetchone()
            slot = int(row[1]) if row is not None and row[1] is not None else None
            if slot is None:
                slot = allocate(db, kind, 1)[0]
            if row is None:
                cur = db.execute(
                    "INSERT INTO entries(uid, kind, scope, key, payload, vector, created, updated,"
                    " deleted, seq, slot) VALUES (?,?,?,?,?,?,?,?,0,?,?)",
                    (new_uids(1)[0], kind, scope, key, text, vec.tobytes(), now, now, seq, slot),
                )
                entry_id = int(cur.lastrowid or 0)
            else:
                entry_id = int(row[0])
                db.execute(
                    "UPDATE entries SET payload=?, vector=?, updated=?, deleted=0, seq=?, slot=? "
                    "WHERE id=?",
                    (text, vec.tobytes(), now, seq, slot, entry_id),
                )
        with self._lock:
            self._index(kind).add([entry_id], vec[None, :])
            self._file(kind).write([entry_id], [slot], vec[None, :])
            self._changed(kind, seq)
        return entry_id

    def add_many(
        self, kind: str, vectors: Vector, payloads: Sequence[Mapping[str, Any]], *, scope: str
    ) -> list[int]:
        """Insert many entries (no upsert key) in one transaction; their ids, in order."""
        from scipix.memory.bulk import add_many

        return add_many(self, kind, vectors, payloads, scope=scope)

    def delete(self, entry_id: int) -> bool:
        """Delete an entry (a tombstone stays for replication); False when there was none."""
        with self._lock, self._write() as db:
            row = db.execute(
                "SELECT kind, slot FROM entries WHERE id=? AND deleted=0", (entry_id,)
            ).fetchone()
            if row is None:
                return False
            seq = self._next_seq(db)
            db.execute(
                "UPDATE entries SET deleted=1, payload='{}', vector=NULL, updated=?, seq=?, "
                "slot=NULL WHERE id=?",
                (time.time(), seq, entry_id),
            )
            release(db, row[0], [row[1]])
        with self._lock:
            if row[0] in self._indexes:
                self._indexes[row[0]].remove([entry_id])
            if row[0] in self._files:
                self._files[row[0]].forget([entry_id])
            self._changed(row[0], seq)
        return True

    def purge(self, kind: str, *, older_than: float | None = None, keep: int | None = None) -> int:
        """Delete (for good, no tombstone) the ``kind`` entries updated before ``older_than``
        (a Unix time) and all but the newest ``keep``; returns how many went."""
        from scipix.memory.bulk import purge

        return purge(self, kind, older_than=older_than, keep=keep)

    # -- reading -------------------------------------------------------------------------------

    def get(self, entry_id: int) -> Entry | None:
        """The live entry with this id, or None."""
        with self._lock:
            row = self.db.execute(
                f"SELECT {Entry.COLUMNS} FROM entries WHERE id=? AND deleted=0", (entry_id,)
            ).fetchone()
        return Entry.from_row(row) if row else None

    def find(self, kind: str, scope: str, key: str) -> Entry | None:
        """The live entry filed under ``key`` in ``scope``, or None."""
        with self._lock:
            row = self.db.execute(
                f"SELECT {Entry.COLUMNS} FROM entries WHERE kind=? AND scope=? AND key=? "
                "AND deleted=0",
                (kind, scope, key),
            ).fetchone()
        return Entry.from_row(row) if row else None

    def search(
        self,
        kind: str,
        vector: Vector,
        k: int,
        *,
        scope: str | None,
        where: Mapping[str, Any] | None = None,
        min_score: float | None = None,
    ) -> list[Hit]:
        """The ``k`` live entries of ``kind`` nearest ``vector`` (cosine similarity, best first),
        in ``scope`` (None: every scope), whose payload has the values in ``where``."""
        if k <= 0:
            return []
        vec = self._vector(kind, vector, check_dim=False)
        with self._lock:
            self._catch_up()
            index = self._indexes.get(kind)
            if index is None or len(index) == 0 or vec.shape[0] != index.dim:
                return []
            clause, args = where_clause(kind, scope, where)
            filtered = scope is not None or bool(where)
            # small scopes are scanned exactly (payload filters only on the scope's rows)
            base, base_args = where_clause(kind, scope, None)
            if filtered and self._count(base, base_args, EXACT_LIMIT + 1) <= EXACT_LIMIT:
                hits = exact_search(self.db, vec, k, clause, args)
            else:
                hits = approximate_search(
                    self.db, index, vec, k, clause, args, filtered, self._files.get(kind)
                )
        if min_score is not None:
            hits = [h for h in hits if h.score >= min_score]
        return hits

    def count(self, kind: str | None = None, scope: str | None = None) -> int:
        """Live entries (of ``kind``, in ``scope`` when given)."""
        clause, args = where_clause(kind, scope, None)
        with self._lock:
            return self._count(clause, args)

    def last_change(self, kind: str, scope: str | None = None) -> float:
        """When an entry of ``kind`` (in ``scope``) last changed, deletions included; 0 if never."""
        clause, args = "kind=?", [kind]
        if scope is not None:
            clause, args = "kind=? AND scope=?", [kind, scope]
        with self._lock:
            row = self.db.execute(f"SELECT max(updated) FROM entries WHERE {clause}", args)
            value = row.fetchone()[0]
        return float(value) if value is not None else 0.0

    def kinds(self) -> dict[str, int]:
        """Each kind and its vector dimension."""
        with self._lock:
            return {k: int(d) for k, d in self.db.execute("SELECT kind, dim FROM kinds")}

    def stats(self) -> dict[str, Any]:
        """The index settings and, per kind: dimension, live entries (per scope), entries in
        the HNSW index, tombstones."""
        from scipix.memory.lookup import describe

        with self._lock:
            self._catch_up()
            return describe(self)

    def entries(
        self, kind: str | None = None, *, since: int = 0, tombstones: bool = False
    ) -> Iterator[Entry]:
        """Entries changed after change number ``since``, in change order — the replication hook:
        each carries its stable ``uid``, ``created``/``updated`` times and ``seq``; with
        ``tombstones`` deletions come too (``deleted=True``). Merge them into another store with
        :meth:`merge`."""
        from scipix.memory.sync import changed_entries

        return changed_entries(self, kind, since, tombstones)

    def merge(self, entry: Entry) -> bool:
        """Apply an entry from another store: the newer ``updated`` wins per ``uid`` (a tombstone
        too). Returns True when this store changed."""
        from scipix.memory.sync import merge_entry

        return merge_entry(self, entry)

    # -- internals -----------------------------------------------------------------------------

    def _vector(self, kind: str, vector: Vector, check_dim: bool = True) -> Vector:
        if not _KIND.match(kind):
            raise InputError(f"memory kind {kind!r}: use lowercase letters, digits and _")
        vec = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vec.size == 0 or not np.all(np.isfinite(vec)) or not np.any(vec):
            raise InputError(f"memory kind {kind!r}: the vector is empty, zero or not finite")
        if check_dim:
            with self._lock:
                self._ensure_kind(kind, vec.shape[0])
        return vec

    def _ensure_kind(self, kind: str, dim: int) -> None:
        if self._dims.get(kind) == dim:
            return
        row = self.db.execute("SELECT dim FROM kinds WHERE kind=?", (kind,)).fetchone()
        if row is None:
            with self._write() as db:
                db.execute("INSERT OR IGNORE INTO kinds(kind, dim) VALUES (?, ?)", (kind, dim))
            row = self.db.execute("SELECT dim FROM kinds WHERE kind=?", (kind,)).fetchone()
        if int(row[0]) != dim:
            raise InputError(f"memory kind {kind!r} holds {row[0]}-d vectors, not {dim}-d")
        self._dims[kind] = dim

    def _index(self, kind: str) -> VectorIndex:
        if kind not in self._indexes:
            self._indexes[kind] = VectorIndex(
                self.kinds()[kind], self.params, self._projections.get(kind)
            )
        return self._indexes[kind]

    def _file(self, kind: str) -> VectorFile:
        if kind not in self._files:
            self._files[kind] = VectorFile(self.directory / f"{kind}.vectors", self.kinds()[kind])
        return self._files[kind]

    def _write(self) -> Transaction:
        return Transaction(self.db)

    @staticmethod
    def _next_seq(db: sqlite3.Connection, n: int = 1) -> int:
        row = db.execute(
            "UPDATE counters SET value=value+? WHERE name='seq' RETURNING value", (n,)
        ).fetchone()
        return int(row[0])

    def _changed(self, kind: str, seq: int, n: int = 1) -> None:
        if seq == self._seen + 1:
            self._seen = seq
        self._unsaved[kind] = self._unsaved.get(kind, 0) + n
        size = len(self._indexes[kind]) if kind in self._indexes else 0
        if self._unsaved[kind] >= max(self.settings.persist_every, size // 4):
            self._save(kind)
        maybe_reduce(self, kind, size)

    def _ids(self, sql: str, args: tuple[Any, ...]) -> set[int]:
        return {int(r[0]) for r in self.db.execute(sql, args)}

    def _count(self, clause: str, args: list[Any], limit: int = -1) -> int:
        """How many entries ``clause`` selects (counting stops at ``limit``)."""
        sql = f"SELECT count(*) FROM (SELECT 1 FROM entries WHERE {clause} LIMIT ?)"
        return int(self.db.execute(sql, [*args, limit]).fetchone()[0])

    def persist(self) -> None:
        """Save every index that has unsaved changes now."""
        with self._lock:
            for kind in list(self._indexes):
                if self._unsaved.get(kind):
                    self._save(kind)

    def _save(self, kind: str) -> None:
        from scipix.memory.persist import save_index

        save_index(self, kind)

    def _load_indexes(self) -> None:
        from scipix.memory.persist import load_indexes

        load_indexes(self)

    def _catch_up(self) -> None:
        """Apply the changes another process committed since this one last looked."""
        from scipix.memory.persist import replay

        latest = int(self.db.execute("SELECT value FROM counters WHERE name='seq'").fetchone()[0])
        if latest > self._seen:
            replay(self, self._seen)


def memory_dir(settings: Settings) -> Path:
    """The service's memory directory: ``memory.dir``, else ``<runtime.data_dir>/memory``."""
    memory = settings.memory
    return memory.dir if memory.dir is not None else settings.runtime.data_dir / "memory"
