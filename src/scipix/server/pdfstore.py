"""The PDF jobs of ``/v3/pdf`` in the server database: a queue that any worker process serves.

A document is one row of ``pdfs``; its uploaded file lies in ``<data_dir>/pdfs/<pdf_id>.pdf``.
Its status goes ``received`` -> ``loaded`` (opened, pages counted) -> ``split`` (pages being
read) -> ``completed`` or ``error``. A worker *claims* an unfinished document with a lease
(``lease_owner``, ``lease_until``) that it renews while it works; a document whose lease ran out,
or whose owner on this host is no longer running, is claimed again and resumes from the pages
already stored (``pdf_pages``, one row per page as it completes). A document claimed
:data:`MAX_ATTEMPTS` times without finishing is marked ``error``: never stuck at ``split``.
Outputs (``pdf_outputs``: mmd, md, lines.json, docx, ...) are stored as they are made. Every
read names the caller's ``app_id``: one key never sees another's documents.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipix.errors import PdfUnknownIdError, ScipixError
from scipix.server.callbacks import redacted
from scipix.server.ledger import iso_time
from scipix.server.pdflease import owner_alive
from scipix.server.store import Database

ACTIVE = ("received", "loaded", "split")
MAX_ATTEMPTS = 3
_CANDIDATES = 128


@dataclass(frozen=True)
class PdfJob:
    """One claimed document, as the worker needs it."""

    pdf_id: str
    app_id: str
    input_file: str
    status: str
    num_pages: int | None
    pages: list[int] | None
    request_args: dict[str, Any]
    keep_history: bool
    attempts: int


@dataclass(frozen=True)
class PdfQuery:
    """``GET /v3/pdf-results``."""

    page: int = 1
    per_page: int = 100
    from_ts: float | None = None
    to_ts: float | None = None
    pdf_id: str | None = None


def _job(row: Any) -> PdfJob:
    return PdfJob(
        pdf_id=row["pdf_id"],
        app_id=row["app_id"],
        input_file=row["input_file"],
        status=row["status"],
        num_pages=row["num_pages"],
        pages=None if row["pages"] is None else json.loads(row["pages"]),
        request_args=json.loads(row["request_args"]),
        keep_history=bool(row["keep_history"]),
        attempts=int(row["attempts"]),
    )


class PdfStore:
    def __init__(self, db: Database, files_dir: Path) -> None:
        self.db = db
        self.files_dir = Path(files_dir)

    def path(self, pdf_id: str) -> Path:
        return self.files_dir / f"{pdf_id}.pdf"

    # -- creating and claiming ------------------------------------------------------------

    def create(
        self, pdf_id: str, app_id: str, input_file: str, request_args: dict[str, Any], keep: bool
    ) -> None:
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO pdfs (pdf_id, app_id, created_at, modified_at, input_file, status,"
                " request_args, keep_history) VALUES (?, ?, ?, ?, ?, 'received', ?, ?)",
                (pdf_id, app_id, now, now, input_file, json.dumps(request_args), int(keep)),
            )

    def claim(
        self, owner: str, lease_s: float, alive: Callable[[str | None], bool] = owner_alive
    ) -> PdfJob | None:
        """The oldest unfinished document nobody (alive) holds, now leased to ``owner``.
        One claimed too often is marked ``error`` instead (it kills its workers). An idle
        poll only reads: the write lock is taken when there is something to claim."""
        now = time.time()

        def free(row: Any) -> bool:
            return not (row["lease_until"] > now and alive(row["lease_owner"]))

        if not any(free(row) for row in self._candidates(self.db.connection())):
            return None
        with self.db.write() as conn:
            for row in self._candidates(conn):
                if not free(row):
                    continue
                if row["attempts"] >= MAX_ATTEMPTS:
                    error = ScipixError(
                        f"Processing this document stopped {row['attempts']} times before it"
                        " finished (the server was stopped or crashed); submit it again"
                    ).to_mathpix()
                    self._set_error(conn, row["pdf_id"], error, now)
                    continue
                conn.execute(
                    "UPDATE pdfs SET lease_owner = ?, lease_until = ?, attempts = attempts + 1"
                    " WHERE pdf_id = ?",
                    (owner, now + lease_s, row["pdf_id"]),
                )
                return _job(row)
        return None

    @staticmethod
    def _candidates(conn: Any) -> list[Any]:
        """Unfinished documents whose lease ran out or is held on this host (its holder may
        be dead): documents leased by live workers elsewhere never crowd out the rest."""
        host = socket.gethostname() + ":"
        rows: list[Any] = conn.execute(
            "SELECT * FROM pdfs WHERE status IN (?, ?, ?) AND deleted_at IS NULL AND"
            " (lease_until <= ? OR substr(coalesce(lease_owner, ''), 1, length(?)) = ?)"
            " ORDER BY created_at LIMIT ?",
            (*ACTIVE, time.time(), host, host, _CANDIDATES),
        ).fetchall()
        return rows

    def renew(self, pdf_id: str, owner: str, lease_s: float) -> bool:
        """Extend the lease; False when it is no longer ours (or the document is deleted)."""
        with self.db.write() as conn:
            cur = conn.execute(
                "UPDATE pdfs SET lease_until = ? WHERE pdf_id = ? AND lease_owner = ?"
                " AND deleted_at IS NULL AND status IN (?, ?, ?)",
                (time.time() + lease_s, pdf_id, owner, *ACTIVE),
            )
            return cur.rowcount == 1

    def release(self, pdf_id: str, owner: str) -> None:
        """A worker stopping cleanly: the next one may claim at once, and it is no failure."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE pdfs SET lease_owner = NULL, lease_until = 0,"
                " attempts = max(attempts - 1, 0) WHERE pdf_id = ? AND lease_owner = ?",
                (pdf_id, owner),
            )

    # -- progress --------------------------------------------------------------------------

    def set_pages(self, pdf_id: str, owner: str, num_pages: int, pages: list[int]) -> None:
        """Opened: ``loaded`` with its pages, then ``split`` as the pages are handed out."""
        for status in ("loaded", "split"):
            with self.db.write() as conn:
                conn.execute(
                    "UPDATE pdfs SET status = ?, num_pages = ?, pages = ?, modified_at = ?"
                    " WHERE pdf_id = ? AND lease_owner = ? AND deleted_at IS NULL",
                    (status, num_pages, json.dumps(pages), time.time(), pdf_id, owner),
                )

    def put_page(self, pdf_id: str, page: int, result: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO pdf_pages (pdf_id, page, result)"
                " SELECT ?, ?, ? WHERE EXISTS"
                " (SELECT 1 FROM pdfs WHERE pdf_id = ? AND deleted_at IS NULL)",
                (pdf_id, page, result, pdf_id),
            )
            conn.execute("UPDATE pdfs SET modified_at = ? WHERE pdf_id = ?", (time.time(), pdf_id))

    def done_pages(self, pdf_id: str) -> set[int]:
        """The 0-based indices of the pages already stored."""
        rows = self.db.connection().execute(
            "SELECT page FROM pdf_pages WHERE pdf_id = ?", (pdf_id,)
        )
        return {int(row["page"]) for row in rows}

    def pages_done(self, pdf_id: str) -> dict[int, str]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT page, result FROM pdf_pages WHERE pdf_id = ?", (pdf_id,)
            ).fetchall()
        return {int(r["page"]): str(r["result"]) for r in rows}

    def complete(
        self,
        pdf_id: str,
        owner: str,
        outputs: dict[str, bytes],
        failed: dict[str, dict[str, Any]],
    ) -> bool:
        """The outputs (and the conversions that failed) stored and the document
        ``completed``, in one transaction; False when the document is no longer ours."""
        with self.db.write() as conn:
            cur = conn.execute(
                "UPDATE pdfs SET status = 'completed', modified_at = ?, lease_owner = NULL,"
                " lease_until = 0 WHERE pdf_id = ? AND lease_owner = ? AND deleted_at IS NULL",
                (time.time(), pdf_id, owner),
            )
            if cur.rowcount != 1:
                return False
            for fmt, data in outputs.items():
                self._put_output(conn, pdf_id, fmt, "completed", data, None)
            for fmt, error in failed.items():
                self._put_output(conn, pdf_id, fmt, "error", None, error)
        return True

    def fail(self, pdf_id: str, error: dict[str, Any], owner: str) -> None:
        """``error`` for the document ``owner`` holds (not once another worker took it)."""
        with self.db.write() as conn:
            if self._holds(conn, pdf_id, owner):
                self._set_error(conn, pdf_id, error, time.time())

    @staticmethod
    def _holds(conn: Any, pdf_id: str, owner: str) -> bool:
        row = conn.execute("SELECT lease_owner FROM pdfs WHERE pdf_id = ?", (pdf_id,)).fetchone()
        return row is not None and row["lease_owner"] == owner

    @staticmethod
    def _set_error(
        conn: Any, pdf_id: str, error: dict[str, Any], now: float, only_active: bool = False
    ) -> None:
        active = " AND status IN ('received', 'loaded', 'split')" if only_active else ""
        conn.execute(
            "UPDATE pdfs SET status = 'error', error = ?, modified_at = ?, lease_owner = NULL,"
            " lease_until = 0 WHERE pdf_id = ? AND deleted_at IS NULL" + active,
            (json.dumps(error), now, pdf_id),
        )

    # -- outputs ---------------------------------------------------------------------------

    def put_output(
        self, pdf_id: str, fmt: str, status: str, data: bytes | None, error: dict[str, Any] | None
    ) -> None:
        with self.db.write() as conn:
            self._put_output(conn, pdf_id, fmt, status, data, error)

    @staticmethod
    def _put_output(
        conn: Any,
        pdf_id: str,
        fmt: str,
        status: str,
        data: bytes | None,
        error: dict[str, Any] | None,
    ) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO pdf_outputs (pdf_id, format, status, data, error)"
            " SELECT ?, ?, ?, ?, ? WHERE EXISTS"
            " (SELECT 1 FROM pdfs WHERE pdf_id = ? AND deleted_at IS NULL)",
            (pdf_id, fmt, status, data, None if error is None else json.dumps(error), pdf_id),
        )

    def output(self, app_id: str, pdf_id: str, fmt: str) -> tuple[str, bytes | None] | None:
        """``(status, data)`` of one output of the caller's document, None when never asked."""
        self.row(app_id, pdf_id)
        row = (
            self.db.connection()
            .execute(
                "SELECT status, data FROM pdf_outputs WHERE pdf_id = ? AND format = ?",
                (pdf_id, fmt),
            )
            .fetchone()
        )
        return None if row is None else (str(row["status"]), row["data"])

    def conversions(self, pdf_id: str) -> dict[str, dict[str, Any]]:
        rows = (
            self.db.connection()
            .execute("SELECT format, status, error FROM pdf_outputs WHERE pdf_id = ?", (pdf_id,))
            .fetchall()
        )
        found: dict[str, dict[str, Any]] = {}
        for row in rows:
            entry: dict[str, Any] = {"status": row["status"]}
            if row["error"]:
                entry["error_info"] = json.loads(row["error"]).get("error_info")
            found[row["format"]] = entry
        return found

    # -- reading, listing, deleting --------------------------------------------------------

    def row(self, app_id: str, pdf_id: str) -> Any:
        """The caller's document row; :class:`PdfUnknownIdError` for any other id."""
        row = (
            self.db.connection()
            .execute("SELECT * FROM pdfs WHERE pdf_id = ? AND app_id = ?", (pdf_id, app_id))
            .fetchone()
        )
        if row is None:
            raise PdfUnknownIdError(f"Unknown pdf_id {pdf_id[:80]!r}", pdf_id=pdf_id[:80])
        return row

    def completed_count(self, pdf_id: str) -> int:
        row = (
            self.db.connection()
            .execute("SELECT count(*) FROM pdf_pages WHERE pdf_id = ?", (pdf_id,))
            .fetchone()
        )
        return int(row[0])

    def summary(self, row: Any) -> dict[str, Any]:
        """What ``GET /v3/pdf/{id}`` and ``/v3/pdf-results`` say about a document."""
        done = self.completed_count(row["pdf_id"]) if row["deleted_at"] is None else None
        body: dict[str, Any] = {
            "pdf_id": row["pdf_id"],
            "status": row["status"],
            "input_file": row["input_file"],
            "created_at": iso_time(row["created_at"]),
            "modified_at": iso_time(row["modified_at"]),
        }
        if row["num_pages"] is not None:
            total = len(json.loads(row["pages"])) if row["pages"] else 0
            completed = total if row["status"] == "completed" else (done or 0)
            body["num_pages"] = total
            body["num_pages_completed"] = completed
            body["percent_done"] = 100 if completed >= total else completed * 100 / total
        if row["error"]:
            body.update(json.loads(row["error"]))
        if row["deleted_at"] is not None:
            body["deleted_at"] = iso_time(row["deleted_at"])
        return body

    def results(self, app_id: str, query: PdfQuery) -> list[dict[str, Any]]:
        where: list[str] = ["app_id = ?"]
        args: list[Any] = [app_id]
        for clause, value in (
            ("created_at >= ?", query.from_ts),
            ("created_at < ?", query.to_ts),
            ("pdf_id = ?", query.pdf_id),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        sql = (
            "SELECT * FROM pdfs WHERE "
            + " AND ".join(where)
            + " ORDER BY created_at DESC, pdf_id LIMIT ? OFFSET ?"
        )
        rows = (
            self.db.connection()
            .execute(sql, [*args, query.per_page, (query.page - 1) * query.per_page])
            .fetchall()
        )
        found = []
        for row in rows:
            body = self.summary(row)
            body["id"] = body.pop("pdf_id")
            body["request_args"] = redacted(json.loads(row["request_args"]))
            found.append(body)
        return found

    def delete(self, app_id: str, pdf_id: str) -> dict[str, Any]:
        """Remove the file, pages and outputs; the metadata stays (as Mathpix keeps it)."""
        self.row(app_id, pdf_id)
        now = time.time()
        gone = PdfUnknownIdError("The document was deleted before it was finished", pdf_id=pdf_id)
        stopped = gone.to_mathpix()
        with self.db.write() as conn:
            self._set_error(conn, pdf_id, stopped, now, only_active=True)
            conn.execute(
                "UPDATE pdfs SET deleted_at = coalesce(deleted_at, ?), lease_owner = NULL,"
                " lease_until = 0 WHERE pdf_id = ?",
                (now, pdf_id),
            )
            conn.execute("DELETE FROM pdf_pages WHERE pdf_id = ?", (pdf_id,))
            conn.execute("DELETE FROM pdf_outputs WHERE pdf_id = ?", (pdf_id,))
        with suppress(FileNotFoundError):
            self.path(pdf_id).unlink()
        return self.summary(self.row(app_id, pdf_id))
