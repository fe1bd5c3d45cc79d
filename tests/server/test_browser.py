"""The web page in headless Chromium (Debian's ``chromium``, driven by Playwright).

An image is dropped on the page (a real ``drop`` event carrying a ``File``), pasted (a real
``paste`` event) or picked; the page must show the LaTeX, render the MathML natively, and send a
correction. Screenshots go to ``$SCREENSHOT_DIR`` (or the test's tmp dir).
"""

from __future__ import annotations

import base64
import io
import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from scipix.errors import ImageDecodeError, ScipixError
from scipix.latex import to_asciimath, to_html, to_mathml
from scipix.schema import DataItem, LineData, RecognizeOptions, Result, new_request_id
from scipix.server.state import RecognitionService
from scipix.server.store import DB_FILE_NAME
from scipix.settings import Settings

from .conftest import Credentials, build_app, formula_png, live_server, png_bytes, same_latex

pytestmark = pytest.mark.browser

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


def screenshot_dir(tmp_path: Path) -> Path:
    chosen = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


def open_page(
    browser: Any, url: str, key: Credentials | None, width: int = 1000
) -> tuple[Any, list[str]]:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
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
        assert page.evaluate("document.getElementById('credentials').open")  # opened for you
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


# --- the page's behaviour, on answers queued by the test (the page is under test, not the model)


class CannedService:
    """Answers each recognition with the next of ``answers`` (the last one again once they run
    out; an exception is raised) and keeps the images it was sent."""

    def __init__(self, *answers: Result | ScipixError) -> None:
        self.answers = list(answers)
        self.images: list[bytes] = []

    def recognize(
        self, image: bytes, options: RecognizeOptions, scope: str | None = None
    ) -> Result:
        self.images.append(image)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, ScipixError):
            raise answer
        return answer.model_copy(update={"request_id": new_request_id()})

    def warm_up(self) -> None:
        pass

    def close(self) -> None:
        pass


def formula_items(*formulas: str) -> list[DataItem]:
    items = []
    for latex in formulas:
        items.append(DataItem(type="latex", value=latex))
        items.append(DataItem(type="mathml", value=to_mathml(latex)))
        items.append(DataItem(type="asciimath", value=to_asciimath(latex)))
    return items


def formula_result(latex: str, confidence: float = 0.93) -> Result:
    """What /v3/text answers for an image that is one formula."""
    return Result(
        text=f"\\( {latex} \\)",
        latex_styled=latex,
        confidence=confidence,
        data=formula_items(latex),
    )


PAGE_TEXT = "Let \\( x>0 \\) be real.\n\\[\nx^{2}+1=0\n\\]\n\\[\ny=\\frac{a}{b}\n\\]"


def page_result() -> Result:
    """A page of three lines (prose with inline math, two display formulas): no latex_styled,
    so the page must show ``text`` whole. The ``html`` holds a hidden copy of the LaTeX, as
    mathpix-markdown-it writes it, which must not show."""
    corners = [(0, 0), (10, 0), (10, 10), (0, 10)]
    inline = to_html("x>0").replace("<math", '<latex style="display: none">x&gt;0</latex><math')
    first, second = (to_html(latex, display=True) for latex in ("x^{2}+1=0", "y=\\frac{a}{b}"))
    html = f"<div>Let {inline} be real.<br>\n{first}<br>\n{second}</div>\n"
    return Result(
        text=PAGE_TEXT,
        confidence=0.88,
        data=formula_items("x>0", "x^{2}+1=0", "y=\\frac{a}{b}"),
        html=html,
        line_data=[
            LineData(id="0", type="text", cnt=corners),
            LineData(id="1", type="math", cnt=corners),
            LineData(id="2", type="math", cnt=corners),
        ],
    )


def recognized(page: Any, data: bytes, **how: str) -> str:
    """Give ``data`` to the page, wait for the outcome; the status's class."""
    page.evaluate("document.getElementById('status').className = 'waiting'")
    give(page, data, **how)
    page.wait_for_selector("#status.ok, #status.error, #status.warning", timeout=60_000)
    return str(page.get_attribute("#status", "class"))


def test_a_multi_line_result_is_shown_and_copied_whole(
    browser: Any, data_dir: Path, key: Credentials, tmp_path: Path
) -> None:
    with live_server(build_app(data_dir, CannedService(page_result()))) as url:
        page, requested = open_page(browser, url, key)
        assert not page.is_visible("#preview")  # no empty "image sent" box before an image
        assert recognized(page, png_bytes()) == "ok", page.text_content("#status")
        assert page.is_visible("#preview")
        assert page.evaluate("document.getElementById('preview').naturalWidth") > 0
        page.screenshot(path=str(screenshot_dir(tmp_path) / "web-page-lines.png"), full_page=True)
        assert page.input_value("#latex") == PAGE_TEXT  # every line, not the first formula
        assert "3 lines (2 of math, 1 of text)" in page.text_content("#result-summary")
        assert page.locator("#rendered math").count() == 3
        assert page.locator("#rendered latex, #rendered mathml").count() == 0
        shown = page.inner_text("#rendered")
        assert "Let" in shown and "be real." in shown and "x>0" not in shown
        assert page.text_content("#mathml").count("<math") == 3
        assert page.text_content("#asciimath").count("\n") == 2
        page.click("button[data-copy='latex']")
        assert page.evaluate("navigator.clipboard.readText()") == PAGE_TEXT
        page.click("button[data-copy='mathml']")
        assert page.evaluate("navigator.clipboard.readText()").count("<math") == 3

        page.fill("#latex", PAGE_TEXT + "\n\\[\nz=\\sqrt{2}\n\\]")  # a line added by hand
        page.wait_for_selector("#rendered msqrt")
        assert page.locator("#rendered math").count() == 4
        assert external_requests(requested, url) == []


def external_requests(requested: list[str], url: str) -> list[str]:
    return [r for r in requested if not r.startswith(url) and not r.startswith("data:")]


def photo_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A camera-sized JPEG (noise keeps it large, as a photo is)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    base = (x / width * 200 + y / height * 50)[..., None]
    pixels = np.clip(base + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def test_a_large_photo_is_shrunk_in_the_browser_and_accepted(
    browser: Any, data_dir: Path, key: Credentials, tmp_path: Path
) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(photo_jpeg())
    limit = Settings().server.max_image_bytes
    assert photo.stat().st_size > limit  # as sent, the server would refuse it
    service = CannedService(formula_result("x^{2}+1"))
    with live_server(build_app(data_dir, service)) as url:
        page, _ = open_page(browser, url, key)
        page.set_input_files("#file-input", str(photo))
        page.wait_for_selector("#status.ok, #status.error", timeout=60_000)
        assert page.get_attribute("#status", "class") == "ok", page.text_content("#status")
        note = page.text_content("#image-note")
        assert "Shrunk" in note and "4000×3000" in note and "2400×1800" in note
    [sent] = service.images
    assert len(sent) <= limit
    with Image.open(io.BytesIO(sent)) as image:
        assert image.size == (2400, 1800)


def test_an_error_clears_the_previous_result(
    browser: Any, data_dir: Path, key: Credentials
) -> None:
    service = CannedService(formula_result("x^{2}"), ImageDecodeError("the data is not an image"))
    with live_server(build_app(data_dir, service)) as url:
        page, _ = open_page(browser, url, key)
        assert recognized(page, png_bytes()) == "ok"
        assert page.input_value("#latex") == "x^{2}"
        assert recognized(page, b"not an image at all", name="f.png") == "error"
        assert "image_decode_error" in page.text_content("#status")
        assert not page.is_visible("#result")
        assert page.input_value("#latex") == ""
        assert page.inner_text("#rendered") == "" and page.text_content("#request-id") == ""
        page.wait_for_selector("#preview", state="hidden")  # no broken-image icon either


def test_editing_the_latex_renders_it_again(browser: Any, data_dir: Path, key: Credentials) -> None:
    with live_server(build_app(data_dir, CannedService(formula_result("x^{2}")))) as url:
        page, _ = open_page(browser, url, key)
        assert recognized(page, png_bytes()) == "ok"
        assert page.locator("#rendered msup").count() == 1
        page.fill("#latex", "\\frac{a}{b}")
        page.wait_for_selector("#rendered mfrac")
        assert page.locator("#rendered msup").count() == 0
        assert "<mfrac>" in page.text_content("#mathml")
        assert page.text_content("#asciimath").strip() == "a/b"
        page.fill("#latex", "x^{2")  # not valid: shown as typed, with the reason
        page.wait_for_selector("#edit-note.warning")
        assert "never closed" in page.text_content("#edit-note")
        assert page.text_content("#rendered code.invalid-math") == "x^{2"


BAND_COLOURS = {  # style.css --band-*: red, amber, green
    "band-low": "rgb(198, 40, 40)",
    "band-mid": "rgb(224, 161, 0)",
    "band-high": "rgb(46, 125, 50)",
}


def test_the_confidence_bar_colour_says_how_sure(
    browser: Any, data_dir: Path, key: Credentials
) -> None:
    expected = [(0.3, "band-low"), (0.65, "band-mid"), (0.95, "band-high")]
    service = CannedService(*(formula_result("x", confidence) for confidence, _ in expected))
    with live_server(build_app(data_dir, service)) as url:
        page, _ = open_page(browser, url, key)
        assert "red below 50 %" in page.text_content("#confidence-line")
        for confidence, band in expected:
            assert recognized(page, png_bytes()) == "ok"
            fill = page.locator("#confidence-fill")
            assert fill.get_attribute("class") == band
            colour = fill.evaluate("(e) => getComputedStyle(e).backgroundColor")
            assert colour == BAND_COLOURS[band], (confidence, colour)
            ratio = page.evaluate(
                "document.getElementById('confidence-fill').offsetWidth"
                " / document.getElementById('confidence-bar').clientWidth"
            )
            assert abs(ratio - confidence) < 0.02
            assert (
                page.get_attribute("#confidence-bar", "aria-valuenow") == f"{confidence * 100:.1f}"
            )
        assert "check it" not in page.text_content("#confidence")  # green: nothing to check


def test_a_phone_wide_page_does_not_overflow(
    browser: Any, data_dir: Path, key: Credentials, tmp_path: Path
) -> None:
    long_formula = "+".join(f"a_{{{i}}}x^{{{i}}}" for i in range(40))
    service = CannedService(formula_result(long_formula), page_result())
    with live_server(build_app(data_dir, service)) as url:
        page, _ = open_page(browser, url, key, width=375)
        overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        page.click("#credentials summary")
        assert page.evaluate(overflow) <= 0
        assert recognized(page, png_bytes()) == "ok"
        page.screenshot(path=str(screenshot_dir(tmp_path) / "web-page-375.png"), full_page=True)
        assert page.evaluate(overflow) <= 0
        base = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize) * 1.8")
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.getElementById('rendered')).fontSize)"
        )
        assert size < base  # scaled down to the room there is, then scrolled inside its box
        assert page.is_visible("#rendered-hint")
        assert recognized(page, png_bytes()) == "ok"  # a page of lines fits too
        assert page.evaluate(overflow) <= 0
        assert not page.is_visible("#rendered-hint")


def test_without_a_key_the_page_says_how_to_make_one(
    browser: Any, data_dir: Path, key: Credentials
) -> None:
    with live_server(build_app(data_dir, CannedService(formula_result("x")))) as url:
        page, _ = open_page(browser, url, None)
        assert not page.is_visible("#first-run")
        assert recognized(page, png_bytes()) == "error"
        status = page.text_content("#status")
        assert "http_unauthorized" in status and "scipix keys create" in status, status
        assert "none_on_loopback" in status
        assert page.is_visible("#first-run")
        assert "scipix keys create --name me" in page.text_content("#first-run")
        assert 'server.auth = "none_on_loopback"' in page.text_content("#first-run")
        assert page.evaluate("document.getElementById('credentials').open")
        page.fill("#app-id", key.app_id)
        page.fill("#app-key", "wrong")
        page.click("#save-key")
        assert not page.is_visible("#first-run")
        assert recognized(page, png_bytes()) == "error"
        assert "was refused" in page.text_content("#status")
        page.fill("#app-key", key.app_key)
        page.click("#save-key")
        assert recognized(page, png_bytes()) == "ok"
        assert not page.is_visible("#first-run")
