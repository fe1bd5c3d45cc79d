"""What one running server holds (built once in the lifespan) and the one way it recognizes.

Recognition runs in worker threads (never on the event loop), at most ``limiter`` at a time;
the stores are SQLite and are also called from threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
from starlette.requests import Request

from scipix.errors import ModelError
from scipix.ink import Ink
from scipix.schema import RecognizeOptions, Result
from scipix.server.auth import Authenticator, Principal
from scipix.server.keys import KeyStore
from scipix.server.ledger import HistoryEntry, Ledger
from scipix.server.options import CallOptions
from scipix.server.store import Database
from scipix.settings import Settings


class RecognitionService(Protocol):
    """The part of :class:`scipix.service.Scipix` the server uses."""

    def recognize(
        self, image: bytes, options: RecognizeOptions, scope: str | None = None
    ) -> Result: ...

    def recognize_ink(self, ink: Ink, options: RecognizeOptions) -> Result: ...

    def warm_up(self) -> None:
        """Load the models now (else on first use); ModelError when unavailable."""
        ...

    def close(self) -> None: ...


@dataclass
class ServerState:
    settings: Settings
    service: RecognitionService | None  # None: the model could not be loaded (see model_error)
    model_error: ModelError | None
    db: Database
    keys: KeyStore
    ledger: Ledger
    auth: Authenticator
    limiter: anyio.CapacityLimiter

    async def recognize(self, image: bytes, options: RecognizeOptions, scope: str) -> Result:
        """One recognition in a worker thread; raises ScipixError subclasses on bad input.
        ``scope``: the caller's app_id — only its own cached results and corrections apply."""
        if self.service is None:
            raise self.model_error or ModelError()
        return await anyio.to_thread.run_sync(
            self.service.recognize, image, options, scope, limiter=self.limiter
        )

    async def recognize_ink(self, ink: Ink, options: RecognizeOptions) -> Result:
        """Pen strokes recognized in a worker thread (as :meth:`recognize`)."""
        if self.service is None:
            raise self.model_error or ModelError()
        return await anyio.to_thread.run_sync(
            self.service.recognize_ink, ink, options, limiter=self.limiter
        )

    async def record(
        self,
        principal: Principal,
        endpoint: str,
        call: CallOptions,
        body: dict[str, Any],
        started: float,
        request_id: str,
        *,
        usage_type: str | None = "image",
        force_history: bool = False,
    ) -> None:
        """Usage and history for one request (history only where the key, server and request
        allow it, or where the result can be read nowhere else: async requests)."""
        keep = principal.history_enabled(self.settings.server.history) and call.improve_mathpix
        entry = HistoryEntry(
            request_id=request_id,
            app_id=principal.app_id,
            timestamp=time.time(),
            endpoint=endpoint,
            duration=time.perf_counter() - started,
            request_args=call.request_args,
            result=body,
            tags=call.tags,
            usage_type=usage_type if "error" not in body else None,
            keep=keep or force_history,
        )
        await anyio.to_thread.run_sync(self.ledger.record, entry)


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.scipix
    return state
