"""One SQLite file shared by threads: the base of the server's and the learning loop's stores.

WAL mode, ``synchronous=NORMAL``, one connection per thread (SQLite connections must not be
shared between threads; those of threads that have ended are closed when a new one opens: a
pipeline's threads live for one batch, and a long document is many batches) and
``busy_timeout`` so a writer waits for another process. Every write is one ``BEGIN IMMEDIATE``
transaction: all of it is committed, or none of it. Errors are
:class:`~scipix.errors.StoreError` naming the database (``name``: "server", "learning").
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from scipix.errors import StoreError


class SqliteFile:
    """A named SQLite file with per-thread connections and atomic writes. Thread-safe."""

    def __init__(self, path: Path, name: str, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.name = name
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_s * 1000)}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the {self.name} database {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        with self._lock:
            self._close_orphans()
            self._connections.append((threading.current_thread(), conn))
        return conn

    def _close_orphans(self) -> None:
        """Close the connections of threads that have ended (call with the lock held)."""
        kept = []
        for thread, conn in self._connections:
            if thread.is_alive():
                kept.append((thread, conn))
            else:
                with suppress(sqlite3.Error):
                    conn.close()
        self._connections = kept

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or (on any error) none of it."""
        conn = self.connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"the {self.name} database is unavailable: {exc}") from exc
        try:
            yield conn
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StoreError(f"the {self.name} database refused a write: {exc}") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StoreError(f"cannot commit to the {self.name} database: {exc}") from exc

    def close(self) -> None:
        """Close every thread's connection; a later call opens new ones."""
        with self._lock:
            for _, conn in self._connections:
                with suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()
