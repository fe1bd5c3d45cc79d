"""The web page at ``/`` and its assets under ``/static`` (all served by scipix: no CDN)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)
#: The page may load only what this server serves (the browser enforces it).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self';"
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
