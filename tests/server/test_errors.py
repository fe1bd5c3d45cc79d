"""Every bad input gets its Mathpix error id, never a 500 and never a stack trace (httpx).

None of these requests reaches recognition, so they run without a model.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from scipix.server.keys import KeyStore
from scipix.server.legacy import LEGACY_FORMATS
from scipix.server.options import ACCEPTED_NOT_APPLIED
from scipix.server.state import RecognitionService
from scipix.server.store import Database

from .conftest import Credentials, build_app, data_uri, new_key, png_bytes


def assert_error(response: httpx.Response, error_id: str, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_info"]["id"] == error_id, body
    assert body["error"] == body["error_info"]["message"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    info: dict[str, Any] = body["error_info"]
    return info


PROTECTED = [
    ("POST", "/v3/text"),
    ("POST", "/v3/latex"),
    ("POST", "/v3/batch"),
    ("GET", "/v3/batch/1"),
    ("GET", "/v3/ocr-results"),
    ("GET", "/v3/ocr-usage"),
    ("POST", "/v3/app-tokens"),
    ("GET", "/v3/app-tokens/token_x"),
    ("DELETE", "/v3/app-tokens/token_x"),
    ("POST", "/v3/corrections"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_no_or_wrong_credentials_is_401(
    client: TestClient, key: Credentials, method: str, path: str
) -> None:
    assert_error(client.request(method, path), "http_unauthorized", 401)
    wrong = {"app_id": key.app_id, "app_key": "0" * 64}
    assert_error(client.request(method, path, headers=wrong), "http_unauthorized", 401)


def test_a_revoked_key_is_401_at_once(client: TestClient, key: Credentials, data_dir: Path) -> None:
    assert client.get("/v3/ocr-usage", headers=key.headers).status_code == 200
    KeyStore(Database.in_dir(data_dir)).revoke(key.app_id)
    info = assert_error(client.get("/v3/ocr-usage", headers=key.headers), "http_unauthorized", 401)
    assert "revoked" in info["message"]


def test_app_tokens_where_mathpix_refuses_them(client: TestClient, key: Credentials) -> None:
    token = client.post("/v3/app-tokens", headers={"app_key": key.app_key}).json()["app_token"]
    as_token = {"app_token": token}
    assert_error(client.get("/v3/ocr-usage", headers=as_token), "unauthorized_token_request")
    batch = {"urls": {"a": data_uri(png_bytes())}}
    assert_error(
        client.post("/v3/batch", json=batch, headers=as_token), "unauthorized_token_request"
    )
    body = {"src": data_uri(png_bytes()), "async": True}
    assert_error(client.post("/v3/text", json=body, headers=as_token), "unauthorized_token_request")
    unknown = {"app_token": "token_" + "0" * 32}
    assert_error(client.post("/v3/text", json={}, headers=unknown), "unauthorized_token_request")


def test_an_expired_app_token_is_401(client: TestClient, key: Credentials, data_dir: Path) -> None:
    store = KeyStore(Database.in_dir(data_dir))
    token = store.create_token(store.get(key.app_id), expires_s=-1)
    resp = client.post("/v3/text", json={}, headers={"app_token": token.app_token})
    assert_error(resp, "http_unauthorized", 401)


def test_the_rate_limit_is_429_with_its_numbers(
    data_dir: Path, recognizer: RecognitionService
) -> None:
    limited = new_key(data_dir, "limited", rate_limit_per_minute=3)
    with TestClient(build_app(data_dir, recognizer)) as client:
        for _ in range(3):
            assert client.get("/v3/ocr-usage", headers=limited.headers).status_code == 200
        resp = client.get("/v3/ocr-usage", headers=limited.headers)
        info = assert_error(resp, "http_max_requests", 429)
        assert info["limit_value"] == 3 and info["count"] == 4
        assert resp.headers["Retry-After"] == "60"


def post_text(client: TestClient, key: Credentials, **kw: Any) -> httpx.Response:
    headers = {**key.headers, **kw.pop("headers", {})}
    return client.post("/v3/text", headers=headers, **kw)


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("body", "headers", "error_id"),
    [
        (b'{"src": ', JSON, "json_syntax"),
        (b"[1, 2]", JSON, "json_syntax"),
        (b"\xff\xfe not utf-8", JSON, "json_syntax"),
        (b"[" * 100_000, JSON, "json_syntax"),
        (
            b"src=abc&formats=text",
            {"content-type": "application/x-www-form-urlencoded"},
            "opts_bad_format",
        ),
        (
            b'{"formats": []}',
            {"content-type": "application/x-www-form-urlencoded"},
            "image_missing",
        ),
        (b"hello", {"content-type": "text/plain"}, "json_syntax"),
        (b"", JSON, "image_missing"),
        (b'{"formats": ["text"]}', {"content-type": "text/plain"}, "image_missing"),
        (b'{"src": "data:image/png;base64,@@@@"}', JSON, "image_decode_error"),
        (b'{"src": "data:image/png,rawbytes"}', JSON, "image_decode_error"),
        (b'{"src": 5}', JSON, "opts_bad_format"),
    ],
)
def test_malformed_bodies(
    client: TestClient, key: Credentials, body: bytes, headers: dict[str, str], error_id: str
) -> None:
    assert_error(post_text(client, key, content=body, headers={**key.headers, **headers}), error_id)


@pytest.mark.parametrize(
    ("options", "error_id", "detail"),
    [
        ({"formats": ["text", "wolfram"]}, "opts_unknown_format", {"formats": ["wolfram"]}),
        ({"formats": "nope"}, "opts_unknown_format", {}),
        (
            {"confidence_threshold": "high"},
            "opts_number_required",
            {"name": "confidence_threshold"},
        ),
        ({"confidence_threshold": 2}, "opts_value_out_of_range", {"name": "confidence_threshold"}),
        ({"data_options": {"include_latex": "maybe"}}, "opts_bad_format", {}),
        ({"no_such_option": True}, "opts_bad_format", {"name": "no_such_option"}),
        ({"metadata": "x"}, "opts_bad_format", {"name": "metadata"}),
        ({"tags": [1]}, "opts_bad_format", {"name": "tags"}),
        ({"callback": {"post": "http://example.org"}}, "opts_bad_callback", {}),
        (
            {"src": "http://10.1.2.3/a.png"},
            "image_download_error",
            {"url": "http://10.1.2.3/a.png"},
        ),
    ],
)
def test_bad_options(
    client: TestClient,
    key: Credentials,
    options: dict[str, Any],
    error_id: str,
    detail: dict[str, Any],
) -> None:
    body = {"src": data_uri(png_bytes()), **options}
    info = assert_error(post_text(client, key, json=body), error_id)
    for name, value in detail.items():
        assert info[name] == value


def test_a_private_url_is_refused_even_with_fetching_on(
    data_dir: Path, key: Credentials, recognizer: RecognitionService
) -> None:
    app = build_app(data_dir, recognizer, allow_url_fetch=True)
    with TestClient(app) as client:
        for url in ("http://127.0.0.1:9/a.png", "http://192.168.0.1/a.png", "http://[::1]/a"):
            info = assert_error(post_text(client, key, json={"src": url}), "image_download_error")
            assert "private" in info["message"]


def test_size_limits_as_mathpix(client: TestClient, key: Credentials) -> None:
    big_image = data_uri(b"\x89PNG" + b"\0" * 2_100_000)  # over 2 MB of image in base64
    assert_error(post_text(client, key, json={"src": big_image}), "sys_request_too_large")
    huge = b'{"src": "' + b"A" * 5_100_000 + b'"}'  # a body over 5 MB
    assert_error(
        post_text(client, key, content=huge, headers={**key.headers, **JSON}),
        "sys_request_too_large",
    )
    files = {"file": ("big.png", b"\0" * 5_100_000, "image/png")}
    assert_error(post_text(client, key, files=files), "sys_request_too_large")


def test_limits_are_configurable(
    data_dir: Path, key: Credentials, recognizer: RecognitionService
) -> None:
    with TestClient(
        build_app(data_dir, recognizer, max_body_bytes=2000, max_image_bytes=500)
    ) as client:
        small = data_uri(b"\0" * 600)
        assert_error(post_text(client, key, json={"src": small}), "sys_request_too_large")
        body = json.dumps({"src": "data:image/png;base64,", "tags": ["x" * 3000]})
        resp = post_text(client, key, content=body.encode(), headers={**key.headers, **JSON})
        assert_error(resp, "sys_request_too_large")


def test_multipart_problems(client: TestClient, key: Credentials) -> None:
    bad_json = {"options_json": "{not json"}
    png = {"file": ("a.png", png_bytes(), "image/png")}
    assert_error(post_text(client, key, files=png, data=bad_json), "json_syntax")
    assert_error(post_text(client, key, data={"options_json": "{}"}), "image_missing")
    empty = {"file": ("a.png", b"", "image/png")}
    assert_error(post_text(client, key, files=empty), "image_decode_error")
    options = {"options_json": json.dumps({"formats": ["bogus"]})}
    assert_error(post_text(client, key, files=png, data=options), "opts_unknown_format")
    garbled = b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc'  # no end
    headers = {**key.headers, "content-type": "multipart/form-data; boundary=xyz"}
    resp = post_text(client, key, content=garbled, headers=headers)
    assert resp.status_code == 200 and "error_info" in resp.json()


def test_legacy_latex_errors(client: TestClient, key: Credentials) -> None:
    src = data_uri(png_bytes())

    def post(body: dict[str, Any]) -> httpx.Response:
        return client.post("/v3/latex", json={"src": src, **body}, headers=key.headers)

    assert_error(post({"formats": ["latex_fancy"]}), "opts_unknown_format")
    assert_error(post({"formats": ["wolfram"]}), "opts_unknown_format")
    info = assert_error(post({"ocr": ["math", "chemistry"]}), "opts_unknown_ocr")
    assert info["ocr"] == "chemistry"
    assert_error(post({"beam_size": 99}), "opts_value_out_of_range")
    assert_error(post({"unheard_of": 1}), "opts_bad_format")


def test_batch_errors(client: TestClient, key: Credentials, data_dir: Path) -> None:
    h = key.headers
    assert_error(client.post("/v3/batch", json={}, headers=h), "image_missing")
    assert_error(client.post("/v3/batch", json={"urls": ["a"]}, headers=h), "opts_bad_format")
    bad_behavior = {"urls": {"a": "x"}, "ocr_behavior": "poetry"}
    assert_error(client.post("/v3/batch", json=bad_behavior, headers=h), "opts_bad_format")
    unknown_fmt = {"urls": {"a": "x"}, "ocr_behavior": "text", "formats": ["nope"]}
    assert_error(client.post("/v3/batch", json=unknown_fmt, headers=h), "opts_unknown_format")
    info = assert_error(client.get("/v3/batch/999", headers=h), "batch_unknown_id")
    assert info["batch_id"] == "999"
    assert_error(client.get("/v3/batch/not-a-number", headers=h), "batch_unknown_id")
    # str.isdigit() accepts superscripts that int() refuses (found by schemathesis)
    assert_error(client.get("/v3/batch/%C2%B9", headers=h), "batch_unknown_id")
    mine = client.post("/v3/batch", json={"urls": {"a": "data:,x"}}, headers=h).json()["batch_id"]
    other = new_key(data_dir, "other")
    assert_error(client.get(f"/v3/batch/{mine}", headers=other.headers), "batch_unknown_id")


def test_query_parameter_errors(client: TestClient, key: Credentials) -> None:
    h = key.headers
    assert_error(client.get("/v3/ocr-results?per_page=many", headers=h), "opts_number_required")
    assert_error(client.get("/v3/ocr-results?page=0", headers=h), "opts_value_out_of_range")
    assert_error(client.get("/v3/ocr-results?per_page=5000", headers=h), "opts_value_out_of_range")
    assert_error(client.get("/v3/ocr-results?from_date=yesterday", headers=h), "opts_bad_format")
    assert_error(client.get("/v3/ocr-results?is_printed=perhaps", headers=h), "opts_bad_format")
    assert_error(client.get("/v3/ocr-usage?group_by=colour", headers=h), "opts_bad_format")
    assert_error(client.get("/v3/ocr-usage?timespan=decade", headers=h), "opts_bad_format")


def test_app_token_request_errors(client: TestClient, key: Credentials) -> None:
    h = {"app_key": key.app_key}
    assert_error(
        client.post("/v3/app-tokens", json={"expires": 10}, headers=h), "opts_value_out_of_range"
    )
    assert_error(
        client.post("/v3/app-tokens", json={"expires": "soon"}, headers=h), "opts_number_required"
    )
    strokes = {"expires": 1000, "include_strokes_session_id": True}
    assert_error(client.post("/v3/app-tokens", json=strokes, headers=h), "opts_value_out_of_range")
    assert_error(client.get("/v3/app-tokens/token_nope", headers=h), "token_unknown")
    assert_error(client.delete("/v3/app-tokens/token_nope", headers=h), "token_unknown")


def test_correction_errors(client: TestClient, key: Credentials) -> None:
    h = key.headers
    assert_error(client.post("/v3/corrections", json={}, headers=h), "opts_bad_format")
    assert_error(client.post("/v3/corrections", json={"latex": 5}, headers=h), "opts_bad_format")
    bad_image = {"latex": "x", "src": "data:image/png;base64,%%%"}
    assert_error(client.post("/v3/corrections", json=bad_image, headers=h), "image_decode_error")


def test_unknown_routes_and_methods_keep_the_envelope(client: TestClient, key: Credentials) -> None:
    assert_error(client.get("/v3/nothing", headers=key.headers), "http_not_found", 404)
    assert_error(client.get("/v3/text", headers=key.headers), "http_method_not_allowed", 405)


def test_after_all_that_the_server_serves_and_the_database_is_sound(
    client: TestClient, key: Credentials
) -> None:
    for body in (b"{", b"[]", b'{"src": "data:image/png;base64,!!"}', b'{"formats": ["x"]}'):
        assert (
            post_text(client, key, content=body, headers={**key.headers, **JSON}).status_code == 200
        )
    assert client.get("/health").json()["version"]
    assert client.get("/v3/ocr-usage", headers=key.headers).status_code == 200
    state = client.app.state.scipix  # type: ignore[attr-defined]
    assert state.db.integrity_check() == "ok"


def test_images_the_service_refuses(client: TestClient, key: Credentials) -> None:
    """Decoded by the real service before any model runs: each bad image has its own id."""
    junk = data_uri(b"this is text, not an image")
    assert_error(post_text(client, key, json={"src": junk}), "image_decode_error")
    blank = data_uri(png_bytes(text=""))
    assert_error(post_text(client, key, json={"src": blank}), "image_no_content")
    buf = io.BytesIO()
    Image.new("1", (8000, 6000), 1).save(buf, "PNG")  # 48 Mpx in a small file: a "bomb"
    assert len(buf.getvalue()) < 2_000_000
    assert_error(post_text(client, key, json={"src": data_uri(buf.getvalue())}), "image_max_size")
    multipart = {"file": ("notes.txt", b"plain text", "text/plain")}
    assert_error(post_text(client, key, files=multipart), "image_decode_error")


def test_every_documented_mathpix_option_is_accepted(client: TestClient, key: Credentials) -> None:
    """A blank image gets ``image_no_content``, not an option error: the options all parse."""
    options: dict[str, Any] = {name: False for name in ACCEPTED_NOT_APPLIED}
    options.update(
        formats={},
        region={},
        alphabets_allowed={"en": True},
        confidence_rate_threshold=0.5,
        fullwidth_punctuation=None,
        metadata={"mpxpy": True, "improve_mathpix": False},
        tags=["a"],
        rm_spaces=False,
        math_inline_delimiters=["$", "$"],
        math_display_delimiters=["$$", "$$"],
        include_line_data=True,
        include_word_data=True,
        include_detected_alphabets=True,
        auto_rotate_confidence_threshold=1,
        confidence_threshold=0.1,
        data_options={
            "include_latex": True,
            "include_mathml": True,
            "include_asciimath": True,
            "include_html": True,
            "include_svg": True,
            "include_tsv": True,
            "include_table_html": True,
        },
    )
    blank = data_uri(png_bytes(text=""))
    assert_error(post_text(client, key, json={"src": blank, **options}), "image_no_content")
    legacy = {"formats": list(LEGACY_FORMATS), "ocr": ["math", "text"], "beam_size": 5, "n_best": 2}
    legacy.update(skip_recrop=True, format_options={}, include_detected_alphabets=True)
    resp = client.post("/v3/latex", json={"src": blank, **legacy}, headers=key.headers)
    assert_error(resp, "image_no_content")


def test_a_bug_in_a_stage_is_a_generic_500_with_its_id_and_a_logged_cause(
    client: TestClient,
    key: Credentials,
    recognizer: RecognitionService,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A TypeError injected into the Detect stage: the body says sys_exception and the request
    id, never the exception's text; the log has the exception, chained, with that request id."""
    detect = recognizer.agents[1]  # type: ignore[attr-defined]
    assert detect.name == "detect"

    def broken(job: Any) -> Any:
        raise TypeError("secret /srv/internals/path")

    monkeypatch.setattr(detect, "process", broken)
    with caplog.at_level("ERROR", logger="scipix.pipeline"):
        response = post_text(client, key, json={"src": data_uri(png_bytes())})
    info = assert_error(response, "sys_exception", status=500)
    assert "secret" not in response.text and "TypeError" not in response.text
    assert "detect" in info["message"]
    request_id = info["request_id"]
    logged = [r for r in caplog.records if r.name == "scipix.pipeline"]
    assert logged and request_id in logged[0].getMessage()
    assert logged[0].exc_info is not None and isinstance(logged[0].exc_info[1], TypeError)
