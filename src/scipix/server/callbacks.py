"""Callbacks (webhooks) of ``/v3/pdf`` and ``/v3/batch``: when a document (a batch) finishes,
its status (its results) are POSTed to the URL the request named, as Mathpix does.

Two request shapes are accepted: mpxpy's ``callback_url`` (+ ``callback_headers``,
``callback_events``: ``file.completed`` and/or ``file.error``, both by default) and the older
``callback`` object ``{"post": url, "headers"?: {...}, "reply"?: {...}}`` (``reply`` is merged
into the body), which ``/v3/batch`` takes too (event ``batch.completed``, body ``batch_id``,
``keys``, ``results``). Off unless ``server.callbacks`` is on. A callback URL must be
``http(s)``, its host in ``server.callback_hosts`` when that list is set, and every address it
resolves to public (not loopback, private, link-local, ...) unless
``server.callback_allow_private`` is on: checked at upload (``opts_bad_callback``) and again at
each delivery, which connects to the checked address itself (the SSRF guard of
:mod:`scipix.server.fetch`). A document's body is its status (``GET /v3/pdf/{pdf_id}``) plus
``event``; with ``server.callback_secret`` set it is signed as Mathpix signs
(``Mathpix-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "t.body">``, which
``mpxpy.webhooks.verify_signature`` checks). Delivery is tried ``server.callback_attempts`` times
with doubling waits from ``server.callback_backoff_s`` (on a connection error, a timeout, 408, 429
or 5xx); it never changes the document. Deliveries wait in the server database's outbox until
delivered or given up: a server stopped or killed meanwhile leaves them to the next one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
from pydantic import ConfigDict, Field

from scipix.errors import CallbackError, ImageDownloadError, StoreError
from scipix.schema import OptionsModel
from scipix.server.fetch import checked_target
from scipix.server.store import Database
from scipix.settings import ServerSettings

log = logging.getLogger("scipix.server")
EVENTS = ("file.completed", "file.error")
MAX_HEADERS = 10
MAX_HEADER_BYTES = 4096
_RESERVED = {"host", "content-type", "content-length", "transfer-encoding", "connection"}
_RESERVED |= {"user-agent"}
_RETRY_STATUS = {408, 429}
#: How often the outbox is looked at when nothing wakes the sender (a retry's time comes, or
#: another worker stored a delivery).
OUTBOX_POLL_S = 2.0
#: A delivery is leased for the URL time-out plus this long (then another worker may try it).
LEASE_MARGIN_S = 30.0
#: Deliveries claimed at once.
CLAIM_BATCH = 16


class CallbackOptions(OptionsModel):
    """The callback fields of a ``/v3/pdf`` request."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    callback_url: str | None = Field(
        None, max_length=2048, description="POST the status here when the document finishes."
    )
    callback_headers: dict[str, str] | None = Field(
        None, description="Headers sent with each delivery (at most 10, 4 KB)."
    )
    callback_events: list[str] | None = Field(
        None, description="Events to deliver: file.completed, file.error (default both)."
    )
    callback: dict[str, Any] | None = Field(
        None, description='The older form: {"post": url, "headers"?: {...}, "reply"?: {...}}.'
    )


@dataclass(frozen=True)
class Callback:
    """Where and what to deliver."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    events: tuple[str, ...] | None = None  # None: every event (the callback object)
    reply: dict[str, Any] = field(default_factory=dict)


def _refuse(message: str, url: str | None = None) -> CallbackError:
    return CallbackError(message, post=url)


def callback_of(options: dict[str, Any]) -> Callback | None:
    """The callback a request names (shape only; :func:`checked_callback` checks the rest)."""
    given = CallbackOptions.model_validate(options)
    if given.callback is not None:
        if given.callback_url is not None:
            raise _refuse("send either callback or callback_url, not both")
        post = given.callback.get("post")
        extra = set(given.callback) - {"post", "headers", "reply", "body"}
        if not isinstance(post, str) or extra:
            raise _refuse("callback must be {post: url, headers?: {...}, reply?: {...}}")
        headers, reply = given.callback.get("headers") or {}, given.callback.get("reply") or {}
        if not isinstance(headers, dict) or not isinstance(reply, dict):
            raise _refuse("callback.headers and callback.reply must be objects", post)
        if "batch_id" in reply:
            raise CallbackError("callback.reply may not contain batch_id", post=post, reply=reply)
        return Callback(post, _headers(headers, post), None, reply)
    if given.callback_url is None:
        if given.callback_headers is not None or given.callback_events is not None:
            raise _refuse("callback_headers and callback_events need callback_url")
        return None
    url = given.callback_url
    events = tuple(
        dict.fromkeys(given.callback_events if given.callback_events is not None else EVENTS)
    )
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise _refuse(f"unknown callback_events {unknown} (known: {', '.join(EVENTS)})", url)
    return Callback(url, _headers(given.callback_headers or {}, url), events)


def _headers(headers: dict[str, Any], url: str) -> dict[str, str]:
    if len(headers) > MAX_HEADERS:
        raise _refuse(f"at most {MAX_HEADERS} callback headers", url)
    size = 0
    for name, value in headers.items():
        if not isinstance(value, str) or not name.isascii() or not name.replace("-", "").isalnum():
            raise _refuse(f"callback header {name!r} must be a token name with a string value", url)
        if name.lower() in _RESERVED or name.lower().startswith("mathpix-"):
            raise _refuse(f"callback header {name!r} is set by the server", url)
        if "\r" in value or "\n" in value:
            raise _refuse(f"callback header {name!r} has a line break", url)
        size += len(name) + len(value)
    if size > MAX_HEADER_BYTES:
        raise _refuse(f"callback headers are larger than {MAX_HEADER_BYTES} bytes", url)
    return dict(headers)


def redacted(request_args: dict[str, Any]) -> dict[str, Any]:
    """``request_args`` as listings and history show them: callback header values hidden (they
    often carry the receiver's credentials)."""
    shown = dict(request_args)
    if isinstance(shown.get("callback_headers"), dict):
        shown["callback_headers"] = dict.fromkeys(shown["callback_headers"], "***")
    old = shown.get("callback")
    if isinstance(old, dict) and isinstance(old.get("headers"), dict):
        shown["callback"] = {**old, "headers": dict.fromkeys(old["headers"], "***")}
    return shown


def _delivery_settings(settings: ServerSettings) -> ServerSettings:
    return settings.model_copy(update={"allow_private_urls": settings.callback_allow_private})


async def checked_callback(options: dict[str, Any], settings: ServerSettings) -> Callback | None:
    """The request's callback, refused (``opts_bad_callback``) when callbacks are off, or its
    URL is not http(s), not an allowed host, or resolves to an address it may not reach."""
    found = callback_of(options)
    if found is None:
        return None
    if not settings.callbacks:
        raise _refuse(
            "callbacks are off on this server (server.callbacks); poll GET /v3/pdf/{pdf_id}",
            found.url,
        )
    host = (urlsplit(found.url).hostname or "").lower()
    allowed = [h.lower() for h in settings.callback_hosts]
    if allowed and host not in allowed:
        raise _refuse(f"{host!r} is not in server.callback_hosts", found.url)
    try:
        await checked_target(found.url, _delivery_settings(settings))
    except ImageDownloadError as exc:
        raise _refuse(f"callback URL refused: {exc.message}", found.url) from None
    return found


def signature(secret: str, body: bytes, now: float | None = None) -> str:
    """Mathpix's ``Mathpix-Signature`` header value for ``body``."""
    stamp = str(int(time.time() if now is None else now))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return f"t={stamp},v1={digest.hexdigest()}"


class CallbackSender:
    """Delivers callbacks from an outbox in the server database (a delivery never raises into
    its caller). :meth:`send` stores the delivery before it is tried, so a server stopped or
    killed before it succeeded delivers it when the next one starts (at least once: a kill
    during the POST may deliver it twice); several workers on one database share the outbox,
    each delivery leased to one of them while it is tried."""

    def __init__(self, settings: ServerSettings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Deliver what is due, now and from now on (what an earlier server left too)."""
        if self.settings.callbacks and self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop())

    async def send(self, callback: Callback, event: str, status: dict[str, Any]) -> None:
        if not self.settings.callbacks or event not in (callback.events or (event,)):
            return
        body = json.dumps({**status, **callback.reply, "event": event}).encode()
        try:
            await anyio.to_thread.run_sync(self._store, callback, event, body)
        except StoreError as exc:
            log.warning("callback to %s not stored: %s", callback.url, exc.message)
            return
        self._wake.set()

    def _store(self, callback: Callback, event: str, body: bytes) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO callback_outbox (url, headers, body, event, next_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (callback.url, json.dumps(callback.headers), body, event, time.time()),
            )

    def pending(self) -> int:
        """How many deliveries wait in the outbox (due or not)."""
        row = self.db.connection().execute("SELECT COUNT(*) FROM callback_outbox").fetchone()
        return int(row[0])

    async def _loop(self) -> None:
        while True:
            try:
                due = await anyio.to_thread.run_sync(self._claim)
            except StoreError as exc:
                log.warning("callbacks: %s", exc.message)
                due = []
            for row in due:
                task = asyncio.create_task(self._deliver(row))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._wake.clear()
            with anyio.move_on_after(OUTBOX_POLL_S):
                await self._wake.wait()

    def _claim(self) -> list[dict[str, Any]]:
        """The due deliveries nobody is trying, now leased to this sender."""
        now = time.time()
        lease = now + self.settings.url_timeout_s + LEASE_MARGIN_S
        with self.db.write() as conn:
            rows = conn.execute(
                "UPDATE callback_outbox SET lease_owner = ?, lease_until = ? WHERE id IN"
                " (SELECT id FROM callback_outbox WHERE next_at <= ? AND lease_until < ?"
                " ORDER BY id LIMIT ?) RETURNING id, url, headers, body, attempts",
                (self.owner, lease, now, now, CLAIM_BATCH),
            ).fetchall()
        return [dict(row) for row in rows]

    async def _deliver(self, row: dict[str, Any]) -> None:
        callback = Callback(url=row["url"], headers=json.loads(row["headers"]))
        attempt = int(row["attempts"]) + 1
        try:
            status = await self._post(callback, row["body"])
        except (ImageDownloadError, httpx.HTTPError, TimeoutError) as exc:
            outcome, retry = repr(getattr(exc, "message", exc)), True
        else:
            if 200 <= status < 300:
                await self._finish(row["id"], None)
                return
            outcome, retry = f"HTTP {status}", status >= 500 or status in _RETRY_STATUS
        log.warning("callback to %s, attempt %d: %s", callback.url, attempt, outcome)
        if not retry or attempt >= self.settings.callback_attempts:
            await self._finish(row["id"], None)
            return
        wait = self.settings.callback_backoff_s * 2 ** (attempt - 1)
        await self._finish(row["id"], (attempt, time.time() + wait))
        await asyncio.sleep(wait)
        self._wake.set()

    async def _finish(self, row_id: int, retry: tuple[int, float] | None) -> None:
        """Delivered or given up (``retry`` None): gone from the outbox; else tried again
        at the given time."""

        def write() -> None:
            with self.db.write() as conn:
                if retry is None:
                    conn.execute("DELETE FROM callback_outbox WHERE id = ?", (row_id,))
                else:
                    conn.execute(
                        "UPDATE callback_outbox SET attempts = ?, next_at = ?, lease_owner = NULL,"
                        " lease_until = 0 WHERE id = ?",
                        (*retry, row_id),
                    )

        try:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(write)
        except StoreError as exc:  # the lease runs out: it is tried again
            log.warning("callback outbox: %s", exc.message)

    async def _post(self, callback: Callback, body: bytes) -> int:
        target, host, _ = await checked_target(callback.url, _delivery_settings(self.settings))
        port = urlsplit(callback.url).port
        headers = {
            **callback.headers,
            "Host": host if port is None else f"{host}:{port}",
            "Content-Type": "application/json",
            "User-Agent": "scipix-callback",
        }
        if self.settings.callback_secret:
            headers["Mathpix-Signature"] = signature(self.settings.callback_secret, body)
        with anyio.fail_after(self.settings.url_timeout_s):
            async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
                request = client.build_request(
                    "POST", target, content=body, headers=headers, extensions={"sni_hostname": host}
                )
                response = await client.send(request)
        return response.status_code

    async def close(self) -> None:
        """Stop delivering; what was not delivered stays in the outbox for the next server."""
        tasks = [t for t in (self._loop_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop_task = None
