"""``POST /v3/strokes`` with the real model: strokes read as LaTeX in the /v3/text shape,
Mathpix's error ids for bad strokes, configurable limits, app tokens with a strokes session,
usage and history; and ``scipix ocr FILE.inkml``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from scipix.cli.app import app as cli_app
from scipix.latex import normalize
from scipix.server.app import create_app
from scipix.service import Scipix

from .conftest import DATA, ink_settings, new_headers
from .glyphs import mathpix_strokes

Api = tuple[TestClient, dict[str, str], str]


def body(chars: str, **options: Any) -> dict[str, Any]:
    return {"strokes": {"strokes": mathpix_strokes(chars)}, **options}


def same(latex: str | None, expected: str) -> bool:
    return latex is not None and normalize(latex).replace(" ", "") == expected


def test_strokes_read_as_latex_in_the_text_shape(api: Api) -> None:
    client, headers, _ = api
    wanted = {"x+1": "x+1", "2x=1": "2x=1", "x+y": "x+y", "2+3": "2+3"}
    answers = {}
    for chars in wanted:
        options = {"formats": ["text", "data", "latex_styled"]}
        options["data_options"] = {"include_asciimath": True, "include_latex": True}
        answers[chars] = client.post("/v3/strokes", headers=headers, json=body(chars, **options))
    read = {c: r.json() for c, r in answers.items()}
    right = [c for c, r in read.items() if same(r.get("latex_styled"), wanted[c])]
    assert len(right) >= 3, {c: r.get("latex_styled") for c, r in read.items()}
    first = read[right[0]]
    assert first["is_handwritten"] is True and first["is_printed"] is False
    assert first["text"].startswith("\\(") and first["request_id"]
    assert {d["type"] for d in first["data"]} == {"asciimath", "latex"}


def test_options_and_delimiters_follow_v3_text(api: Api) -> None:
    client, headers, _ = api
    sent = body("x+y", math_inline_delimiters=["$", "$"], formats=["text"])
    answer = client.post("/v3/strokes", headers=headers, json=sent).json()
    assert answer["text"] == "$" + answer["latex_styled"] + "$"
    refused = client.post("/v3/strokes", headers=headers, json=body("x", formats=["svg"])).json()
    assert refused["error_info"]["id"] == "opts_unknown_format"
    typo = client.post("/v3/strokes", headers=headers, json=body("x", fromats=["text"])).json()
    assert typo["error_info"]["id"] == "opts_bad_format"


BAD = [
    ({}, "strokes_missing"),
    ({"strokes": "x"}, "strokes_syntax_error"),
    ({"strokes": {"strokes": {"x": [[1, 2]]}}}, "strokes_syntax_error"),
    ({"strokes": {"strokes": {"x": [[1, 2]], "y": [[1]]}}}, "strokes_syntax_error"),
    ({"strokes": {"strokes": {"x": [[1], [2]], "y": [[1]]}}}, "strokes_syntax_error"),
    ({"strokes": {"strokes": {"x": [[]], "y": [[]]}}}, "strokes_syntax_error"),
    ({"strokes": {"strokes": {"x": [["a"]], "y": [[1]]}}}, "strokes_syntax_error"),
    ({"strokes": {"strokes": {"x": [[True]], "y": [[1]]}}}, "strokes_syntax_error"),
    ({"strokes": {"strokes": {"x": [[1e9, 1]], "y": [[1, 2]]}}}, "strokes_syntax_error"),
    ({"strokes": {"strokes": {"x": [], "y": []}}}, "strokes_no_content"),
]


@pytest.mark.parametrize(("sent", "error_id"), BAD)
def test_bad_strokes_get_mathpix_error_ids(api: Api, sent: dict[str, Any], error_id: str) -> None:
    client, headers, _ = api
    answer = client.post("/v3/strokes", headers=headers, json=sent)
    assert answer.status_code == 200
    assert answer.json()["error_info"]["id"] == error_id


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999", "9" * 400])
def test_non_finite_coordinates_are_refused(api: Api, value: str) -> None:
    client, headers, _ = api
    raw = '{"strokes": {"strokes": {"x": [[VALUE, 1]], "y": [[1, 2]]}}}'.replace("VALUE", value)
    answer = client.post("/v3/strokes", headers=headers, content=raw).json()
    assert answer["error_info"]["id"] == "strokes_syntax_error"
    assert "finite" in answer["error"]


def test_limits_come_from_settings(tmp_path: Path, service: Scipix) -> None:
    data_dir = tmp_path / "data"
    headers, _ = new_headers(data_dir)
    settings = ink_settings(data_dir, max_points=50, max_strokes=3, max_body_bytes=20_000)
    with TestClient(create_app(settings, service=service)) as client:
        many = client.post("/v3/strokes", headers=headers, json=body("x+1=2")).json()
        assert many["error_info"]["limit_name"] == "max_strokes"
        points = {"x": [list(range(40)), list(range(40))], "y": [[0] * 40, [1] * 40]}
        sent = {"strokes": {"strokes": points}}
        long = client.post("/v3/strokes", headers=headers, json=sent).json()
        assert long["error_info"]["limit_name"] == "max_points"
        huge = {"x": [list(range(100_000))], "y": [[0] * 100_000]}
        big = client.post("/v3/strokes", headers=headers, json={"strokes": {"strokes": huge}})
        assert big.json()["error_info"]["id"] == "sys_request_too_large"


def test_the_default_body_limit_is_mathpix_512_kb(api: Api) -> None:
    client, headers, _ = api
    huge = {"x": [list(range(100_000))], "y": [list(range(100_000))]}
    answer = client.post("/v3/strokes", headers=headers, json={"strokes": {"strokes": huge}})
    assert answer.json()["error_info"]["id"] == "sys_request_too_large"


def test_app_token_with_strokes_session(api: Api) -> None:
    client, headers, app_key = api
    made = client.post(
        "/v3/app-tokens", headers={"app_key": app_key}, json={"include_strokes_session_id": True}
    ).json()
    token = {"app_token": made["app_token"]}
    session = made["strokes_session_id"]
    ok = client.post("/v3/strokes", headers=token, json=body("x+y", strokes_session_id=session))
    assert "error" not in ok.json() and ok.json()["is_handwritten"] is True
    plain = client.post("/v3/strokes", headers=token, json=body("x+y"))
    assert "error" not in plain.json()
    wrong = client.post("/v3/strokes", headers=token, json=body("x", strokes_session_id="s_x"))
    assert wrong.json()["error_info"]["id"] == "unauthorized_token_request"
    keyed = client.post("/v3/strokes", headers=headers, json=body("x", strokes_session_id=session))
    assert keyed.json()["error_info"]["id"] == "unauthorized_token_request"
    unknown = client.post("/v3/strokes", headers={"app_token": "token_nope"}, json=body("x"))
    assert unknown.json()["error_info"]["id"] == "unauthorized_token_request"
    assert client.post("/v3/strokes", json=body("x")).status_code == 401
    usage = client.get("/v3/ocr-usage", headers=headers).json()["ocr_usage"]
    counts = {u["usage_type"]: u["count"] for u in usage}
    assert counts == {"strokes-session": 1, "strokes": 1}
    found = client.get(
        "/v3/ocr-results", headers=headers, params={"is_handwritten": "true"}
    ).json()["ocr_results"]
    assert {r["endpoint"] for r in found} == {"/v3/strokes"} and len(found) == 2


def test_scipix_ocr_reads_inkml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.inkml"
    bad.write_text("<ink><trace>1 2,</trace>")
    runner = CliRunner()
    out = runner.invoke(cli_app, ["ocr", "--format", "json", str(DATA / "two_x_equals_one.inkml")])
    assert out.exit_code == 0, out.output
    record = json.loads(out.stdout.strip().splitlines()[-1])
    assert record["is_handwritten"] is True and record["latex_styled"]
    failed = runner.invoke(cli_app, ["ocr", str(bad)])
    assert failed.exit_code == 2
