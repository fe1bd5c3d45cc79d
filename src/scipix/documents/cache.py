"""A resumable page cache on disk: one JSON file per page read, under a directory named by
the document's BLAKE3 hash and the options that change how a page is read.

A run that is killed keeps every page it finished (each file is written whole, then renamed
into place); the next run of the same document with the same options reads only the rest.
Failed pages are not kept: they are tried again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import blake3

from scipix.documents.options import DocumentOptions
from scipix.documents.page import PageResult

#: Bumped when the reading rules change what a page becomes (old entries are then ignored).
CACHE_VERSION = "1"


class PageCache:
    """Pages of one document read with one set of options."""

    def __init__(self, root: Path, data: bytes, options: DocumentOptions, model: str) -> None:
        key = blake3.blake3(data)
        key.update(f"|{CACHE_VERSION}|{options.dpi}|{options.force_ocr}|{model}".encode())
        self.dir = root / key.hexdigest()[:32]

    def path(self, index: int) -> Path:
        return self.dir / f"{index + 1:05d}.json"

    def load(self, index: int) -> PageResult | None:
        """Page ``index`` (0-based) when it was read before, else None."""
        try:
            return PageResult.from_json(self.path(index).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def save(self, page: PageResult) -> None:
        """Keep a page read without error (written whole, then renamed into place)."""
        if not page.ok:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        target = self.path(page.page - 1)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(page.to_json(), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)
