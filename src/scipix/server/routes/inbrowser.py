"""What the web page needs to recognize inside the browser: ``GET /web/local/manifest`` (the
model's description, see :mod:`scipix.recognition.portable`), the ONNX files under
``/web/local/model/`` and onnxruntime-web's files under ``/web/local/ort/`` (from the npm package
installed in ``tools/ortweb``; nothing from a CDN). Files go out gzip-compressed when the browser
accepts it (compressed once per file version, kept in memory), with an ETag."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from scipix.errors import ModelError
from scipix.imaging.enhance import MIN_INK_CONTRAST
from scipix.imaging.preprocess import no_content
from scipix.recognition.portable import (
    MANIFEST_FORMAT,
    MODEL_FILES,
    ORT_FILES,
    ORT_INSTALL,
    describe,
    file_sha256,
    ortweb_dir,
    ortweb_missing,
)
from scipix.server.state import server_state

router = APIRouter(include_in_schema=False)
MEDIA_TYPES = {".mjs": "text/javascript", ".wasm": "application/wasm"}
_gzipped: dict[tuple[str, int, int], bytes] = {}


OFF = "in-browser recognition is off on this server (server.browser_model = false)"


def formula_recognizer(request: Request) -> Any:
    state = server_state(request)
    load = getattr(state.service, "formula_recognizer", None)
    if load is None:
        raise state.model_error or ModelError("this server has no formula model to hand out")
    return load()


@router.get("/web/local/manifest")
async def manifest(request: Request) -> Response:
    """The model to run in the browser and where its files are; ``ort.missing`` lists the
    onnxruntime-web files not installed (then the page's switch is disabled and says why)."""
    if not server_state(request).settings.server.browser_model:
        return JSONResponse({"error": OFF}, 404)
    recognizer = await anyio.to_thread.run_sync(formula_recognizer, request)
    model = await anyio.to_thread.run_sync(describe, recognizer)
    limits = server_state(request).settings.preprocessing
    missing = ortweb_missing()
    body = {
        "format": MANIFEST_FORMAT,
        "model": {**model, "base": "/web/local/model/"},
        "ort": {
            "base": "/web/local/ort/",
            "module": ORT_FILES[0],
            "missing": missing,
            "install": ORT_INSTALL if missing else None,
        },
        "limits": {
            "max_pixels": limits.max_pixels,
            "max_bytes": limits.max_bytes,
            "min_contrast": MIN_INK_CONTRAST,
            "no_content": no_content().message,
        },
    }
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        data = gzip.compress(data, compresslevel=6, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type="application/json", headers=headers)


@router.get("/web/local/model/{name}")
async def model_file(name: str, request: Request) -> Response:
    if not server_state(request).settings.server.browser_model:
        return JSONResponse({"error": OFF}, 404)
    if name not in MODEL_FILES:
        return JSONResponse({"error": f"no model file {name!r} (there are {MODEL_FILES})"}, 404)
    recognizer = await anyio.to_thread.run_sync(formula_recognizer, request)
    path: Path = recognizer.model_dir / name
    etag = await anyio.to_thread.run_sync(file_sha256, path)
    return await send(path, request, etag)


@router.get("/web/local/ort/{name}")
async def ort_file(name: str, request: Request) -> Response:
    path = ortweb_dir() / name
    if name not in ORT_FILES or not path.is_file():
        return JSONResponse(
            {"error": f"onnxruntime-web's {name} is not installed here: {ORT_INSTALL}"}, 404
        )
    stat = path.stat()
    return await send(path, request, f"{stat.st_size:x}-{stat.st_mtime_ns:x}")


async def send(path: Path, request: Request, etag: str) -> Response:
    """``path`` with an ETag (304 when the browser has it), gzip-compressed when accepted."""
    tag = f'"{etag}"'
    headers = {"ETag": tag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    media = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = await anyio.to_thread.run_sync(compressed, path)
        headers["Content-Encoding"] = "gzip"
    else:
        body = await anyio.to_thread.run_sync(path.read_bytes)
    return Response(body, media_type=media, headers=headers)


def compressed(path: Path) -> bytes:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    found = _gzipped.get(key)
    if found is None:
        found = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        _gzipped[key] = found
    return found
