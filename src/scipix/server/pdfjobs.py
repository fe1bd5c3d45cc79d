"""The background work of ``/v3/pdf``: each server process claims documents from the queue in
the database (:class:`~scipix.server.pdfstore.PdfStore`) and reads their pages.

A claimed document is opened (``loaded``), its pages selected (``split``) and read in parallel,
at most as many at once as the server recognizes images (the same limiter as ``/v3/text``);
each page result is stored as it completes, with its usage and history (``/v3/pdf``, request id
``<pdf_id>-<page>``). A page that fails is stored with its error and the document goes on. When
every page is read, the outputs are assembled and the document is ``completed``. The lease is
renewed while the work goes on; a server stopped cleanly hands its documents back at once, a
killed one leaves them to be claimed again when the lease runs out (at once on the same host).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import anyio

from scipix.documents import (
    DocumentOptions,
    OpenedDocument,
    PageResult,
    open_document,
    read_page,
)
from scipix.errors import PdfError, PdfMissingError, PdfNoPagesError, ScipixError
from scipix.server.callbacks import CallbackSender, callback_of, redacted
from scipix.server.ledger import HistoryEntry
from scipix.server.pdflease import worker_id
from scipix.server.pdfoptions import TEXT_OUTPUTS, document_options, requested_conversions
from scipix.server.pdfoutputs import assemble_stored, document_status, make_outputs, page_text
from scipix.server.pdfstore import PdfJob, PdfStore
from scipix.server.state import ServerState

if TYPE_CHECKING:
    from scipix.service import Scipix

log = logging.getLogger("scipix.server")
LEASE_S = 30.0
POLL_S = 1.0
#: Documents one process works on at once (their pages share the recognition limiter).
MAX_DOCUMENTS = 2


class LeaseLostError(Exception):
    """Another worker holds the document now, or it was deleted: stop without writing."""


class PdfRunner:
    """Claims and processes documents on the server's event loop (the reading in threads)."""

    def __init__(
        self,
        state: ServerState,
        store: PdfStore,
        callbacks: CallbackSender,
        lease_s: float = LEASE_S,
        poll_s: float = POLL_S,
    ) -> None:
        self.state = state
        self.store = store
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.owner = worker_id()
        self.stall_s = state.settings.server.pdf_stall_s
        self._progress: dict[str, float] = {}  # pdf_id -> when its last page finished
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self.callbacks = callbacks
        self._jobs: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop())

    def wake(self) -> None:
        """A document was queued: look now instead of at the next poll."""
        self._wake.set()

    async def _loop(self) -> None:
        slots = asyncio.Semaphore(MAX_DOCUMENTS)
        while True:
            await slots.acquire()
            try:
                job = await anyio.to_thread.run_sync(self.store.claim, self.owner, self.lease_s)
            except Exception as exc:  # the database is busy or gone: try again at the next poll
                log.warning("cannot claim a PDF job: %r", exc)
                job = None
            if job is None:
                slots.release()
                self._wake.clear()
                with anyio.move_on_after(self.poll_s):
                    await self._wake.wait()
                continue
            task = asyncio.create_task(self._run(job))
            self._jobs.add(task)

            def done(finished: asyncio.Task[None]) -> None:
                self._jobs.discard(finished)
                slots.release()

            task.add_done_callback(done)

    async def _run(self, job: PdfJob) -> None:
        worker = asyncio.current_task()
        lost = asyncio.Event()
        self._progress[job.pdf_id] = time.monotonic()
        beat = asyncio.create_task(self._heartbeat(job, worker, lost))
        try:
            await self._process(job)
            await self._notify(job, "file.completed")
        except asyncio.CancelledError:
            if not lost.is_set():  # the server is stopping: hand the document back
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self.store.release, job.pdf_id, self.owner)
                raise
            if worker is not None:
                worker.uncancel()
            log.info("PDF %s: stalled, deleted or taken over; stopped", job.pdf_id)
        except LeaseLostError:
            log.info("PDF %s: deleted or taken over; stopped", job.pdf_id)
        except ScipixError as refused:
            await self._fail(job, refused.to_mathpix())
        except Exception:
            log.exception("PDF %s failed", job.pdf_id)
            internal = ScipixError("Internal error while processing this document; submit it again")
            await self._fail(job, internal.to_mathpix())
        finally:
            beat.cancel()
            self._progress.pop(job.pdf_id, None)

    async def _fail(self, job: PdfJob, error: dict[str, Any]) -> None:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self.store.fail, job.pdf_id, error, self.owner)
        await self._notify(job, "file.error")

    async def _notify(self, job: PdfJob, event: str) -> None:
        """Deliver the request's callback, if it named one (in the background; never fails)."""
        try:
            callback = callback_of(job.request_args)
            if callback is None:
                return
            status = await anyio.to_thread.run_sync(
                document_status, self.store, job.app_id, job.pdf_id
            )
        except ScipixError as exc:  # the store is busy or the document is gone: no callback
            log.warning("PDF %s: no callback: %s", job.pdf_id, exc.message)
            return
        await self.callbacks.send(callback, event, status)

    async def _heartbeat(
        self, job: PdfJob, worker: asyncio.Task[Any] | None, lost: asyncio.Event
    ) -> None:
        """Renew the lease; cancel the work once it is lost (deleted, or claimed elsewhere) or
        once no page finished for ``server.pdf_stall_s`` (a page that hangs: the document ends
        in error instead of staying ``split``)."""
        while True:
            await asyncio.sleep(min(self.lease_s / 3, self.stall_s / 2))
            idle = time.monotonic() - self._progress.get(job.pdf_id, time.monotonic())
            if idle > self.stall_s:
                stalled = ScipixError(
                    f"No page of this document finished in {self.stall_s:g} s"
                    " (server.pdf_stall_s); it was stopped"
                )
                await anyio.to_thread.run_sync(
                    self.store.fail, job.pdf_id, stalled.to_mathpix(), self.owner
                )
                await self._notify(job, "file.error")
                ours: bool | None = False
            else:
                ours = await self._renew(job)
            if ours is None:
                continue
            if not ours:
                lost.set()
                if worker is not None:
                    worker.cancel()
                return

    async def _renew(self, job: PdfJob) -> bool | None:
        """Whether the lease is still ours; None when the database could not say."""
        try:
            ours: bool = await anyio.to_thread.run_sync(
                self.store.renew, job.pdf_id, self.owner, self.lease_s
            )
        except ScipixError:  # the database is busy: the next beat tries again
            return None
        return ours

    async def _process(self, job: PdfJob) -> None:
        settings = self.state.settings
        options = document_options(job.request_args, settings.documents.dpi)
        doc = await anyio.to_thread.run_sync(self._open, job)
        try:
            pages = options.select_pages(doc.num_pages)
            if not pages:
                raise PdfNoPagesError(
                    f"page_ranges {job.request_args.get('page_ranges')!r} selects no page of"
                    f" this {doc.num_pages}-page document"
                )
            await anyio.to_thread.run_sync(
                self.store.set_pages, job.pdf_id, self.owner, doc.num_pages, pages
            )
            done = await anyio.to_thread.run_sync(self.store.done_pages, job.pdf_id)
            todo = iter([index for index in pages if index not in done])
            try:
                async with anyio.create_task_group() as group:
                    for _ in range(max(1, int(self.state.limiter.total_tokens))):
                        group.start_soon(self._pages, job, doc, todo, options)
            except BaseExceptionGroup as failed:
                raise first_error(failed) from None
        finally:
            await anyio.to_thread.run_sync(doc.close)
        self._progress[job.pdf_id] = time.monotonic()
        await anyio.to_thread.run_sync(self._finish, job, pages, options)

    def _open(self, job: PdfJob) -> OpenedDocument:
        limits = self.state.settings.documents
        try:
            data = self.store.path(job.pdf_id).read_bytes()
        except FileNotFoundError:  # deleted meanwhile (then the error is not written), or lost
            raise PdfMissingError("The uploaded file is no longer in the data directory") from None
        try:
            return open_document(data, max_pages=limits.max_pages, max_bytes=limits.max_bytes)
        except ScipixError:
            raise
        except Exception as exc:  # PDFium refusing a broken file in a way nobody foresaw
            log.warning("PDF %s cannot be opened: %r", job.pdf_id, exc)
            raise PdfError(f"The PDF cannot be read ({type(exc).__name__})") from None

    async def _pages(
        self, job: PdfJob, doc: OpenedDocument, todo: Iterator[int], options: DocumentOptions
    ) -> None:
        for index in todo:  # read and stored in one thread: a page read is never lost
            await anyio.to_thread.run_sync(
                self._read_and_store, job, doc, index, options, limiter=self.state.limiter
            )

    def _read_and_store(
        self, job: PdfJob, doc: OpenedDocument, index: int, options: DocumentOptions
    ) -> None:
        started = time.perf_counter()
        result = self._read(doc, index, options)
        self._store_page(job, index, result, options, started)
        self._progress[job.pdf_id] = time.monotonic()

    def _read(self, doc: OpenedDocument, index: int, options: DocumentOptions) -> PageResult:
        try:
            if self.state.service is None:
                raise self.state.model_error or ScipixError("recognition is unavailable")
            return read_page(doc, index, cast("Scipix", self.state.service), options)
        except ScipixError as refused:
            return PageResult.failed(index + 1, refused, options.dpi)
        except Exception:  # one page's internal failure must not sink the document
            log.exception("page %d failed", index + 1)
            internal = ScipixError("Internal error while reading this page")
            return PageResult.failed(index + 1, internal, options.dpi)

    def _store_page(
        self,
        job: PdfJob,
        index: int,
        result: PageResult,
        options: DocumentOptions,
        started: float,
    ) -> None:
        body = result.to_json()
        self.store.put_page(job.pdf_id, index, json.dumps(body))
        page_body: dict[str, Any] = {"pdf_id": job.pdf_id, "page": result.page}
        if result.error is not None:
            info = result.error.model_dump(mode="json", exclude_none=True)
            page_body.update(error=info.get("message", ""), error_info=info)
        else:
            page_body["text"] = page_text(result, options)
        self.state.ledger.record(
            HistoryEntry(
                request_id=f"{job.pdf_id}-{result.page}",
                app_id=job.app_id,
                timestamp=time.time(),
                endpoint="/v3/pdf",
                duration=time.perf_counter() - started,
                request_args=redacted(job.request_args),
                result=page_body,
                usage_type="pdf" if result.error is None else None,
                keep=job.keep_history,
            )
        )

    def _finish(self, job: PdfJob, pages: list[int], options: DocumentOptions) -> None:
        document = assemble_stored(self.store, job.pdf_id, pages, options)
        formats = tuple(dict.fromkeys((*TEXT_OUTPUTS, *requested_conversions(job.request_args))))
        made, failed = make_outputs(document, formats, job.pdf_id)
        if not self.store.complete(job.pdf_id, self.owner, made, failed):
            raise LeaseLostError(job.pdf_id)

    async def close(self) -> None:
        """Stop claiming; documents in progress are handed back (resumed by the next worker)."""
        tasks = [t for t in (self._loop_task, *self._jobs) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first real error of a task group (its cancellations are consequences)."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return first_error(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    first: BaseException = group.exceptions[0]
    return first
