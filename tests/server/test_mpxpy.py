"""The official Python client, mpxpy, pointed at a live scipix server on 127.0.0.1.

mpxpy joins ``v3/...`` to the base URL and sends ``app_id``/``app_key`` headers, a multipart
``file`` + ``options_json`` for a file and JSON ``src`` for a URL, exactly as against Mathpix.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from mpxpy.errors import MathpixClientError
from mpxpy.mathpix_client import MathpixClient

from scipix.server.state import RecognitionService

from .conftest import Credentials, build_app, data_uri, formula_png, live_server, same_latex


def client(url: str, key: Credentials, **kw: object) -> MathpixClient:
    return MathpixClient(app_id=key.app_id, app_key=key.app_key, api_url=url, **kw)  # type: ignore[arg-type]


@pytest.fixture
def model_url(needs_model: RecognitionService, data_dir: Path) -> Iterator[str]:
    app = build_app(data_dir, needs_model, allow_url_fetch=True, allow_private_urls=True)
    with live_server(app) as url:
        yield url


def test_a_wrong_key_is_refused_with_401(live_url: str, key: Credentials, tmp_path: Path) -> None:
    image = tmp_path / "f.png"
    image.write_bytes(b"\x89PNG not really")
    wrong = MathpixClient(app_id=key.app_id, app_key="0" * 64, api_url=live_url)
    with pytest.raises((MathpixClientError, ValueError), match="401"):
        wrong.image_new(file_path=str(image))
    with pytest.raises((MathpixClientError, ValueError), match="401"):
        wrong.image_new(url=data_uri(image.read_bytes()))


def test_tokens_history_and_usage_through_mpxpy(live_url: str, key: Credentials) -> None:
    mpx = client(live_url, key)
    token = mpx.app_token_new(expires=60, include_strokes_session_id=True)
    assert token["app_token"].startswith("token_") and token["app_token_expires_at"] > 0
    assert token["strokes_session_id"].startswith("strokes_")
    assert mpx.app_token_get(token["app_token"])["app_id"] == key.app_id
    mpx.app_token_delete(token["app_token"])
    assert mpx.app_token_get(token["app_token"])["error_info"]["id"] == "token_unknown"
    found = mpx.query_ocr_results(is_printed=True, tags=["x"], request_id="nope")
    assert found == {"ocr_results": []}
    usage = mpx.query_usage(group_by=["usage_type", "app_id"], timespan="day")
    assert usage == {"ocr_usage": []}


def test_an_image_file_and_a_data_uri_give_latex(
    model_url: str, key: Credentials, tmp_path: Path
) -> None:
    path = tmp_path / "formula.png"
    path.write_bytes(formula_png("x^{2}+1"))
    mpx = client(model_url, key)
    image = mpx.image_new(file_path=str(path), math_inline_delimiters=("$", "$"), tags=["mpx"])
    assert same_latex(image.latex_styled(), "x^{2}+1"), image.result
    assert image.mmd().startswith("$") and image.request_id
    by_uri = mpx.image_new(
        url=data_uri(path.read_bytes()),
        formats=["text", "data"],
        data_options={"include_asciimath": True},
    )
    assert by_uri.result["data"][0]["type"] == "asciimath"
    found = mpx.query_ocr_results(tags=["mpx"])["ocr_results"]
    assert [r["image_id"] for r in found] == [image.request_id]
    usage = mpx.query_usage()["ocr_usage"]
    assert usage[0]["usage_type"] == "image" and usage[0]["count"] == 2


def test_a_url_async_privacy_and_batch(model_url: str, key: Credentials, tmp_path: Path) -> None:
    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "f.png").write_bytes(formula_png("a+b"))
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "served"))
    origin = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    try:
        mpx = client(model_url, key)
        by_url = mpx.image_new(url=f"http://127.0.0.1:{origin.server_address[1]}/f.png")
        assert same_latex(by_url.latex_styled(), "a+b")
        later = mpx.image_new(url=data_uri(formula_png("y=2")), is_async=True)
        assert later.wait_until_complete(timeout=30)
        assert same_latex(later.results()["result"]["latex_styled"], "y=2")
        private = client(model_url, key, improve_mathpix=False)
        hidden = private.image_new(url=data_uri(formula_png("a+b")))
        assert mpx.query_ocr_results(request_id=hidden.request_id) == {"ocr_results": []}
        batch = mpx.batch_new(urls={"one": data_uri(formula_png("a+b")), "two": "data:,x"})
        assert batch.wait_until_complete(timeout=60)
        results = batch.results()
        assert same_latex(results["one"]["latex"], "a+b")
        assert results["two"]["error_info"]["id"] == "image_decode_error"
    finally:
        origin.shutdown()
        origin.server_close()
