"""The web page at ``/`` and its assets under ``/static`` (all served by scipix: no CDN)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse

from scipix.errors import OptionsError
from scipix.server.auth import Credential, Principal
from scipix.server.deps import AppIdHeader, AppKeyHeader, AppTokenHeader
from scipix.server.intake import parse_json_object, read_body
from scipix.server.preview import MAX_PREVIEW_CHARS, preview_latex, preview_text
from scipix.server.state import server_state

router = APIRouter(include_in_schema=False)
#: The page may load only what this server serves (the browser enforces it); WebAssembly may be
#: compiled (onnxruntime-web, for the in-browser recognition).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self';"
    " script-src 'self' 'wasm-unsafe-eval';"
    " connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def static_dir() -> Path:
    return Path(str(files("scipix.server") / "static"))


@router.get("/")
async def index() -> FileResponse:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
    }
    return FileResponse(static_dir() / "index.html", media_type="text/html", headers=headers)


def preview_caller(
    request: Request, _id: AppIdHeader, _key: AppKeyHeader, _token: AppTokenHeader
) -> Principal:
    """Whoever may call ``/v3/text`` may preview; a preview follows the typing, so it is not
    counted against the key's rate limit."""
    state = server_state(request)
    host = request.client.host if request.client else None
    return state.auth.identify(request.headers, host, Credential.KEY_OR_TOKEN)


@router.post("/web/preview")
async def preview(
    request: Request, _caller: Annotated[Principal, Depends(preview_caller)]
) -> JSONResponse:
    """``{"latex": one formula}`` or ``{"text": Mathpix Markdown}`` -> the page's rendering of
    it (:class:`~scipix.server.preview.Preview`)."""
    state = server_state(request)
    body = parse_json_object(await read_body(request, state.settings.server.max_body_bytes))
    latex, text = body.get("latex"), body.get("text")
    source = latex if latex is not None else text
    if not isinstance(source, str) or (latex is not None and text is not None):
        raise OptionsError(
            'send {"latex": one formula} or {"text": Mathpix Markdown}', name="latex"
        )
    if len(source) > MAX_PREVIEW_CHARS:
        raise OptionsError(f"longer than {MAX_PREVIEW_CHARS} characters", name="latex")
    render = preview_latex if latex is not None else preview_text
    made = await anyio.to_thread.run_sync(render, source)
    return JSONResponse(made.model_dump())
