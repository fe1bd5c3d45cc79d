"""The server's one SQLite database: keys, app tokens, rate windows, usage, history, batches,
PDF jobs (their pages and outputs), MMD conversions (``/v3/converter``) and their outputs, and
the callbacks waiting to be delivered.

One file (``<data_dir>/server.sqlite3``) in WAL mode. Every write runs in one ``BEGIN IMMEDIATE``
transaction, so a process killed mid-request leaves either the whole change or none of it.
Connections are per thread (SQLite connections must not be shared between threads), and several
worker processes may open the same file: ``busy_timeout`` makes a writer wait for another.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scipix.errors import StoreError
from scipix.storage import SqliteFile

SCHEMA_VERSION = 1
DB_FILE_NAME = "server.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    app_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    revoked_at REAL,
    rate_limit_per_minute INTEGER,
    history INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS app_tokens (
    token_hash TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    user_id TEXT,
    strokes_session_id TEXT
);
CREATE TABLE IF NOT EXISTS rate_windows (
    app_id TEXT NOT NULL,
    window INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (app_id, window)
);
CREATE TABLE IF NOT EXISTS usage (
    app_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    usage_type TEXT NOT NULL,
    request_args_hash TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (app_id, hour, usage_type, request_args_hash)
);
CREATE TABLE IF NOT EXISTS history (
    request_id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    timestamp REAL NOT NULL,
    endpoint TEXT NOT NULL,
    duration REAL NOT NULL,
    request_args TEXT NOT NULL,
    result TEXT,
    tags TEXT NOT NULL,
    detections TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_app_time ON history (app_id, timestamp);
CREATE TABLE IF NOT EXISTS batches (
    batch_id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    keys TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_results (
    batch_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (batch_id, key)
);
CREATE TABLE IF NOT EXISTS corrections (
    correction_id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    request_id TEXT,
    latex TEXT NOT NULL,
    original_latex TEXT,
    image BLOB
);
CREATE TABLE IF NOT EXISTS pdfs (
    pdf_id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    modified_at REAL NOT NULL,
    input_file TEXT NOT NULL,
    status TEXT NOT NULL,
    num_pages INTEGER,
    pages TEXT,
    request_args TEXT NOT NULL,
    keep_history INTEGER NOT NULL,
    error TEXT,
    lease_owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    deleted_at REAL
);
CREATE INDEX IF NOT EXISTS pdfs_app_time ON pdfs (app_id, created_at);
CREATE INDEX IF NOT EXISTS pdfs_queue ON pdfs (status, created_at);
CREATE TABLE IF NOT EXISTS pdf_pages (
    pdf_id TEXT NOT NULL,
    page INTEGER NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (pdf_id, page)
);
CREATE TABLE IF NOT EXISTS conversions (
    conversion_id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    modified_at REAL NOT NULL,
    mmd TEXT NOT NULL,
    request_args TEXT NOT NULL,
    owner TEXT,
    deleted_at REAL
);
CREATE INDEX IF NOT EXISTS conversions_app_time ON conversions (app_id, created_at);
CREATE TABLE IF NOT EXISTS conversion_outputs (
    conversion_id TEXT NOT NULL,
    format TEXT NOT NULL,
    status TEXT NOT NULL,
    data BLOB,
    error TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (conversion_id, format)
);
CREATE TABLE IF NOT EXISTS callback_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    event TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    lease_owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS pdf_outputs (
    pdf_id TEXT NOT NULL,
    format TEXT NOT NULL,
    status TEXT NOT NULL,
    data BLOB,
    error TEXT,
    PRIMARY KEY (pdf_id, format)
);
"""


class Database(SqliteFile):
    """The server database file. Thread-safe: each thread gets its own connection."""

    def __init__(self, path: Path, busy_timeout_s: float = 10.0) -> None:
        super().__init__(path, "server", busy_timeout_s)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data directory {self.path.parent}: {exc}") from exc
        self._create_schema()

    @classmethod
    def in_dir(cls, data_dir: Path) -> Database:
        return cls(Path(data_dir) / DB_FILE_NAME)

    def _create_schema(self) -> None:
        conn = self.connection()
        try:
            conn.executescript(SCHEMA)
            with self.write() as tx:
                tx.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                row = tx.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot create the schema of {self.path}: {exc}") from exc
        if int(row["value"]) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {row['value']}, newer than this scipix "
                f"({SCHEMA_VERSION}); upgrade scipix or point runtime.data_dir elsewhere"
            )

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several SELECTs."""
        conn = self.connection()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def integrity_check(self) -> str:
        row = self.connection().execute("PRAGMA integrity_check").fetchone()
        return str(row[0])
