"""The web page in headless Chromium (Debian's ``chromium``, driven by Playwright).

An image is dropped on the page (a real ``drop`` event carrying a ``File``), pasted (a real
``paste`` event) or picked; the page must show the LaTeX, render the MathML natively, and send a
correction. Screenshots go to ``$SCREENSHOT_DIR`` (or the test's tmp dir).
"""

from __future__ import annotations

import base64
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scipix.server.state import RecognitionService
from scipix.server.store import DB_FILE_NAME

from .conftest import Credentials, build_app, formula_png, live_server, png_bytes, same_latex

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

DROP = """([b64, name, type, selector, kind]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type }));
  const target = document.querySelector(selector);
  if (kind === "paste") {
    document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
  } else {
    for (const event of ["dragenter", "dragover", "drop"]) {
      const init = { dataTransfer: data, bubbles: true, cancelable: true };
      target.dispatchEvent(new DragEvent(event, init));
    }
  }
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def screenshot_dir(tmp_path: Path) -> Path:
    chosen = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


def open_page(browser: Any, url: str, key: Credentials | None) -> tuple[Any, list[str]]:
    context = browser.new_context(
        viewport={"width": 1000, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    if key is not None:
        page.add_init_script(
            f"localStorage.setItem('scipix.app_id', {key.app_id!r});"
            f"localStorage.setItem('scipix.app_key', {key.app_key!r});"
        )
    page.goto(url + "/")
    return page, requested


def give(
    page: Any, data: bytes, kind: str = "drop", name: str = "f.png", mime: str = "image/png"
) -> None:
    page.evaluate(DROP, [base64.b64encode(data).decode(), name, mime, "#drop-zone", kind])


def test_dropping_an_image_shows_its_latex_and_mathml(
    browser: Any,
    needs_model: RecognitionService,
    data_dir: Path,
    key: Credentials,
    tmp_path: Path,
) -> None:
    expected = "x^{2}+1"
    with live_server(build_app(data_dir, needs_model)) as url:
        page, requested = open_page(browser, url, key)
        give(page, formula_png(expected))
        page.wait_for_selector("#status.ok, #status.error", timeout=60_000)
        assert page.get_attribute("#status", "class") == "ok", page.text_content("#status")
        latex = page.input_value("#latex")
        page.screenshot(path=str(screenshot_dir(tmp_path) / "web-page-result.png"), full_page=True)
        assert same_latex(latex, expected), latex
        assert page.text_content("#confidence").strip().endswith("%")
        math_height = page.evaluate(
            "document.querySelector('#rendered math').getBoundingClientRect().height"
        )
        assert math_height > 10  # MathML laid out by Chromium itself
        assert page.text_content("#mathml").startswith("<math")
        assert page.text_content("#asciimath")
        page.click("button[data-copy='latex']")
        assert page.evaluate("navigator.clipboard.readText()") == latex

        page.fill("#latex", "x^{2}+2")
        page.click("#submit-correction")
        page.wait_for_selector("#status.ok >> text=Correction")
        assert all(r.startswith(url) or r.startswith("data:") for r in requested), requested
    rows = sqlite3.connect(data_dir / DB_FILE_NAME).execute("SELECT latex, image FROM corrections")
    latex_row, image = rows.fetchone()
    assert latex_row == "x^{2}+2" and image.startswith(b"\x89PNG")


def test_paste_and_file_pick_also_recognize(
    browser: Any, needs_model: RecognitionService, data_dir: Path, key: Credentials, tmp_path: Path
) -> None:
    with live_server(build_app(data_dir, needs_model)) as url:
        page, _ = open_page(browser, url, key)
        give(page, formula_png("a+b"), kind="paste")
        page.wait_for_selector("#status.ok")
        assert same_latex(page.input_value("#latex"), "a+b")
        path = tmp_path / "pick.png"
        path.write_bytes(formula_png("y=2"))
        page.fill("#latex", "")
        page.evaluate("document.getElementById('status').className = ''")
        page.set_input_files("#file-input", str(path))
        page.wait_for_selector("#status.ok, #status.error", timeout=60_000)
        assert same_latex(page.input_value("#latex"), "y=2")


def test_the_page_explains_errors_and_loads_nothing_from_elsewhere(
    browser: Any,
    data_dir: Path,
    key: Credentials,
    recognizer: RecognitionService,
    tmp_path: Path,
) -> None:
    with live_server(build_app(data_dir, recognizer)) as url:
        page, requested = open_page(browser, url, None)
        assert page.title().startswith("scipix")
        give(page, b"just text", name="notes.txt", mime="text/plain")
        assert "not an image" in page.text_content("#status")
        give(page, png_bytes())  # no key in this browser: the server says 401
        page.wait_for_selector("#status.error >> text=http_unauthorized")
        assert "API key" in page.text_content("#status")
        page.screenshot(path=str(screenshot_dir(tmp_path) / "web-page-error.png"), full_page=True)
        page.click("#credentials summary")
        page.fill("#app-id", key.app_id)
        page.fill("#app-key", key.app_key)
        page.click("#save-key")
        assert page.evaluate("localStorage.getItem('scipix.app_id')") == key.app_id
        external = [r for r in requested if not r.startswith(url) and not r.startswith("data:")]
        assert external == []


def test_invalid_latex_is_a_warning_never_done(
    browser: Any, data_dir: Path, key: Credentials, tmp_path: Path
) -> None:
    from pipeline.crafted import brace_recognizer
    from scipix.service import Scipix
    from scipix.settings import Settings

    settings = Settings()
    settings.ocr.text_ocr = False
    service = Scipix(settings, recognizer=brace_recognizer(constrained=False))  # reads x^{2
    with live_server(build_app(data_dir, service)) as url:
        page, _ = open_page(browser, url, key)
        give(page, formula_png("x^{2}"))
        page.wait_for_selector("#status.ok, #status.error, #status.warning", timeout=60_000)
        status = page.text_content("#status")
        page.screenshot(path=str(screenshot_dir(tmp_path) / "web-page-invalid.png"), full_page=True)
        assert page.get_attribute("#status", "class") == "warning", status
        assert "Done" not in status and "not valid" in status and "never closed" in status
        assert page.input_value("#latex") == "x^{2"
