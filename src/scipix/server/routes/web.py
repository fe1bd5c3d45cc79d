"""The web page at ``/`` and its assets under ``/static`` (all served by scipix: no CDN)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)


def static_dir() -> Path:
    return Path(str(files("scipix.server") / "static"))


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(static_dir() / "index.html", media_type="text/html")
