"""The FastAPI app factory: Mathpix v3 routes, ``/health``, the web page, the OpenAPI schema.

``create_app(settings, service=None)`` builds the app; the recognition service (``Scipix``) is
built once in the lifespan, unless one is passed in (it is then the caller's to close). When the
model cannot be loaded, the server still starts: keys, history and usage work, ``/health`` says
why the model is missing, and recognition answers ``model_unavailable`` (HTTP 503) once an image
gets as far as the model (bad images and options are still answered with their own ids).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from scipix import __version__
from scipix.errors import ModelError
from scipix.server.auth import Authenticator
from scipix.server.batch import BatchRunner, BatchStore
from scipix.server.callbacks import CallbackSender
from scipix.server.converter import ConverterRunner, ConverterStore
from scipix.server.envelope import install_error_handlers
from scipix.server.keys import KeyStore
from scipix.server.ledger import Ledger
from scipix.server.openapi import install_openapi
from scipix.server.pdfjobs import PdfRunner
from scipix.server.pdfstore import PdfStore
from scipix.server.routes import (
    batch,
    converter,
    corrections,
    history,
    inbrowser,
    memory,
    ocr,
    pdf,
    strokes,
    tokens,
    web,
)
from scipix.server.state import RecognitionService, ServerState
from scipix.server.store import Database
from scipix.settings import Settings, get_settings

log = logging.getLogger("scipix.server")
SHUTDOWN_GRACE_S = 10.0


def build_service(settings: Settings) -> RecognitionService:
    """The real recognition service (imported here: the server module must not need a model)."""
    try:
        from scipix.service import Scipix
    except ImportError as exc:
        raise ModelError(f"the recognition service cannot be imported: {exc}") from exc

    # Each of the concurrent recognitions gets its share of the cores (no oversubscription).
    service: RecognitionService = Scipix(settings, workers=inference_slots(settings))
    return service


def inference_slots(settings: Settings) -> int:
    """Recognitions run at once in one process: ``performance.workers``, at least 2 (two
    overlap numpy beam search with ONNX Runtime; on 2 cores 2 gave 5.0 req/s against 3.6)."""
    return max(2, settings.performance.workers)


def _lifespan(settings: Settings, service: RecognitionService | None) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database.in_dir(settings.runtime.data_dir)
        model_error: ModelError | None = None
        owned = service is None
        svc = service
        try:
            if svc is None:
                svc = await anyio.to_thread.run_sync(build_service, settings)
            await anyio.to_thread.run_sync(svc.warm_up)  # load the models once, now
        except ModelError as exc:
            log.error("recognition is unavailable: %s", exc.message)
            model_error = exc
        keys, ledger = KeyStore(db), Ledger(db)
        state = ServerState(
            settings=settings,
            service=svc,
            model_error=model_error,
            db=db,
            keys=keys,
            ledger=ledger,
            auth=Authenticator(keys, ledger, settings.server),
            limiter=anyio.CapacityLimiter(inference_slots(settings)),
        )
        callbacks = CallbackSender(settings.server, db)
        runner = BatchRunner(state, BatchStore(db), callbacks)
        pdfs = PdfRunner(state, PdfStore(db, settings.runtime.data_dir / "pdfs"), callbacks)
        app.state.scipix = state
        app.state.batches = runner
        app.state.pdfs = pdfs
        app.state.converter = conversions = ConverterRunner(ConverterStore(db))
        pdfs.start()
        callbacks.start()
        try:
            yield
        finally:
            await conversions.close()
            await pdfs.close()
            await runner.close(SHUTDOWN_GRACE_S)
            await callbacks.close()
            if owned and svc is not None:
                await anyio.to_thread.run_sync(svc.close)
            db.close()

    return lifespan


async def _health(request: Request) -> JSONResponse:
    state: ServerState = request.app.state.scipix
    model_ok = state.service is not None and state.model_error is None
    body: dict[str, Any] = {
        "status": "ok" if model_ok else "degraded",
        "version": __version__,
        "model": "loaded" if model_ok else "unavailable",
    }
    if state.model_error is not None:
        body["model_error"] = state.model_error.message
    return JSONResponse(body)


def create_app(
    settings: Settings | None = None, service: RecognitionService | None = None
) -> FastAPI:
    """The scipix server. ``service``: an already built ``Scipix`` (tests share one)."""
    settings = settings if settings is not None else get_settings()
    app = FastAPI(
        title="scipix",
        version=__version__,
        summary="Self-hosted scientific OCR with a Mathpix v3-compatible API.",
        lifespan=_lifespan(settings, service),
        docs_url=None,  # Swagger UI and ReDoc load from a CDN; the schema is at /openapi.json
        redoc_url=None,
    )
    install_error_handlers(app)
    install_openapi(app)
    routers = (
        ocr,
        strokes,
        batch,
        pdf,
        converter,
        history,
        tokens,
        corrections,
        memory,
        web,
        inbrowser,
    )
    for module in routers:
        app.include_router(module.router)
    app.add_api_route("/health", _health, methods=["GET"], tags=["health"], summary="Liveness")
    app.mount("/static", StaticFiles(directory=web.static_dir()), name="static")
    return app


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``scipix serve --workers N`` (settings from the
    environment and ``$SCIPIX_CONFIG``); the worker ends when ``scipix serve`` does, even when
    that process is killed outright."""
    from scipix.server.lifeline import bind_to_parent

    bind_to_parent()
    return create_app(get_settings())
