"""Recognition inside the browser (issue 19): the web page's "Recognize in this browser" switch
runs the server's ONNX model with onnxruntime-web in headless Chromium. Once the model is
loaded every request is blocked, the server's included: rendered formulas dropped on the page
must give the LaTeX that the Python recognizer gives for the same file, and non-images or
huge images the server's own error ids and messages. One page and one model load serve all.

onnxruntime-web comes from ``npm ci --prefix tools/ortweb`` (``scripts/setup.sh``); without it
the tests skip here, but fail under CI (``$CI`` set), where setup.sh has installed it.
"""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from scipix.errors import InputError
from scipix.imaging.decode import decode_image
from scipix.recognition.portable import ORT_INSTALL, ortweb_missing
from scipix.server.state import RecognitionService

from .conftest import build_app, formula_png, live_server
from .test_browser import DROP

pytestmark = pytest.mark.browser

#: Formulas and render resolutions: 100 dpi is read at its size, 200 dpi is shrunk (INTER_AREA),
#: 60 dpi enlarged (INTER_CUBIC) by the pre-processing. The pipeline's deskew turns the sum by
#: about 15° (it has no straight baseline), so that one is compared with the recognizer only.
FORMULAS = [
    ("x^{2}+1", 100),
    ("\\frac{a}{b}=c", 200),
    ("\\sqrt{x+y}", 60),
    ("\\sum_{i=1}^{n} i^{2}", 150),
]


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height (the decoder must refuse it from the header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


@pytest.fixture(scope="module")
def local_page(
    browser: Any, tmp_path_factory: pytest.TempPathFactory, recognizer: RecognitionService
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The page with the switch on and the model loaded; then every request is blocked."""
    missing = ortweb_missing()
    if missing:
        why = f"onnxruntime-web is not installed ({', '.join(missing)}): {ORT_INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    data_dir = tmp_path_factory.mktemp("local") / "data"
    with live_server(build_app(data_dir, recognizer)) as url:
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        seen: dict[str, Any] = {"allowed": [], "blocked": [], "offline": False}

        def route(handler: Any) -> None:
            address = handler.request.url
            if address.startswith(url + "/") and not seen["offline"]:
                seen["allowed"].append(address)
                handler.continue_()
            else:
                seen["blocked"].append(address)
                handler.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.goto(url + "/")
        page.wait_for_selector("#local-mode:not([disabled])", timeout=30_000)
        page.check("#local-mode")
        page.wait_for_selector(
            "body[data-local='ready'], body[data-local='failed']", timeout=60_000
        )
        assert page.get_attribute("body", "data-local") == "ready", page.text_content("#local-note")
        seen["offline"] = True  # from here on nothing reaches the server
        yield page, seen
        context.close()


def drop(page: Any, data: bytes, name: str = "f.png", mime: str = "image/png") -> str:
    """Drop a file on the page; the status line once recognition ended."""
    page.evaluate("document.getElementById('status').className = ''")
    page.evaluate(DROP, [base64.b64encode(data).decode(), name, mime, "#drop-zone", "drop"])
    page.wait_for_selector("#status.ok, #status.error, #status.warning", timeout=60_000)
    return str(page.text_content("#status"))


def test_the_browser_reads_as_python_does(
    local_page: tuple[Any, dict[str, Any]], recognizer: RecognitionService, tmp_path: Path
) -> None:
    page, seen = local_page
    formula = recognizer.formula_recognizer()  # type: ignore[attr-defined]
    times = []
    compared = 0
    for latex, dpi in FORMULAS:
        image = formula_png(latex, dpi)
        status = drop(page, image)
        assert "in this browser" in status, status
        got = page.input_value("#latex")
        gray = decode_image(image).gray
        python = formula.recognize([gray])[0]
        assert got == python.latex, (latex, dpi, got, python.tokens)
        cleaned = recognizer.preprocess(image).page.gray  # type: ignore[attr-defined]
        if cleaned.shape == gray.shape and (cleaned == gray).all():
            # no deskew, turn or cleaning (the browser does none): what `scipix ocr` says
            assert got == recognizer.recognize(image).latex_styled, (latex, dpi)
            compared += 1
        times.append(float(page.get_attribute("body", "data-local-ms")))
    page.screenshot(path=str(tmp_path / "local-result.png"), full_page=True)
    print("in-browser ms per formula:", times)
    assert compared >= 3  # most of the set is compared with the whole pipeline too
    assert not [u for u in seen["blocked"] if not u.startswith("blob:")], seen["blocked"]
    assert not any("/v3/" in u for u in seen["allowed"]), seen["allowed"]


def png(gray: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (160, 48), gray).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (b"just some notes, not an image\n", "notes.txt", "text/plain"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "paper.pdf", "application/pdf"),
        (png_header(10_000, 5_000), "huge.png", "image/png"),
        (b"\x00\x01\x02\x03garbage\xff\xfe", "blob.bin", "application/octet-stream"),
        (b"", "empty.png", "image/png"),
        (png(255), "white.png", "image/png"),
        (png(90), "grey.png", "image/png"),
    ],
)
def test_bad_input_is_refused_as_the_server_refuses_it(
    local_page: tuple[Any, dict[str, Any]],
    recognizer: RecognitionService,
    data: bytes,
    name: str,
    mime: str,
) -> None:
    page, _ = local_page
    with pytest.raises(InputError) as refused:
        recognizer.recognize(data)  # what the server answers for the same file
    status = drop(page, data, name, mime)
    assert status == f"Error: {refused.value.error_id}: {refused.value.message}"
    assert page.is_hidden("#result")


def altered(manifest: dict[str, Any], case: str) -> dict[str, Any]:
    """The server's manifest as a page of another version, or a changed model, would see it."""
    model = manifest["model"]
    if case == "format":
        return {**manifest, "format": manifest["format"] + 1}
    if case == "version":
        return {**manifest, "model": {**model, "version": "formula-20000101-other"}}
    files = {
        **model["files"],
        "decoder.onnx": {**model["files"]["decoder.onnx"], "sha256": "0" * 64},
    }
    return {**manifest, "model": {**model, "files": files}}


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("format", "model_mismatch: this page understands manifest format 1"),
        ("version", "model_mismatch: model version mismatch: the manifest says formula-20000101"),
        (
            "hash",
            "model_mismatch: the server's decoder.onnx is not the file its manifest describes",
        ),
    ],
)
def test_a_model_or_page_mismatch_is_said(
    browser: Any, recognizer: RecognitionService, tmp_path: Path, case: str, said: str
) -> None:
    if ortweb_missing():
        pytest.skip("onnxruntime-web is not installed (see test_the_browser_reads_as_python_does)")
    with live_server(build_app(tmp_path / "data", recognizer)) as url:
        context = browser.new_context()

        def rewrite(route: Any) -> None:
            body = json.loads(route.fetch().text())
            route.fulfill(json=altered(body, case))

        context.route(url + "/web/local/manifest", rewrite)
        page = context.new_page()
        page.goto(url + "/")
        if case != "format":
            page.wait_for_selector("#local-mode:not([disabled])", timeout=30_000)
            page.check("#local-mode")
        page.wait_for_selector("body[data-local='failed'], body[data-local='unavailable']")
        assert said in str(page.text_content("#local-note"))
        assert not page.is_checked("#local-mode")
        context.close()
