"""The SQLite schema of a memory directory, and the SQL of a search filter."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from typing import Any

from scipix.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries(
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT,
    payload TEXT NOT NULL,
    vector BLOB,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL,
    slot INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS entries_key ON entries(kind, scope, key) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS entries_seq ON entries(seq);
CREATE INDEX IF NOT EXISTS entries_scope ON entries(kind, scope, deleted);
CREATE TABLE IF NOT EXISTS kinds(
    kind TEXT PRIMARY KEY,
    dim INTEGER NOT NULL,
    file TEXT,
    hash TEXT,
    seq INTEGER NOT NULL DEFAULT 0,
    slots INTEGER NOT NULL DEFAULT 0,
    vseq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS free_slots(
    kind TEXT NOT NULL,
    slot INTEGER NOT NULL,
    PRIMARY KEY(kind, slot)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projections(
    kind TEXT PRIMARY KEY,
    dim INTEGER NOT NULL,
    dims INTEGER NOT NULL,
    version INTEGER NOT NULL,
    fitted_on INTEGER NOT NULL,
    variance REAL NOT NULL,
    mean BLOB NOT NULL,
    axes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters(name, value) VALUES ('seq', 0);
"""

#: Columns added since the first layout (a directory written before gets them on open; its
#: entries get slots when their kind's vector file is first built).
_ADDED = {
    "entries": {"slot": "INTEGER"},
    "kinds": {"slots": "INTEGER NOT NULL DEFAULT 0", "vseq": "INTEGER NOT NULL DEFAULT 0"},
}


def migrate(db: sqlite3.Connection) -> None:
    """Add the columns an older directory lacks, then the index on slots."""
    for table, columns in _ADDED.items():
        have = {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")}
        for name, spec in columns.items():
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {spec}")
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS entries_slot ON entries(kind, slot) "
        "WHERE slot IS NOT NULL"
    )


_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def where_clause(
    kind: str | None, scope: str | None, where: Mapping[str, Any] | None
) -> tuple[str, list[Any]]:
    """SQL selecting live entries of ``kind`` in ``scope`` whose payload field equals each value
    of ``where`` (a string, number, bool or None; a list or tuple means any of its values)."""
    parts: list[str] = ["deleted=0"]
    args: list[Any] = []
    if kind is not None:
        parts.append("kind=?")
        args.append(kind)
    if scope is not None:
        parts.append("scope=?")
        args.append(scope)
    for name, value in (where or {}).items():
        if not _FIELD.match(name):
            raise InputError(f"memory filter field {name!r}: use letters, digits and _")
        path = f"json_extract(payload, '$.{name}')"
        values = list(value) if isinstance(value, list | tuple) else [value]
        alternatives = []
        for item in values:
            if item is None:
                alternatives.append(f"{path} IS NULL")
            elif isinstance(item, bool | int | float | str):
                alternatives.append(f"{path}=?")
                args.append(int(item) if isinstance(item, bool) else item)
            else:
                raise InputError(f"memory filter {name!r}: {type(item).__name__} is not a value")
        parts.append("(" + (" OR ".join(alternatives) or "0") + ")")
    return " AND ".join(parts), args


class Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), as a context manager."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")
