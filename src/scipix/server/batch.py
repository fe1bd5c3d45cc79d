"""``POST /v3/batch``: many images by key, processed in the background, polled by id.

The batch and each result as it arrives are stored in the server database, so any worker process
answers ``GET /v3/batch/{id}``. A failed item carries its error as its result (errors as data).
At shutdown, unfinished items get a ``sys_exception`` result so that clients stop polling.
:class:`BatchRequest` is the body in the OpenAPI schema.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, Field

from scipix.errors import (
    BatchUnknownIdError,
    ImageMissingError,
    OptionsError,
    ScipixError,
    TokenError,
    ValueOutOfRangeError,
)
from scipix.server.auth import Principal
from scipix.server.callbacks import Callback, CallbackSender
from scipix.server.fetch import fetch_image
from scipix.server.intake import decode_data_uri
from scipix.server.legacy import latex_options, legacy_body
from scipix.server.options import CallOptions, text_options
from scipix.server.state import ServerState
from scipix.server.store import Database
from scipix.settings import ServerSettings

log = logging.getLogger("scipix.server")
MAX_BATCH_ITEMS = 1000
OCR_BEHAVIORS = ("latex", "text")
_BEHAVIOR_DOC = "Whose options and answer: /v3/latex's or /v3/text's."


class BatchUrl(BaseModel):
    """One item as an object: its image and the options of this item alone."""

    model_config = ConfigDict(extra="allow")

    url: str = Field(description="The image: a data URI or an http(s) URL (or as src).")
    ocr_behavior: str | None = Field(
        None,
        json_schema_extra={"enum": list(OCR_BEHAVIORS)},
        description=_BEHAVIOR_DOC + " Default: the batch's ocr_behavior.",
    )


class BatchRequest(BaseModel):
    """The JSON body of ``POST /v3/batch``: the images by key; the other keys are options, those
    of ``/v3/latex`` or ``/v3/text`` (``ocr_behavior``), shared by every item."""

    model_config = ConfigDict(extra="allow")

    urls: dict[str, str | BatchUrl] = Field(
        min_length=1,
        max_length=MAX_BATCH_ITEMS,
        description="The images by key: a data URI or an http(s) URL each.",
    )
    ocr_behavior: str = Field(
        OCR_BEHAVIORS[0], json_schema_extra={"enum": list(OCR_BEHAVIORS)}, description=_BEHAVIOR_DOC
    )


_BATCH_ONLY = tuple(BatchRequest.model_fields)


@dataclass(frozen=True)
class BatchItem:
    key: str
    src: str
    behavior: str
    call: CallOptions | None
    formats: tuple[str, ...]
    error: ScipixError | None


def _item_call(
    options: dict[str, Any], behavior: str, principal: Principal
) -> tuple[CallOptions, tuple[str, ...]]:
    if behavior == "text":
        return text_options(dict(options), principal), ()
    legacy = latex_options(dict(options), principal)
    return legacy.call, legacy.formats


def parse_batch(body: dict[str, Any], principal: Principal) -> list[BatchItem]:
    """Check a batch request; global option errors raise, per-item ones become item errors."""
    if principal.via_token:
        raise TokenError("batch requests are not allowed with an app_token")
    urls = body.get("urls")
    if not urls:
        raise ImageMissingError("A batch needs urls: {key: data URI or URL, ...}")
    if not isinstance(urls, dict):
        raise OptionsError("urls must be an object {key: url}", name="urls")
    if len(urls) > MAX_BATCH_ITEMS:
        raise ValueOutOfRangeError(
            f"a batch has at most {MAX_BATCH_ITEMS} urls, got {len(urls)}", name="urls"
        )
    behavior = body.get("ocr_behavior", "latex")
    if behavior not in OCR_BEHAVIORS:
        raise OptionsError("ocr_behavior must be 'latex' or 'text'", name="ocr_behavior")
    shared = {k: v for k, v in body.items() if k not in _BATCH_ONLY}
    _item_call(shared, behavior, principal)  # global errors fail the request
    return [
        _parse_item(str(key), value, shared, behavior, principal) for key, value in urls.items()
    ]


def _parse_item(
    key: str, value: Any, shared: dict[str, Any], behavior: str, principal: Principal
) -> BatchItem:
    options = dict(shared)
    if isinstance(value, dict):
        value = dict(value)
        src = value.pop("url", value.pop("src", None))
        item_behavior = value.pop("ocr_behavior", behavior)
        options.update(value)
    else:
        src, item_behavior = value, behavior
    try:
        if not isinstance(src, str) or not src:
            raise ImageMissingError(f"item {key!r} has no url")
        if item_behavior not in OCR_BEHAVIORS:
            raise OptionsError("ocr_behavior must be 'latex' or 'text'", name="ocr_behavior")
        call, formats = _item_call(options, item_behavior, principal)
    except ScipixError as error:
        return BatchItem(key, "", behavior, None, (), error)
    return BatchItem(key, src, item_behavior, call, formats, None)


class BatchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, app_id: str, keys: list[str]) -> int:
        with self.db.write() as conn:
            cur = conn.execute(
                "INSERT INTO batches (app_id, created_at, keys) VALUES (?, ?, ?)",
                (app_id, time.time(), json.dumps(keys)),
            )
            return int(cur.lastrowid or 0)

    def put(self, batch_id: int, key: str, result: dict[str, Any]) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO batch_results (batch_id, key, result) VALUES (?, ?, ?)",
                (batch_id, key, json.dumps(result)),
            )

    def get(self, app_id: str, batch_id: str) -> dict[str, Any]:
        unknown = BatchUnknownIdError(f"Unknown batch id {batch_id!r}", batch_id=batch_id)
        if not (batch_id.isascii() and batch_id.isdigit()) or len(batch_id) > 18:
            raise unknown
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT keys FROM batches WHERE batch_id = ? AND app_id = ?",
                (int(batch_id), app_id),
            ).fetchone()
            if row is None:
                raise unknown
            results = conn.execute(
                "SELECT key, result FROM batch_results WHERE batch_id = ?", (int(batch_id),)
            ).fetchall()
        keys: list[str] = json.loads(row["keys"])
        done = {r["key"]: json.loads(r["result"]) for r in results}
        return {"keys": keys, "results": {k: done[k] for k in keys if k in done}}

    def fill_missing(self, batch_id: int, keys: list[str], message: str) -> None:
        error = ScipixError(message).to_mathpix()
        with self.db.write() as conn:
            for key in keys:
                conn.execute(
                    "INSERT OR IGNORE INTO batch_results (batch_id, key, result) VALUES (?, ?, ?)",
                    (batch_id, key, json.dumps(error)),
                )


class BatchRunner:
    """Runs batches as tasks on the server's event loop (recognition itself in threads)."""

    def __init__(self, state: ServerState, store: BatchStore, callbacks: CallbackSender) -> None:
        self.state = state
        self.store = store
        self.callbacks = callbacks
        self._tasks: dict[int, tuple[asyncio.Task[None], list[str]]] = {}

    def start(
        self,
        batch_id: int,
        items: list[BatchItem],
        principal: Principal,
        callback: Callback | None = None,
    ) -> None:
        """Run the batch; ``callback``: POST its results there once every item is answered."""
        task = asyncio.create_task(self._run(batch_id, items, principal, callback))
        self._tasks[batch_id] = (task, [item.key for item in items])
        task.add_done_callback(lambda _t: self._tasks.pop(batch_id, None))

    async def _run(
        self,
        batch_id: int,
        items: list[BatchItem],
        principal: Principal,
        callback: Callback | None = None,
    ) -> None:
        parallel = anyio.Semaphore(max(1, int(self.state.limiter.total_tokens)))

        async def one(item: BatchItem) -> None:
            async with parallel:
                body = await self._process(item, principal)
                await anyio.to_thread.run_sync(self.store.put, batch_id, item.key, body)

        try:
            async with anyio.create_task_group() as group:
                for item in items:
                    group.start_soon(one, item)
        except Exception:  # a store failure: the remaining items still get an answer
            log.exception("batch %s failed", batch_id)
            keys = [item.key for item in items]
            await anyio.to_thread.run_sync(
                self.store.fill_missing, batch_id, keys, "Internal error while processing the batch"
            )
        if callback is not None:
            try:
                found = await anyio.to_thread.run_sync(
                    self.store.get, principal.app_id, str(batch_id)
                )
            except ScipixError as exc:  # the store failed: no callback, the batch stays
                log.warning("batch %s: no callback: %s", batch_id, exc.message)
                return
            status = {"batch_id": str(batch_id), **found}
            await self.callbacks.send(callback, "batch.completed", status)

    async def _process(self, item: BatchItem, principal: Principal) -> dict[str, Any]:
        if item.error is not None or item.call is None:
            return (item.error or ScipixError("invalid item")).to_mathpix()
        started = time.perf_counter()
        settings: ServerSettings = self.state.settings.server
        try:
            if item.src.lower().startswith(("http://", "https://")):
                image = await fetch_image(item.src, settings)
            else:
                image = decode_data_uri(item.src, settings.max_image_bytes)
            result = await self.state.recognize(image, item.call.recognize, principal.app_id)
        except ScipixError as error:
            return error.to_mathpix()
        except Exception:  # one item's internal failure must not sink the batch
            log.exception("batch item %r failed", item.key)
            return ScipixError("Internal error while processing this item").to_mathpix()
        body = result.to_mathpix() if item.behavior == "text" else legacy_body(result, item.formats)
        await self.state.record(principal, "/v3/batch", item.call, body, started, result.request_id)
        return body

    async def close(self, grace_s: float) -> None:
        """Let running batches finish for ``grace_s``; then stop them and answer their rest."""
        running = list(self._tasks.items())
        if not running:
            return
        with anyio.move_on_after(grace_s):
            await asyncio.gather(*(task for _, (task, _keys) in running), return_exceptions=True)
        for batch_id, (task, keys) in running:
            if not task.done():
                task.cancel()
            message = "The server shut down before this item was processed; submit it again"
            await anyio.to_thread.run_sync(self.store.fill_missing, batch_id, keys, message)
