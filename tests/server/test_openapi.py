"""The OpenAPI document comes from the models that check the bodies, so it cannot drift.

Each documented bound and enum is compared with the constant the code enforces, and the served
document with the server's behaviour: a value at a documented bound is accepted, one past it is
refused with ``opts_value_out_of_range``, and a body of every documented option is accepted.
None of these requests reaches recognition (a blank image is refused first).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from scipix.schema import TEXT_FORMATS, RecognizeOptions, Result
from scipix.server.batch import MAX_BATCH_ITEMS, OCR_BEHAVIORS, BatchRequest
from scipix.server.converter import ConverterRequest
from scipix.server.intake import ImageForm
from scipix.server.legacy import (
    LEGACY_FORMATS,
    OCR_VALUES,
    LatexRequest,
    LatexResponse,
    legacy_body,
)
from scipix.server.openapi import REF, model_schema
from scipix.server.options import TextRequest
from scipix.server.pdfintake import PdfForm
from scipix.server.pdfoptions import PdfRequest
from scipix.server.routes.corrections import MAX_LATEX_CHARS, CorrectionRequest
from scipix.server.routes.strokes import StrokesRequest
from scipix.server.routes.tokens import MAX_EXPIRES_S, MIN_EXPIRES_S, AppTokenRequest

from .conftest import Credentials, build_app, data_uri, png_bytes

Document = dict[str, Any]
MODELS = (
    TextRequest,
    LatexRequest,
    ImageForm,
    BatchRequest,
    AppTokenRequest,
    CorrectionRequest,
    StrokesRequest,
    PdfRequest,
    PdfForm,
    ConverterRequest,
)
BODY_MODELS: dict[str, type[BaseModel]] = {m.__name__: m for m in MODELS}
IMAGE_ROUTES = ("/v3/text", "/v3/latex")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Document:
    app = build_app(tmp_path_factory.mktemp("openapi"), None)  # never started: no model
    served: Document = app.openapi()
    return served


@pytest.fixture
def served(client: TestClient) -> Document:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: Document = response.json()
    return body


def resolve(document: Document, schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in schema:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][schema["$ref"].removeprefix(REF)]
    return found


def body_properties(
    document: Document, path: str, media: str = "application/json"
) -> dict[str, Any]:
    body = document["paths"][path]["post"]["requestBody"]["content"][media]["schema"]
    properties: dict[str, Any] = resolve(document, body)["properties"]
    return properties


def numeric(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The numeric branch of a property (``int | None`` is ``anyOf: [integer, null]``)."""
    branches: list[dict[str, Any]] = [schema, *schema.get("anyOf", ())]
    return next((b for b in branches if b.get("type") in ("integer", "number")), None)


def number(schema: dict[str, Any]) -> dict[str, Any]:
    found = numeric(schema)
    assert found is not None, schema
    return found


def enforced_max(field: str) -> Any:
    """The largest value :class:`RecognizeOptions` (which checks both routes) accepts."""
    metadata = RecognizeOptions.model_fields[field].metadata
    return next(m.le for m in metadata if hasattr(m, "le"))


def test_documented_bounds_and_enums_are_the_constants_the_code_enforces(
    document: Document,
) -> None:
    text = body_properties(document, "/v3/text")
    latex = body_properties(document, "/v3/latex")
    assert "n_best" in text and "beam_width" in text  # /v3/text has both since issue 12
    assert number(latex["beam_size"])["maximum"] == enforced_max("beam_width")
    assert number(text["beam_width"])["maximum"] == enforced_max("beam_width")
    assert number(latex["n_best"])["maximum"] == enforced_max("n_best")
    assert number(text["n_best"])["maximum"] == enforced_max("n_best")
    assert text["formats"]["items"]["enum"] == list(TEXT_FORMATS)
    assert latex["formats"]["items"]["enum"] == list(LEGACY_FORMATS)
    assert latex["ocr"]["items"]["enum"] == list(OCR_VALUES)
    batch = body_properties(document, "/v3/batch")
    assert batch["ocr_behavior"]["enum"] == list(OCR_BEHAVIORS)
    assert batch["urls"]["maxProperties"] == MAX_BATCH_ITEMS
    expires = body_properties(document, "/v3/app-tokens")["expires"]
    assert (expires["minimum"], expires["maximum"]) == (MIN_EXPIRES_S, MAX_EXPIRES_S)
    assert body_properties(document, "/v3/corrections")["latex"]["maxLength"] == MAX_LATEX_CHARS
    for path in IMAGE_ROUTES:
        form = body_properties(document, path, "multipart/form-data")
        assert set(form) == {"file", "options_json"}


def without_nulls(node: Any) -> Any:
    """A schema as FastAPI serves it: null values (``default: null``) left out."""
    if isinstance(node, dict):
        return {k: without_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [without_nulls(v) for v in node]
    return node


def test_every_route_with_a_body_documents_its_model(document: Document) -> None:
    """Each route that reads a body (every POST) documents it with the JSON schema of its
    pydantic model, as generated; the other routes document none."""
    schemas = document["components"]["schemas"]
    posts = {p for p, item in document["paths"].items() if "post" in item}
    assert posts == {
        "/v3/text",
        "/v3/latex",
        "/v3/batch",
        "/v3/app-tokens",
        "/v3/corrections",
        "/v3/strokes",
        "/v3/pdf",
        "/v3/converter",
    }
    for path, path_item in document["paths"].items():
        for method, operation in path_item.items():
            if method != "post":
                assert "requestBody" not in operation, (method, path)
                continue
            for media in operation["requestBody"]["content"].values():
                generated = resolve(document, media["schema"])
                expected = model_schema(BODY_MODELS[generated["title"]])
                for name, definition in expected.pop("$defs", {}).items():
                    assert schemas[name] == without_nulls(definition), name
                assert generated == without_nulls(expected), path


def test_the_document_is_valid_openapi_without_fastapi_422s(document: Document) -> None:
    text = json.dumps(document)
    assert '"$defs"' not in text
    for ref in set(_refs(document)):
        assert ref.removeprefix(REF) in document["components"]["schemas"], ref
    for path_item in document["paths"].values():
        for operation in path_item.values():
            assert "422" not in operation["responses"]  # bad parameters are Mathpix errors
    assert "HTTPValidationError" not in document["components"]["schemas"]
    from openapi_spec_validator import validate  # [dev]

    validate(document)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _post(client: TestClient, key: Credentials, path: str, body: dict[str, Any]) -> str:
    response = client.post(path, json=body, headers=key.headers)
    assert response.status_code == 200, response.text
    error_id: str = response.json().get("error_info", {}).get("id", "")
    return error_id


@pytest.mark.parametrize("path", IMAGE_ROUTES)
def test_the_served_bounds_hold(
    client: TestClient, key: Credentials, served: Document, path: str
) -> None:
    blank = data_uri(png_bytes(text=""))
    properties = body_properties(served, path)
    bounded = {name: n for name, s in properties.items() if "maximum" in (n := numeric(s) or {})}
    assert {"n_best", "confidence_threshold"} <= set(bounded)
    for name, schema in bounded.items():
        step = 1 if schema["type"] == "integer" else 0.5
        for value, error_id in (
            (schema["maximum"], "image_no_content"),
            (schema["minimum"], "image_no_content"),
            (schema["maximum"] + step, "opts_value_out_of_range"),
            (schema["minimum"] - step, "opts_value_out_of_range"),
        ):
            got = _post(client, key, path, {"src": blank, name: value})
            assert got == error_id, (name, value)


def test_the_served_limits_of_the_other_bodies_hold(
    client: TestClient, key: Credentials, served: Document
) -> None:
    expires = body_properties(served, "/v3/app-tokens")["expires"]
    headers = {"app_key": key.app_key}
    for value, ok in ((expires["maximum"], True), (expires["maximum"] + 1, False)):
        response = client.post("/v3/app-tokens", json={"expires": value}, headers=headers)
        assert ("app_token" in response.json()) is ok, value
    longest = body_properties(served, "/v3/corrections")["latex"]["maxLength"]
    for length, error_id in ((longest, ""), (longest + 1, "opts_bad_format")):
        assert _post(client, key, "/v3/corrections", {"latex": "x" * length}) == error_id
    batch = body_properties(served, "/v3/batch")
    for behavior in batch["ocr_behavior"]["enum"]:
        body = {"urls": {"a": "data:,x"}, "ocr_behavior": behavior}
        assert _post(client, key, "/v3/batch", body) == "", behavior
    too_many = {"urls": {str(i): "data:,x" for i in range(batch["urls"]["maxProperties"] + 1)}}
    assert _post(client, key, "/v3/batch", too_many) == "opts_value_out_of_range"


def _example(schema: dict[str, Any]) -> Any:
    """A valid value of a documented option: its default, an empty list or object, or null."""
    if "default" in schema:
        return schema["default"]
    if schema.get("type") == "array":
        return []
    return {} if "$ref" in schema or not {"type", "anyOf"} & set(schema) else None


@pytest.mark.parametrize("path", IMAGE_ROUTES)
def test_a_body_of_every_documented_option_is_accepted(
    client: TestClient, key: Credentials, served: Document, path: str
) -> None:
    properties = body_properties(served, path)
    body = {name: _example(schema) for name, schema in properties.items()}
    body["src"] = data_uri(png_bytes(text=""))
    formats = properties["formats"]["items"]["enum"]
    assert _post(client, key, path, body) == "image_no_content"
    assert _post(client, key, path, {**body, "formats": formats}) == "image_no_content"
    assert _post(client, key, path, {**body, "formats": ["no_such"]}) == "opts_unknown_format"
    assert _post(client, key, path, {**body, "no_such_option": 1}) == "opts_bad_format"


def test_the_latex_answer_is_what_its_model_documents(document: Document) -> None:
    response = document["paths"]["/v3/latex"]["post"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"] == {"$ref": REF + "LatexResponse"}
    result = Result.model_validate(
        {
            "latex_styled": "x^{2}",
            "confidence": 0.9,
            "confidence_rate": 0.95,
            "image_width": 40,
            "image_height": 20,
            "data": [
                {"type": "latex", "value": "x^{2}"},
                {"type": "mathml", "value": "<math><msup><mi>x</mi><mn>2</mn></msup></math>"},
                {"type": "asciimath", "value": "x^(2)"},
            ],
            "candidates": [{"latex": "x^{2}", "confidence": 0.9, "confidence_rate": 0.95}],
        }
    )
    for formats in ((), LEGACY_FORMATS):
        body = legacy_body(result, formats)
        assert LatexResponse.model_validate(body).model_dump(exclude_none=True) == body
