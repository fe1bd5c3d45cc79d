"""What the server remembers about requests: rate windows, usage counters, history, corrections.

* ``admit`` counts a request in its key's one-minute window and refuses it past the limit (the
  counter lives in SQLite, so several worker processes share one limit).
* ``record`` adds one request to the usage counters and (unless history is off for the key, the
  server or the request) to the history that ``GET /v3/ocr-results`` searches, in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from scipix.errors import RateLimitError
from scipix.server.store import Database

Timespan = Literal["hour", "day", "month", "year"]
GROUP_FIELDS = ("app_id", "usage_type", "request_args_hash")
DETECTIONS = (
    "is_printed",
    "is_handwritten",
    "contains_table",
    "contains_chemistry",
    "contains_diagram",
    "contains_triangle",
    "contains_algorithm",
)


def args_hash(request_args: dict[str, Any]) -> str:
    """Mathpix's ``request_args_hash``: the same options give the same hash (src excluded)."""
    kept = {k: v for k, v in request_args.items() if k not in ("src", "metadata", "tags")}
    canonical = json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def iso_time(ts: float) -> str:
    """Mathpix's timestamp form: ``2020-05-22T23:20:18.817Z``."""
    moment = datetime.fromtimestamp(ts, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def detections_of(result: dict[str, Any] | None) -> dict[str, bool]:
    """What ``ocr-results`` can filter on, read from a result body."""
    if not result:
        return {}
    types = {
        str(line.get("type")) for line in result.get("line_data") or [] if isinstance(line, dict)
    }
    text = str(result.get("text") or "")
    printed, handwritten = printed_or_handwritten(result)
    return {
        "is_printed": printed,
        "is_handwritten": handwritten,
        "contains_table": "table" in types or "\\begin{tabular}" in text,
        "contains_chemistry": "<smiles" in text,
        "contains_diagram": "diagram" in types,
        "contains_triangle": False,
        "contains_algorithm": "pseudocode" in types,
    }


def printed_or_handwritten(result: dict[str, Any]) -> tuple[bool, bool]:
    """``is_printed`` and ``is_handwritten`` as the result said them: its own fields
    (``/v3/text``), else ``/v3/latex``'s ``detection_map.is_printed`` (a score: handwritten
    when it is under 0.5, the only other verdict scipix gives)."""
    if "is_printed" in result or "is_handwritten" in result:
        return bool(result.get("is_printed")), bool(result.get("is_handwritten"))
    detection_map = result.get("detection_map")
    if isinstance(detection_map, dict) and "is_printed" in detection_map:
        printed = float(detection_map["is_printed"] or 0) >= 0.5
        return printed, not printed
    return False, False


@dataclass(frozen=True)
class HistoryEntry:
    request_id: str
    app_id: str
    timestamp: float
    endpoint: str
    duration: float
    request_args: dict[str, Any]
    result: dict[str, Any] | None
    tags: tuple[str, ...] = ()
    usage_type: str | None = "image"  # None: not counted (a failed request)
    keep: bool = True  # False: counted in usage, left out of history (privacy)


@dataclass(frozen=True)
class ResultFilter:
    page: int = 1
    per_page: int = 100
    from_ts: float | None = None
    to_ts: float | None = None
    request_id: str | None = None
    pdf_id: str | None = None  # the pages of one document (request ids <pdf_id>-<page>)
    text: str | None = None
    text_display: str | None = None
    latex_styled: str | None = None
    tags: tuple[str, ...] = ()
    detections: dict[str, bool] = field(default_factory=dict)
    include_null_results: bool = False


@dataclass(frozen=True)
class UsageQuery:
    from_ts: float | None = None
    to_ts: float | None = None
    usage_type: str | None = None
    request_args_hash: str | None = None
    group_by: tuple[str, ...] = ("usage_type",)
    timespan: Timespan = "month"
    page: int = 1
    per_page: int = 100


def _bucket(ts: float, span: Timespan) -> datetime:
    moment = datetime.fromtimestamp(ts, tz=UTC)
    if span == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    if span == "day":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if span == "month":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


class Ledger:
    def __init__(self, db: Database) -> None:
        self.db = db

    def admit(self, app_id: str, limit: int, now: float | None = None) -> int:
        """Count one request in this minute; :class:`RateLimitError` once past ``limit``."""
        window = int((time.time() if now is None else now) // 60)
        with self.db.write() as conn:
            conn.execute(
                "DELETE FROM rate_windows WHERE app_id = ? AND window < ?", (app_id, window)
            )
            row = conn.execute(
                "INSERT INTO rate_windows (app_id, window, count) VALUES (?, ?, 1)"
                " ON CONFLICT (app_id, window) DO UPDATE SET count = count + 1 RETURNING count",
                (app_id, window),
            ).fetchone()
        count = int(row[0])
        if count > limit:
            raise RateLimitError(
                "Too many requests",
                limit_name="requests_per_minute",
                limit_value=limit,
                count=count,
            )
        return count

    def record(self, entry: HistoryEntry) -> None:
        hour = int(entry.timestamp // 3600) * 3600
        with self.db.write() as conn:
            if entry.usage_type is not None:
                conn.execute(
                    "INSERT INTO usage (app_id, hour, usage_type, request_args_hash, count)"
                    " VALUES (?, ?, ?, ?, 1)"
                    " ON CONFLICT (app_id, hour, usage_type, request_args_hash)"
                    " DO UPDATE SET count = count + 1",
                    (entry.app_id, hour, entry.usage_type, args_hash(entry.request_args)),
                )
            if entry.keep:
                conn.execute(
                    "INSERT OR REPLACE INTO history (request_id, app_id, timestamp, endpoint,"
                    " duration, request_args, result, tags, detections)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        entry.request_id,
                        entry.app_id,
                        entry.timestamp,
                        entry.endpoint,
                        entry.duration,
                        json.dumps(entry.request_args, default=str),
                        None if entry.result is None else json.dumps(entry.result, default=str),
                        json.dumps(list(entry.tags)),
                        json.dumps(detections_of(entry.result)),
                    ),
                )

    def results(self, app_id: str, flt: ResultFilter) -> list[dict[str, Any]]:
        """``GET /v3/ocr-results``: newest first, one page."""
        where = ["app_id = ?"]
        args: list[Any] = [app_id]
        if flt.from_ts is not None:
            where.append("timestamp >= ?")
            args.append(flt.from_ts)
        if flt.to_ts is not None:
            where.append("timestamp < ?")
            args.append(flt.to_ts)
        if flt.request_id is not None:
            where.append("request_id = ?")
            args.append(flt.request_id)
        if flt.pdf_id is not None:
            where.append("substr(request_id, 1, length(?) + 1) = ? || '-'")
            args += [flt.pdf_id, flt.pdf_id]
        if not flt.include_null_results:
            where.append("result IS NOT NULL AND json_extract(result, '$.error') IS NULL")
        for name in ("text", "text_display", "latex_styled"):
            needle = getattr(flt, name)
            if needle is not None:
                where.append(f"instr(coalesce(json_extract(result, '$.{name}'), ''), ?) > 0")
                args.append(needle)
        for tag in flt.tags:
            where.append("EXISTS (SELECT 1 FROM json_each(history.tags) WHERE value = ?)")
            args.append(tag)
        for name, wanted in flt.detections.items():
            where.append(f"coalesce(json_extract(detections, '$.{name}'), 0) = ?")
            args.append(int(wanted))
        sql = (
            "SELECT * FROM history WHERE "
            + " AND ".join(where)
            + " ORDER BY timestamp DESC, request_id LIMIT ? OFFSET ?"
        )
        args += [flt.per_page, (flt.page - 1) * flt.per_page]
        rows = self.db.connection().execute(sql, args).fetchall()
        return [
            {
                "image_id": row["request_id"],
                "request_id": row["request_id"],
                "app_id": row["app_id"],
                "timestamp": iso_time(row["timestamp"]),
                "duration": round(row["duration"], 6),
                "endpoint": row["endpoint"],
                "request_args": json.loads(row["request_args"]),
                "result": None if row["result"] is None else json.loads(row["result"]),
                "detections": json.loads(row["detections"]),
            }
            for row in rows
        ]

    def usage(self, app_id: str, query: UsageQuery) -> list[dict[str, Any]]:
        """``GET /v3/ocr-usage``: counts per time bucket and the ``group_by`` fields.

        Grouped fields are strings; the others list every value that was summed (as in
        Mathpix's older examples, where ``app_id`` and ``request_args_hash`` are arrays).
        """
        where = ["app_id = ?"]
        args: list[Any] = [app_id]
        if query.from_ts is not None:
            where.append("hour >= ?")
            args.append(int(query.from_ts // 3600) * 3600)
        if query.to_ts is not None:
            where.append("hour < ?")
            args.append(query.to_ts)
        for name in ("usage_type", "request_args_hash"):
            if getattr(query, name) is not None:
                where.append(f"{name} = ?")
                args.append(getattr(query, name))
        sql = "SELECT * FROM usage WHERE " + " AND ".join(where) + " ORDER BY hour"
        groups: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in self.db.connection().execute(sql, args):
            start = _bucket(row["hour"], query.timespan)
            group = (start, *(row[name] for name in query.group_by))
            item = groups.setdefault(group, {"from_date": start, "count": 0, "_sets": {}})
            item["count"] += row["count"]
            for name in GROUP_FIELDS:
                if name not in query.group_by:
                    item["_sets"].setdefault(name, set()).add(row[name])
                else:
                    item[name] = row[name]
        out: list[dict[str, Any]] = []
        for item in groups.values():
            sets = item.pop("_sets")
            item["from_date"] = iso_time(item["from_date"].timestamp())
            for name, values in sets.items():
                item[name] = sorted(values)
            out.append(item)
        out.sort(key=lambda it: it["from_date"], reverse=True)
        first = (query.page - 1) * query.per_page
        return out[first : first + query.per_page]

    def add_correction(
        self,
        app_id: str,
        latex: str,
        request_id: str | None,
        image: bytes | None,
        original: str | None = None,
    ) -> tuple[int, str | None]:
        """Store a user's corrected LaTeX; the original comes from history when it is there."""
        with self.db.write() as conn:
            if request_id is not None:
                row = conn.execute(
                    "SELECT json_extract(result, '$.latex_styled') AS l FROM history"
                    " WHERE request_id = ? AND app_id = ?",
                    (request_id, app_id),
                ).fetchone()
                if row is not None and row["l"] is not None:
                    original = row["l"]
            cur = conn.execute(
                "INSERT INTO corrections (app_id, created_at, request_id, latex, original_latex,"
                " image) VALUES (?, ?, ?, ?, ?, ?)",
                (app_id, time.time(), request_id, latex, original, image),
            )
            return int(cur.lastrowid or 0), original
