"""HTML printed to PDF by a headless Chromium: Mathpix's ``pdf`` format ("HTML rendered"), whose
math is the HTML's MathML as the browser lays it out.

Only when a Chromium (``chromium``, ``chromium-browser``, ``google-chrome``) is on ``PATH``;
without one ``pdf`` is refused (``opts_unknown_format``). The page printed is scipix's own
sanitized HTML (:func:`~scipix.documents.convert.markdown_to_html`: no script, a CSP that
forbids scripts and every load but ``data:`` images); the browser runs with a throw-away
profile and is stopped (with all its processes) after :data:`PRINT_TIMEOUT_S`. (Switching
JavaScript off in the browser as well, ``--blink-settings=scriptEnabled=false``, stops headless
Chromium from printing at all.)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from scipix.errors import ScipixError, UnknownFormatError
from scipix.processes import run_process

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRINT_TIMEOUT_S = 60.0


def browser() -> str | None:
    """The first Chromium on ``PATH``, or None."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def require_browser() -> str:
    """The Chromium ``pdf`` will use; :class:`UnknownFormatError` when there is none."""
    found = browser()
    if found is None:
        raise UnknownFormatError(
            "pdf (HTML rendered to PDF) needs Chromium on the server's PATH; none was found."
            " Install it (e.g. apt install chromium) or ask for latex.pdf or html instead",
            formats="pdf",
        )
    return found


def html_to_pdf(page: str, timeout_s: float = PRINT_TIMEOUT_S) -> bytes:
    """``page`` (a standalone HTML page) printed to PDF by headless Chromium."""
    chromium = require_browser()
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "page.html", Path(tmp) / "page.pdf"
        source.write_text(page, encoding="utf-8")
        command = [
            chromium,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--no-sandbox")  # Chromium refuses root otherwise
        # no output collected: the browser's helper processes may hold a pipe open after it
        if not run_process(
            [*command, source.as_uri()], Path(tmp), timeout_s, output=False
        ).finished:
            raise ScipixError(f"Chromium did not print the page within {timeout_s:g} s")
        if not out.exists() or out.stat().st_size == 0:
            raise ScipixError("Chromium did not print the page to PDF")
        return out.read_bytes()
