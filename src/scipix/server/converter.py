"""``POST /v3/converter``: Mathpix Markdown in, the requested ``formats`` out, as Mathpix does it.

The request (``{"mmd": ..., "formats": {"docx": true, ...}, "conversion_options"?}``, at most
:data:`MAX_BODY_BYTES`) is checked at once: unknown keys (``opts_bad_format``), formats scipix
does not make (``opts_unknown_format``; ``latex.pdf`` without a TeX engine too) and math opened
and never closed (``math_syntax``) are refused before anything is stored. The conversion is then
stored (``conversions``, ``conversion_outputs`` in the server database) and its formats are made
in the background by :mod:`scipix.documents.convert`, each stored as it is done (``completed``,
or ``error`` with its error). A format still ``processing`` when the process making it is gone
(killed on this host) or after :data:`STALE_S` is reported as ``error``: submit it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import Field, StrictBool

from scipix.documents.browser import require_browser
from scipix.documents.convert import MMD_FORMATS, mmd_to, mmd_to_markdown, require_tex_engine
from scipix.errors import OptionsError, PdfUnknownIdError, ScipixError, UnknownFormatError
from scipix.schema import OptionsModel
from scipix.server.ledger import iso_time
from scipix.server.pdflease import owner_alive, worker_id
from scipix.server.store import Database

log = logging.getLogger("scipix.server")
#: Mathpix's limit on a ``POST /v3/converter`` body.
MAX_BODY_BYTES = 10_000_000
#: A format ``processing`` for longer than this was interrupted (pandoc is stopped after 120 s).
STALE_S = 1800.0
#: Conversions (pandoc, TeX processes) running at once in one server process.
MAX_RUNNING = 2


class ConverterRequest(OptionsModel):
    """The JSON body of ``POST /v3/converter``."""

    mmd: str = Field(min_length=1, description="The Mathpix Markdown to convert.")
    formats: dict[str, StrictBool] = Field(
        default_factory=dict,
        description="Formats to make, as {format: true}: " + ", ".join(MMD_FORMATS) + ".",
    )
    conversion_options: dict[str, Any] | None = Field(
        None, description="Accepted for compatibility; scipix applies none of them."
    )
    metadata: dict[str, Any] | None = Field(None, description="Kept with the conversion.")


@dataclass(frozen=True)
class Conversion:
    """A checked request: the MMD and the formats to make."""

    mmd: str
    formats: tuple[str, ...]
    request_args: dict[str, Any]


def converter_request(body: dict[str, Any]) -> Conversion:
    """Check a ``POST /v3/converter`` body (everything that can be refused is refused here)."""
    checked = ConverterRequest.model_validate(body)
    wanted = tuple(dict.fromkeys(fmt for fmt, on in checked.formats.items() if on))
    for fmt in wanted:
        if fmt not in MMD_FORMATS:
            made = ", ".join(MMD_FORMATS)
            raise UnknownFormatError(
                f"formats: scipix does not make {fmt!r} (made: {made})", formats=fmt
            )
    if "latex.pdf" in wanted:
        require_tex_engine()
    if "pdf" in wanted:
        require_browser()
    mmd_to_markdown(checked.mmd)  # math opened and never closed: math_syntax now
    args = {k: v for k, v in body.items() if k != "mmd"}
    return Conversion(checked.mmd, wanted, args)


class ConverterStore:
    """Conversions and their outputs; every read names the caller's ``app_id``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, conversion_id: str, app_id: str, conversion: Conversion, owner: str) -> None:
        """Stored with its formats ``processing``; ``owner``: the process that makes them."""
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO conversions (conversion_id, app_id, created_at, modified_at, mmd,"
                " request_args, owner) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    conversion_id,
                    app_id,
                    now,
                    now,
                    conversion.mmd,
                    json.dumps(conversion.request_args),
                    owner,
                ),
            )
            for fmt in conversion.formats:
                conn.execute(
                    "INSERT INTO conversion_outputs (conversion_id, format, status, updated_at)"
                    " VALUES (?, ?, 'processing', ?)",
                    (conversion_id, fmt, now),
                )

    def row(self, app_id: str, conversion_id: str) -> Any | None:
        """The caller's conversion, or None (it may be a pdf_id)."""
        return (
            self.db.connection()
            .execute(
                "SELECT * FROM conversions WHERE conversion_id = ? AND app_id = ?"
                " AND deleted_at IS NULL",
                (conversion_id, app_id),
            )
            .fetchone()
        )

    def put(self, conversion_id: str, fmt: str, data: bytes | None, error: Any) -> None:
        status = "error" if error is not None else "completed"
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO conversion_outputs (conversion_id, format, status, data,"
                " error, updated_at) SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM"
                " conversions WHERE conversion_id = ? AND deleted_at IS NULL)",
                (
                    conversion_id,
                    fmt,
                    status,
                    data,
                    None if error is None else json.dumps(error),
                    time.time(),
                    conversion_id,
                ),
            )

    def status(self, app_id: str, conversion_id: str) -> dict[str, Any]:
        """``{"status": "completed", "conversion_status": {format: {"status", ...}}}``."""
        found = self.row(app_id, conversion_id)
        if found is None:
            raise _unknown(conversion_id)
        stopped = not owner_alive(found["owner"])
        rows = (
            self.db.connection()
            .execute(
                "SELECT format, status, error, updated_at FROM conversion_outputs"
                " WHERE conversion_id = ?",
                (conversion_id,),
            )
            .fetchall()
        )
        formats: dict[str, Any] = {}
        for row in rows:
            entry: dict[str, Any] = {"status": row["status"]}
            if row["status"] == "processing" and (
                stopped or time.time() - row["updated_at"] > STALE_S
            ):
                lost = ScipixError("The conversion was interrupted; submit it again")
                entry = {"status": "error", "error_info": lost.to_mathpix()["error_info"]}
            elif row["error"]:
                entry["error_info"] = json.loads(row["error"]).get("error_info")
            formats[row["format"]] = entry
        return {"status": "completed", "conversion_status": formats}

    def output(self, app_id: str, conversion_id: str, fmt: str) -> tuple[str, Any] | None:
        """``(status, data or error)`` of one output, None when it was never asked for."""
        if self.row(app_id, conversion_id) is None:
            raise _unknown(conversion_id)
        row = (
            self.db.connection()
            .execute(
                "SELECT status, data, error FROM conversion_outputs"
                " WHERE conversion_id = ? AND format = ?",
                (conversion_id, fmt),
            )
            .fetchone()
        )
        if row is None:
            return None
        if row["status"] == "error":
            return "error", json.loads(row["error"])
        return str(row["status"]), row["data"]

    def delete(self, app_id: str, conversion_id: str) -> dict[str, Any]:
        if self.row(app_id, conversion_id) is None:
            raise _unknown(conversion_id)
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                "UPDATE conversions SET deleted_at = ?, mmd = '' WHERE conversion_id = ?",
                (now, conversion_id),
            )
            conn.execute("DELETE FROM conversion_outputs WHERE conversion_id = ?", (conversion_id,))
        return {"conversion_id": conversion_id, "deleted_at": iso_time(now)}

    def results(self, app_id: str, page: int, per_page: int) -> list[dict[str, Any]]:
        """``GET /v3/converter-results``: the caller's conversions, newest first."""
        rows = (
            self.db.connection()
            .execute(
                "SELECT * FROM conversions WHERE app_id = ? AND deleted_at IS NULL"
                " ORDER BY created_at DESC LIMIT ? OFFSET ?",
                (app_id, per_page, (page - 1) * per_page),
            )
            .fetchall()
        )
        return [
            {
                "id": row["conversion_id"],
                "input_file": "mmd",
                "status": "completed",
                "created_at": iso_time(row["created_at"]),
                "modified_at": iso_time(row["modified_at"]),
                "request_args": json.loads(row["request_args"]),
            }
            for row in rows
        ]


def _unknown(conversion_id: str) -> PdfUnknownIdError:
    return PdfUnknownIdError(
        f"Unknown conversion_id {conversion_id[:80]!r}", conversion_id=conversion_id[:80]
    )


class ConverterRunner:
    """Makes each conversion's formats in worker threads, at most :data:`MAX_RUNNING` at once."""

    def __init__(self, store: ConverterStore) -> None:
        self.store = store
        self.owner = worker_id()
        self._limiter = anyio.CapacityLimiter(MAX_RUNNING)
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, conversion_id: str, conversion: Conversion) -> None:
        task = asyncio.create_task(self._run(conversion_id, conversion))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, conversion_id: str, conversion: Conversion) -> None:
        for fmt in conversion.formats:
            data, error = await anyio.to_thread.run_sync(
                make, conversion.mmd, fmt, conversion_id, limiter=self._limiter
            )
            await anyio.to_thread.run_sync(self.store.put, conversion_id, fmt, data, error)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def make(mmd: str, fmt: str, name: str) -> tuple[bytes | None, dict[str, Any] | None]:
    """One format's bytes, or its error envelope (a conversion that fails fails alone)."""
    try:
        return mmd_to(mmd, fmt, name), None
    except ScipixError as error:
        return None, error.to_mathpix()
    except Exception:
        log.exception("conversion %s: the %s output failed", name, fmt)
        return None, ScipixError(f"Internal error while making {fmt}").to_mathpix()


def not_made(fmt: str) -> OptionsError:
    return UnknownFormatError(
        f"Unknown format {fmt!r} (made: {', '.join(MMD_FORMATS)})", formats=fmt
    )
