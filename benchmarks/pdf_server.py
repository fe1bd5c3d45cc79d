"""``/v3/pdf`` against reading the same pages in-process: what the server adds per page.

A test paper (tests/documents/data, born-digital or scanned) repeated to ``--copies`` times its
pages is read (a) in this process by ``read_page``, one page at a time and two at a time, and
(b) by a ``scipix serve`` this script starts on 127.0.0.1: upload, poll ``GET /v3/pdf/{id}``
every 250 ms until ``completed``, then download ``.mmd`` and ``.docx`` (made on first download).
The result cache is off in both, so a repeated page is read again. Medians of ``--runs`` runs.

    nice python3 benchmarks/pdf_server.py [--paper twocol|twocol_scan|...] [--copies 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pypdfium2 as pdfium

from scipix.documents import DocumentOptions, open_document, read_page
from scipix.server.keys import KeyStore
from scipix.server.store import Database
from scipix.service import Scipix
from scipix.settings import Settings

DATA = Path(__file__).resolve().parent.parent / "tests" / "documents" / "data"
NO_CACHE = {"memory": {"cache": False}}


def repeated(path: Path, copies: int) -> bytes:
    source = pdfium.PdfDocument(path.read_bytes())
    document = pdfium.PdfDocument.new()
    for _ in range(copies):
        document.import_pages(source)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def direct(data: bytes, data_dir: Path, threads: int, runs: int) -> float:
    """Median seconds for the whole document read in this process by ``threads`` threads."""
    settings = Settings(runtime={"data_dir": data_dir}, **NO_CACHE)  # type: ignore[arg-type]
    scipix = Scipix(settings, workers=threads)
    scipix.warm_up()
    options = DocumentOptions(dpi=settings.documents.dpi)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with (
            open_document(data, max_pages=10_000, max_bytes=10**9) as doc,
            ThreadPoolExecutor(threads) as pool,
        ):
            pages = list(
                pool.map(lambda i: read_page(doc, i, scipix, options), range(doc.num_pages))
            )
        times.append(time.perf_counter() - started)
        assert all(p.ok or p.error for p in pages)
    scipix.close()
    return statistics.median(times)


def serve(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIPIX_")}
    env.update(SCIPIX_RUNTIME__DATA_DIR=str(data_dir), SCIPIX_MEMORY__CACHE="false")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "scipix", "serve", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("scipix serve did not start")


def through_api(data: bytes, data_dir: Path, runs: int) -> dict[str, float]:
    """Median seconds: upload answered, completed, .mmd and .docx downloaded."""
    db = Database.in_dir(data_dir)
    made = KeyStore(db).create("bench")
    db.close()
    headers = {"app_id": made.key.app_id, "app_key": made.app_key}
    proc, url = serve(data_dir)
    found: dict[str, list[float]] = {"upload": [], "completed": [], "mmd": [], "docx": []}
    try:
        for _ in range(runs):
            started = time.perf_counter()
            files = {"file": ("paper.pdf", data, "application/pdf")}
            pdf_id = httpx.post(f"{url}/v3/pdf", headers=headers, files=files).json()["pdf_id"]
            found["upload"].append(time.perf_counter() - started)
            while True:
                status = httpx.get(f"{url}/v3/pdf/{pdf_id}", headers=headers).json()
                if status["status"] in ("completed", "error"):
                    break
                time.sleep(0.25)
            assert status["status"] == "completed", status
            found["completed"].append(time.perf_counter() - started)
            for fmt in ("mmd", "docx"):
                begun = time.perf_counter()
                response = httpx.get(f"{url}/v3/pdf/{pdf_id}.{fmt}", headers=headers, timeout=120)
                assert response.status_code == 200, response.text
                found[fmt].append(time.perf_counter() - begun)
    finally:
        proc.terminate()
        proc.wait(30)
    return {name: statistics.median(values) for name, values in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paper", default="twocol")
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = repeated(DATA / f"{args.paper}.pdf", args.copies)
    pages = len(pdfium.PdfDocument(data))
    with tempfile.TemporaryDirectory() as tmp:
        one = direct(data, Path(tmp) / "one", 1, args.runs)
        two = direct(data, Path(tmp) / "two", 2, args.runs)
        api = through_api(data, Path(tmp) / "api", args.runs)
    print(f"{args.paper} x{args.copies}: {pages} pages, medians of {args.runs} runs")
    print(f"in-process, 1 thread : {one / pages:.3f} s/page")
    print(f"in-process, 2 threads: {two / pages:.3f} s/page")
    print(
        f"/v3/pdf              : {api['completed'] / pages:.3f} s/page until completed"
        f" (x{api['completed'] / two:.2f} of 2 threads); upload answered in {api['upload']:.3f} s;"
        f" .mmd {api['mmd']:.3f} s, .docx {api['docx']:.3f} s"
    )


if __name__ == "__main__":
    main()
