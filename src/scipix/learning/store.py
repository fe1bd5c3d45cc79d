"""The learning loop's SQLite file: trajectories and verdicts (corrections).

One file, ``<runtime.data_dir>/learning.sqlite3``, in WAL mode, beside the server's database.
Every write is one ``BEGIN IMMEDIATE`` transaction (a process killed mid-write leaves all of it
or none); connections are per thread. Trajectories are bounded: past ``max_trajectories`` the
oldest are deleted (checked every :data:`PRUNE_EVERY` inserts). Corrections are kept until
deleted: they are what the correction memory answers from and what ``scipix learning export``
writes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipix.errors import StoreError
from scipix.storage import SqliteFile

DB_FILE_NAME = "learning.sqlite3"
PRUNE_EVERY = 256

SCHEMA = """
CREATE TABLE IF NOT EXISTS trajectories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    scope TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    model_version TEXT NOT NULL,
    kind TEXT,
    strategy TEXT NOT NULL,
    tried TEXT NOT NULL,
    nbest TEXT NOT NULL,
    chosen TEXT NOT NULL,
    raw_confidence REAL NOT NULL,
    confidence REAL NOT NULL,
    latency_ms REAL NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trajectories_request ON trajectories (request_id);
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    scope TEXT NOT NULL,
    request_id TEXT,
    input_hash TEXT,
    latex TEXT NOT NULL,
    original_latex TEXT,
    image BLOB,
    thumb BLOB
);
CREATE INDEX IF NOT EXISTS corrections_scope_hash ON corrections (scope, input_hash);
"""


@dataclass(frozen=True)
class Trajectory:
    """One recognition: what came in (``input_hash``), how it was read (``strategy``, the
    picture ``kind``, the strategies ``tried`` with their outcomes), the n-best
    (``[latex, score, confidence, confidence_rate, valid]`` per hypothesis, beam order), the
    LaTeX served (``chosen``), raw and calibrated confidence, the time it took and whether the
    model or the correction memory (``source``) answered."""

    request_id: str
    scope: str
    input_hash: str
    model_version: str
    kind: str | None
    strategy: str
    tried: tuple[dict[str, Any], ...]
    nbest: tuple[tuple[str, float, float, float, bool], ...]
    chosen: str
    raw_confidence: float
    confidence: float
    latency_ms: float
    source: str = "model"
    created_at: float = 0.0


@dataclass(frozen=True)
class Correction:
    """A verdict: ``latex`` is what the image (``input_hash``; the decoded ``image`` as PNG
    when it was sent) really shows, in ``scope`` (an API key's id, or ``local``)."""

    id: int
    scope: str
    latex: str
    created_at: float
    request_id: str | None = None
    input_hash: str | None = None
    original_latex: str | None = None
    image: bytes | None = None
    thumb: bytes | None = None


class LearningStore(SqliteFile):
    """The learning database (see the module docstring). Thread-safe."""

    def __init__(self, path: Path, max_trajectories: int = 100_000) -> None:
        super().__init__(path, "learning")
        self.max_trajectories = max_trajectories
        self._inserts = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.connection().executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the learning database {self.path}: {exc}") from exc

    @classmethod
    def in_dir(cls, data_dir: Path, max_trajectories: int = 100_000) -> LearningStore:
        return cls(Path(data_dir) / DB_FILE_NAME, max_trajectories)

    # -- trajectories ----------------------------------------------------------------------

    def record(self, t: Trajectory) -> None:
        """Keep one trajectory (and drop the oldest past ``max_trajectories``)."""
        with self.write() as conn:
            conn.execute(
                "INSERT INTO trajectories (request_id, created_at, scope, input_hash,"
                " model_version, kind, strategy, tried, nbest, chosen, raw_confidence,"
                " confidence, latency_ms, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    t.request_id,
                    t.created_at or time.time(),
                    t.scope,
                    t.input_hash,
                    t.model_version,
                    t.kind,
                    t.strategy,
                    json.dumps(list(t.tried)),
                    json.dumps([list(h) for h in t.nbest]),
                    t.chosen,
                    t.raw_confidence,
                    t.confidence,
                    t.latency_ms,
                    t.source,
                ),
            )
            with self._lock:
                self._inserts += 1
                prune = self._inserts % PRUNE_EVERY == 1
            if prune:
                conn.execute(
                    "DELETE FROM trajectories WHERE id <= (SELECT MAX(id) FROM trajectories) - ?",
                    (self.max_trajectories,),
                )

    def trajectories(self, limit: int | None = None) -> list[Trajectory]:
        """The newest ``limit`` trajectories (all by default), oldest first."""
        sql = "SELECT * FROM trajectories ORDER BY id DESC"
        rows = self.connection().execute(sql + (f" LIMIT {int(limit)}" if limit else ""))
        return [_trajectory(r) for r in reversed(rows.fetchall())]

    def trajectory(self, request_id: str) -> Trajectory | None:
        row = (
            self.connection()
            .execute(
                "SELECT * FROM trajectories WHERE request_id = ? ORDER BY id DESC LIMIT 1",
                (request_id,),
            )
            .fetchone()
        )
        return _trajectory(row) if row is not None else None

    def count(self, table: str = "trajectories") -> int:
        if table not in ("trajectories", "corrections"):
            raise ValueError(table)
        return int(self.connection().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    # -- corrections ----------------------------------------------------------------------

    def add_correction(self, c: Correction) -> int:
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO corrections (created_at, scope, request_id, input_hash, latex,"
                " original_latex, image, thumb) VALUES (?,?,?,?,?,?,?,?)",
                (
                    c.created_at or time.time(),
                    c.scope,
                    c.request_id,
                    c.input_hash,
                    c.latex,
                    c.original_latex,
                    c.image,
                    c.thumb,
                ),
            )
            return int(cur.lastrowid or 0)

    def corrections(self, scope: str | None = None, with_images: bool = True) -> list[Correction]:
        """Every correction (of ``scope`` when given), oldest first."""
        cols = "*" if with_images else _LIGHT_COLUMNS
        sql = f"SELECT {cols} FROM corrections"
        args: tuple[Any, ...] = ()
        if scope is not None:
            sql, args = sql + " WHERE scope = ?", (scope,)
        rows = self.connection().execute(sql + " ORDER BY id", args).fetchall()
        return [_correction(r) for r in rows]

    def correction(self, correction_id: int) -> Correction | None:
        row = (
            self.connection()
            .execute("SELECT * FROM corrections WHERE id = ?", (correction_id,))
            .fetchone()
        )
        return _correction(row) if row is not None else None

    def by_hash(self, scope: str, input_hash: str) -> Correction | None:
        """The newest correction of exactly this input in ``scope``."""
        row = (
            self.connection()
            .execute(
                "SELECT * FROM corrections WHERE scope = ? AND input_hash = ?"
                " ORDER BY id DESC LIMIT 1",
                (scope, input_hash),
            )
            .fetchone()
        )
        return _correction(row) if row is not None else None

    def has_corrections(self, scope: str) -> bool:
        row = (
            self.connection()
            .execute("SELECT 1 FROM corrections WHERE scope = ? LIMIT 1", (scope,))
            .fetchone()
        )
        return row is not None

    def last_correction(self, scope: str) -> float:
        """When the newest correction in ``scope`` was taken; 0 when it has none."""
        row = (
            self.connection()
            .execute("SELECT max(created_at) FROM corrections WHERE scope = ?", (scope,))
            .fetchone()
        )
        return float(row[0]) if row is not None and row[0] is not None else 0.0

    def delete_correction(self, correction_id: int) -> bool:
        with self.write() as conn:
            cur = conn.execute("DELETE FROM corrections WHERE id = ?", (correction_id,))
            return cur.rowcount > 0


_LIGHT_COLUMNS = "id, created_at, scope, request_id, input_hash, latex, original_latex"


def _trajectory(row: sqlite3.Row) -> Trajectory:
    return Trajectory(
        request_id=row["request_id"],
        scope=row["scope"],
        input_hash=row["input_hash"],
        model_version=row["model_version"],
        kind=row["kind"],
        strategy=row["strategy"],
        tried=tuple(json.loads(row["tried"])),
        nbest=tuple(tuple(h) for h in json.loads(row["nbest"])),
        chosen=row["chosen"],
        raw_confidence=float(row["raw_confidence"]),
        confidence=float(row["confidence"]),
        latency_ms=float(row["latency_ms"]),
        source=row["source"],
        created_at=float(row["created_at"]),
    )


def _correction(row: sqlite3.Row) -> Correction:
    keys = row.keys()
    return Correction(
        id=int(row["id"]),
        scope=row["scope"],
        latex=row["latex"],
        created_at=float(row["created_at"]),
        request_id=row["request_id"],
        input_hash=row["input_hash"],
        original_latex=row["original_latex"],
        image=row["image"] if "image" in keys else None,
        thumb=row["thumb"] if "thumb" in keys else None,
    )
