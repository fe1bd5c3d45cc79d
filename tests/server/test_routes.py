"""The routes that work without a model: tokens, history and usage queries, corrections,
batches of bad items, health, the OpenAPI schema, the web page, the no-auth loopback mode."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from scipix.server.state import RecognitionService
from scipix.server.store import DB_FILE_NAME

from .conftest import Credentials, build_app, data_uri, live_server, new_key, png_bytes


def test_app_token_lifecycle(client: TestClient, key: Credentials) -> None:
    before = time.time() * 1000
    made = client.post("/v3/app-tokens", json={"expires": 120}, headers={"app_key": key.app_key})
    body = made.json()
    assert made.status_code == 200 and body["app_token"].startswith("token_")
    assert before + 110_000 < body["app_token_expires_at"] < before + 130_000
    default = client.post("/v3/app-tokens", headers=key.headers).json()  # no body: 300 s
    assert default["app_token_expires_at"] > before + 290_000
    strokes = client.post(
        "/v3/app-tokens", json={"include_strokes_session_id": True}, headers=key.headers
    ).json()
    assert strokes["strokes_session_id"].startswith("strokes_")
    token = body["app_token"]
    got = client.get(f"/v3/app-tokens/{token}", headers=key.headers).json()
    assert got["app_id"] == key.app_id and got["app_token"] == token
    assert client.delete(f"/v3/app-tokens/{token}", headers=key.headers).status_code == 200
    gone = client.get(f"/v3/app-tokens/{token}", headers=key.headers)
    assert gone.status_code == 200 and gone.json()["error_info"]["id"] == "token_unknown"


def test_history_and_usage_answer_in_mathpix_shape(client: TestClient, key: Credentials) -> None:
    results = client.get(
        "/v3/ocr-results",
        params={"page": 1, "per_page": 10, "is_printed": "True", "tags": ["a", "b"]},
        headers={"app_key": key.app_key},  # ocr-results needs only app_key
    )
    assert results.status_code == 200 and results.json() == {"ocr_results": []}
    missing = client.get("/v3/ocr-results", params={"request_id": "nope"}, headers=key.headers)
    assert missing.json() == {"ocr_results": []}
    usage = client.get(
        "/v3/ocr-usage",
        params={"group_by": ["usage_type", "app_id"], "timespan": "day", "from_date": "2025-01-01"},
        headers=key.headers,
    )
    assert usage.status_code == 200 and usage.json() == {"ocr_usage": []}


def test_a_correction_is_stored_with_its_image(
    client: TestClient, key: Credentials, data_dir: Path
) -> None:
    image = png_bytes()
    body = {
        "latex": "x^{2}+1",
        "request_id": "r1",
        "original_latex": "x^{2}",
        "src": data_uri(image),
    }
    resp = client.post("/v3/corrections", json=body, headers=key.headers)
    assert resp.status_code == 200
    answer = resp.json()
    assert answer["correction_id"] >= 1 and answer["original_latex"] == "x^{2}"
    row = (
        sqlite3.connect(data_dir / DB_FILE_NAME)
        .execute("SELECT app_id, latex, original_latex, image FROM corrections")
        .fetchone()
    )
    assert row == (key.app_id, "x^{2}+1", "x^{2}", image)


def test_a_batch_of_bad_items_completes_with_errors_as_data(
    client: TestClient, key: Credentials
) -> None:
    urls = {
        "bad64": "data:image/png;base64,###",
        "private": "http://10.0.0.7/a.png",
        "nourl": {"formats": ["text"]},
        "badfmt": {"url": data_uri(png_bytes()), "formats": ["nope"]},
    }
    made = client.post("/v3/batch", json={"urls": urls}, headers=key.headers)
    batch_id = made.json()["batch_id"]
    assert made.status_code == 200 and batch_id.isdigit()
    deadline = time.monotonic() + 20
    while True:
        status = client.get(f"/v3/batch/{batch_id}", headers=key.headers).json()
        if len(status["results"]) == len(status["keys"]) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status["keys"] == list(urls)
    ids = {k: v["error_info"]["id"] for k, v in status["results"].items()}
    assert ids == {
        "bad64": "image_decode_error",
        "private": "image_download_error",
        "nourl": "image_missing",
        "badfmt": "opts_unknown_format",
    }


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] in ("ok", "degraded") and health["version"]
    schema = client.get("/openapi.json").json()
    for path in (
        "/v3/text",
        "/v3/latex",
        "/v3/batch",
        "/v3/batch/{batch_id}",
        "/v3/ocr-results",
        "/v3/ocr-usage",
        "/v3/app-tokens",
        "/v3/corrections",
        "/health",
    ):
        assert path in schema["paths"], path
    assert {"app_id", "app_key", "app_token"} <= set(schema["components"]["securitySchemes"])
    text_body = schema["paths"]["/v3/text"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(text_body)


def test_the_web_page_loads_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/static/app.js" in assets and "/static/style.css" in assets
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), asset
        if asset.startswith("/static/"):
            served = client.get(asset)
            assert served.status_code == 200
            assert not re.search(r"https?://(?!www\.w3\.org/1998/Math/MathML)", served.text)


def test_no_auth_on_loopback_only_when_configured(
    data_dir: Path, recognizer: RecognitionService
) -> None:
    with live_server(build_app(data_dir, recognizer)) as url:
        required = httpx.get(f"{url}/v3/ocr-usage")
        assert required.status_code == 401
    with live_server(build_app(data_dir, recognizer, auth="none_on_loopback")) as url:
        local = httpx.get(f"{url}/v3/ocr-usage")
        assert local.status_code == 200 and local.json() == {"ocr_usage": []}
        wrong = httpx.get(f"{url}/v3/ocr-usage", headers={"app_id": "x", "app_key": "y"})
        assert wrong.status_code == 401  # credentials given are still checked


def test_history_can_be_off_per_key_per_request_and_per_server(
    data_dir: Path, recognizer: RecognitionService
) -> None:
    """A failed download reaches the history (as a null result) unless history is off."""
    on = new_key(data_dir, "on")
    off = new_key(data_dir, "off", history=False)
    failing = {"src": "http://10.9.9.9/a.png"}
    private = {**failing, "metadata": {"improve_mathpix": False}}

    def history(client: TestClient, key: Credentials) -> list[dict[str, object]]:
        params = {"include_null_results": "true"}
        found: list[dict[str, object]] = client.get(
            "/v3/ocr-results", params=params, headers=key.headers
        ).json()["ocr_results"]
        return found

    with TestClient(build_app(data_dir, recognizer, allow_url_fetch=True)) as client:
        for key, body in ((on, failing), (off, failing), (on, private)):
            client.post("/v3/text", json={**body, "tags": ["t"]}, headers=key.headers)
        kept = history(client, on)
        assert len(kept) == 1 and kept[0]["endpoint"] == "/v3/text"
        assert kept[0]["result"]["error_info"]["id"] == "image_download_error"  # type: ignore[index]
        assert kept[0]["request_args"] == {"tags": ["t"]}
        assert history(client, off) == []
    with TestClient(build_app(data_dir, recognizer, allow_url_fetch=True, history=False)) as client:
        client.post("/v3/text", json=failing, headers=on.headers)
        assert len(history(client, on)) == 1  # nothing new
