"""Mathpix's fields over HTTP, exactly (issue 13): each test names the example of
``MATHPIX_API.md`` (T1..T6, or its section) it reproduces. The formula model is a scripted
stand-in whose printed/handwritten verdict the tests set."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from imaging.drawing import formula
from pipeline.scripted import ScriptedRecognizer
from scipix.recognition import Reading
from scipix.service import Scipix
from scipix.settings import Settings

from .conftest import Credentials, build_app, data_uri

CIRCLE = "x^{2}+y^{2}=9"
#: The keys of T1's response (T2's are the same but ``data``).
T1_KEYS = {
    "auto_rotate_confidence", "auto_rotate_degrees", "confidence", "confidence_rate", "data",
    "image_height", "image_width", "is_handwritten", "is_printed", "latex_styled",
    "request_id", "text", "version",
}  # fmt: skip
ALPHABETS = ["en", "hi", "zh", "ja", "ko", "ru", "th", "ta", "te", "gu", "bn", "vi"]


class StyledRecognizer(ScriptedRecognizer):
    """The scripted recognizer, its readings handwritten with probability ``handwritten``."""

    handwritten = 0.1

    def recognize(self, images: Sequence[np.ndarray], n_best: int = 1, **kw: Any) -> list[Reading]:
        readings = super().recognize(images, n_best, **kw)
        return [dataclasses.replace(r, handwritten=self.handwritten) for r in readings]


@pytest.fixture
def fake() -> StyledRecognizer:
    return StyledRecognizer([(CIRCLE, 0.9)])


@pytest.fixture
def client(data_dir: Path, fake: StyledRecognizer) -> Iterator[TestClient]:
    settings = Settings()
    settings.ocr.text_ocr = False
    settings.memory.cache = False  # the fake's answers change between posts of one image
    service = Scipix(settings, recognizer=fake)  # type: ignore[arg-type]
    with TestClient(build_app(data_dir, service)) as test_client:
        yield test_client


def png(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, "PNG")
    return buf.getvalue()


def placed(left: int, top: int, size: tuple[int, int] = (288, 720)) -> np.ndarray:
    """T4's image size with the formula's ink at (``left``, ``top``)."""
    canvas = np.full(size, 255, dtype=np.uint8)
    ink = formula(CIRCLE, pad=0)
    canvas[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return canvas


def post(client: TestClient, key: Credentials, path: str, **body: Any) -> dict[str, Any]:
    body.setdefault("src", data_uri(png(placed(54, 9))))
    response = client.post(path, json=body, headers=key.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    assert "error" not in result, result
    return result


def test_t1_text_and_data_with_latex_styled_unasked(client: TestClient, key: Credentials) -> None:
    """T1: ``formats: ["text", "data"]``, ``include_asciimath``: T1's keys, ``\\\\( \\\\)``
    padded, one asciimath item, and ``latex_styled`` although formats did not name it."""
    asciimath = {"include_asciimath": True}
    body = post(client, key, "/v3/text", formats=["text", "data"], data_options=asciimath)
    assert set(body) >= T1_KEYS
    assert body["text"] == f"\\( {CIRCLE} \\)" and body["latex_styled"] == CIRCLE
    assert [item["type"] for item in body["data"]] == ["asciimath"]


def test_t2_multipart_with_dollar_delimiters(client: TestClient, key: Credentials) -> None:
    """T2: the image as ``file``, ``options_json`` asking for ``$`` delimiters: ``$...$``."""
    options = {"math_inline_delimiters": ["$", "$"], "rm_spaces": True}
    response = client.post(
        "/v3/text",
        files={"file": ("cases_hw.png", png(placed(54, 9)), "image/png")},
        data={"options_json": json.dumps(options)},
        headers=key.headers,
    )
    body = response.json()
    assert set(body) >= T1_KEYS - {"data"} and "data" not in body
    assert body["text"] == f"${CIRCLE}$" and body["latex_styled"] == CIRCLE


def test_t5_html_over_http(client: TestClient, key: Credentials) -> None:
    """T5 (as a v3/text call): ``formats: ["text", "html", "data"]``, ``include_asciimath``:
    ``<div><span class="math-inline ">`` and the hidden ``<asciimath>`` first."""
    formats, asciimath_on = ["text", "html", "data"], {"include_asciimath": True}
    body = post(client, key, "/v3/text", formats=formats, data_options=asciimath_on)
    asciimath = body["data"][0]["value"]
    assert body["text"] == "\\( x^{2}+y^{2}=9 \\)"
    assert body["html"].startswith(
        '<div><span class="math-inline ">\n'
        f'<asciimath style="display: none;">{asciimath}</asciimath><math '
    )
    assert body["html"].endswith("</math></span></div>\n")


def test_detected_alphabets_in_v3_text_and_v3_latex(client: TestClient, key: Credentials) -> None:
    """Section 1 and 2: ``include_detected_alphabets: true`` adds ``detected_alphabets``, an
    object of Mathpix's 12 alphabets; without it there is none."""
    for path in ("/v3/text", "/v3/latex"):
        assert "detected_alphabets" not in post(client, key, path)
        found = post(client, key, path, include_detected_alphabets=True)["detected_alphabets"]
        assert list(found) == ALPHABETS
        assert found == {name: name == "en" for name in ALPHABETS}  # x and y are Latin


def test_v3_latex_position_is_the_content_box(client: TestClient, key: Credentials) -> None:
    """T4: a 720 x 288 image whose content starts at (54, 9): ``position`` is the box of the
    ink in the image's pixels, not the whole image; with a ``region``, still in the image's."""
    image = placed(54, 9)
    rows, cols = np.nonzero(image < 128)
    ink = (cols.min(), rows.min(), cols.max() + 1 - cols.min(), rows.max() + 1 - rows.min())
    formats = ["latex_simplified", "asciimath"]
    body = post(client, key, "/v3/latex", src=data_uri(png(image)), formats=formats)
    assert (body["image_width"], body["image_height"]) == (720, 288)
    box = body["position"]
    got = (box["top_left_x"], box["top_left_y"], box["width"], box["height"])
    assert got == pytest.approx(ink, abs=2), (got, ink)
    region = {"top_left_x": 30, "top_left_y": 0, "width": 500, "height": 200}
    again = post(client, key, "/v3/latex", src=data_uri(png(image)), region=region)["position"]
    assert again == pytest.approx(box, abs=2)


def test_ocr_results_filters_agree_with_each_result(
    client: TestClient, key: Credentials, fake: StyledRecognizer
) -> None:
    """Section 5: ``is_printed`` / ``is_handwritten`` find the results that said so, in
    ``/v3/text``'s fields or ``/v3/latex``'s ``detection_map.is_printed``."""
    for style in (0.1, 0.9):
        fake.handwritten = style
        post(client, key, "/v3/text", tags=[f"style-{style}"])
        post(client, key, "/v3/latex", tags=[f"style-{style}"])

    def found(**params: Any) -> list[dict[str, Any]]:
        response = client.get("/v3/ocr-results", params=params, headers=key.headers)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["ocr_results"]
        return items

    def printed(item: dict[str, Any]) -> bool:
        result = item["result"]
        said = result.get("is_printed", result.get("detection_map", {}).get("is_printed"))
        return bool(said)

    everything = found()
    assert len(everything) == 4
    for item in everything:
        assert item["detections"]["is_printed"] is printed(item)
        assert item["detections"]["is_handwritten"] is not printed(item)
    for flag, value in (("is_printed", "True"), ("is_handwritten", "False")):
        items = found(**{flag: value})
        assert sorted(i["endpoint"] for i in items) == ["/v3/latex", "/v3/text"]
        assert all(printed(i) and i["request_args"]["tags"] == ["style-0.1"] for i in items)
    for flag, value in (("is_printed", "false"), ("is_handwritten", "true")):
        items = found(**{flag: value})
        assert sorted(i["endpoint"] for i in items) == ["/v3/latex", "/v3/text"]
        assert not any(printed(i) for i in items)
