"""``scipix pdf FILE --to mmd|md|docx|tex|lines.json|html|html.zip|pptx|latex.pdf|pdf``:
a PDF (or an image of a page) to Mathpix Markdown, Markdown, Word, LaTeX, lines.json, HTML
(sanitized, MathML), PowerPoint, a compiled PDF or the HTML printed to PDF, page by page.

Pages are read on ``--workers`` threads with a progress bar and kept in a page cache (under
``runtime.cache_dir``/pdf), so a run that was stopped goes on where it was; ``--no-cache``
reads every page again. A page that fails is reported and left out; the others are written.
``--engine ray`` shards the pages across Ray actors instead (``documents/shards.py``).
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scipix.cli.common import EXIT_FAILED, state, stderr_console
from scipix.cli.engine import AddressOption, Engine, EngineOption, on_cluster
from scipix.errors import InputError, RequestTooLargeError

if TYPE_CHECKING:
    from scipix.documents import Document, OpenedDocument, PageResult
    from scipix.documents.cache import PageCache
    from scipix.documents.shards import PageShards
    from scipix.service import Scipix
    from scipix.settings import Settings


class Target(StrEnum):
    mmd = "mmd"
    md = "md"
    docx = "docx"
    tex = "tex"
    lines_json = "lines.json"
    html = "html"
    html_zip = "html.zip"
    pptx = "pptx"
    latex_pdf = "latex.pdf"
    pdf = "pdf"


SUFFIX = {
    "mmd": ".mmd",
    "md": ".md",
    "docx": ".docx",
    "tex": ".tex.zip",
    "lines.json": ".lines.json",
    "html": ".html",
    "html.zip": ".html.zip",
    "pptx": ".pptx",
    "latex.pdf": ".latex.pdf",
    "pdf": ".html.pdf",  # not FILE.pdf: that is the input
}


def pdf(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A PDF, or an image of a page.", show_default=False)],
    to: Annotated[Target, typer.Option("--to", help="Output format.")] = Target.mmd,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output file; default: FILE with the format's suffix."),
    ] = None,
    pages: Annotated[
        str | None, typer.Option("--pages", help='Pages to read, e.g. "1-3" or "2,4-6,-1".')
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Pages read at once.")
    ] = None,
    dpi: Annotated[
        int | None, typer.Option("--dpi", min=72, max=600, help="Resolution for scanned pages.")
    ] = None,
    force_ocr: Annotated[
        bool, typer.Option("--force-ocr", help="Read every page by OCR, ignoring its text.")
    ] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Read every page again.")] = False,
    engine: EngineOption = None,
    address: AddressOption = None,
) -> None:
    """Convert a PDF (or an image of a page) to Mathpix Markdown, Markdown, DOCX, LaTeX, HTML,
    PowerPoint or a PDF (latex.pdf: needs pdflatex, xelatex or lualatex; pdf, the HTML printed:
    needs Chromium)."""
    from scipix.documents import DocumentOptions, assemble, open_document
    from scipix.documents.cache import PageCache
    from scipix.service import Scipix

    settings = state(ctx).settings()
    if to is Target.latex_pdf:
        from scipix.documents.convert import require_tex_engine

        require_tex_engine()  # before any page is read
    if to is Target.pdf:
        from scipix.documents.browser import require_browser

        require_browser()
    limits = settings.documents
    data = read_document(file, limits.max_bytes)
    options = DocumentOptions(
        page_ranges=pages,
        dpi=dpi or limits.dpi,
        force_ocr=force_ocr,
        math_inline_delimiters=settings.ocr.math_inline_delimiters,
        math_display_delimiters=settings.ocr.math_display_delimiters,
    )
    n_workers = workers or settings.performance.workers
    target = out or file.with_name(file.name.split(".")[0] + SUFFIX[to.value])
    started = time.perf_counter()
    with open_document(data, max_pages=limits.max_pages, max_bytes=limits.max_bytes) as doc:
        indices = options.select_pages(doc.num_pages)
        if not indices:
            raise InputError(f"--pages {pages!r} selects none of the {doc.num_pages} pages")
        shards = open_shards(settings, engine, address, data)
        with Scipix(settings, workers=n_workers) as sp, contextlib.ExitStack() as stack:
            if shards is not None:
                stack.callback(shards.close)
            cache = None
            if not no_cache:
                # keyed by the model version: a retrained model does not reuse old pages
                cache = PageCache(settings.runtime.cache_dir / "pdf", data, options, sp.version)
            done = read_pages(doc, indices, sp, options, n_workers, cache, shards)
    document = assemble(done, options)
    write_output(document, to.value, target)
    report(done, target, time.perf_counter() - started)


def read_document(file: Path, max_bytes: int) -> bytes:
    if not file.is_file():
        raise InputError(f"{file}: no such file")
    size = file.stat().st_size
    if size > max_bytes:
        raise RequestTooLargeError(
            f"{file} has {size:,} bytes; at most {max_bytes:,} (documents.max_bytes)"
        )
    return file.read_bytes()


def open_shards(
    settings: Settings, engine: Engine | None, address: str | None, data: bytes
) -> PageShards | None:
    """With ``--engine ray``: the pages sharded across Ray actors (``documents/shards.py``)."""

    def start() -> PageShards:
        from scipix.documents.shards import PageShards
        from scipix.service import Scipix

        dist = settings.distributed
        where = address if address is not None else dist.address
        return PageShards(
            settings, Scipix, data, dist.actors, where, dist.local_cpus, dist.max_retries
        )

    return on_cluster(settings, engine, start)


def read_pages(
    doc: OpenedDocument,
    indices: list[int],
    sp: Scipix,
    options: object,
    workers: int,
    cache: PageCache | None,
    shards: PageShards | None = None,
) -> list[PageResult]:
    """The selected pages, from the cache or read on ``workers`` threads (or by ``shards``'
    Ray actors), with a progress bar."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from scipix.documents import DocumentOptions, read_page

    assert isinstance(options, DocumentOptions)
    found: dict[int, PageResult] = {}
    todo = []
    for index in indices:
        cached = cache.load(index) if cache is not None else None
        if cached is not None:
            found[index] = cached
        else:
            todo.append(index)
    columns = (
        TextColumn("[bold]pages"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr_console(), transient=False) as bar:
        task = bar.add_task(f"({len(found)} cached)", total=len(indices), completed=len(found))

        def one(index: int) -> PageResult:
            return read_page(doc, index, sp, options)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            pages = pool.map(one, todo) if shards is None else shards.read(todo, options)
            for page in pages:
                found[page.page - 1] = page
                if cache is not None:
                    cache.save(page)
                note = f"page {page.page}: {page.seconds:.1f} s"
                if not page.ok and page.error is not None:
                    note = f"[red]page {page.page} failed: {page.error.id}[/red]"
                bar.update(task, advance=1, description=note)
    return [found[i] for i in indices]


def write_output(document: Document, to: str, target: Path) -> None:
    if to == "mmd":
        target.write_text(document.to_mmd(), encoding="utf-8")
    elif to == "md":
        target.write_text(document.to_md(), encoding="utf-8")
    elif to == "lines.json":
        import json

        text = json.dumps(document.to_lines_json(target.name.split(".")[0]), ensure_ascii=False)
        target.write_text(text, encoding="utf-8")
    elif to == "docx":
        target.write_bytes(document.to_docx())
    elif to == "tex":
        target.write_bytes(document.to_tex_zip(target.name.split(".")[0] or "document"))
    else:
        from scipix.documents.convert import document_to

        target.write_bytes(document_to(document, to, target.name.split(".")[0] or "document"))


def report(pages: list[PageResult], target: Path, seconds: float) -> None:
    console = stderr_console()
    failed = [p for p in pages if not p.ok]
    for page in failed:
        assert page.error is not None
        console.print(
            f"[yellow]warning[/yellow]: page {page.page}: {page.error.id}: {page.error.message}"
        )
    console.print(
        f"{len(pages) - len(failed)} of {len(pages)} pages read in {seconds:.1f} s -> {target}"
    )
    if failed and len(failed) == len(pages):
        raise typer.Exit(EXIT_FAILED)
