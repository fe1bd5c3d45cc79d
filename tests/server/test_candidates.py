"""``/v3/latex`` with ``n_best``: the recognizer's n-best readings come back as ``candidates``
(recognition by a scripted stand-in for the formula model, so this runs without a model)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from imaging.drawing import formula
from pipeline.scripted import ScriptedRecognizer
from scipix.service import Scipix
from scipix.settings import Settings

from .conftest import Credentials, build_app, data_uri

LATEX = r"\frac{a}{b}=c"


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    settings = Settings()
    settings.ocr.text_ocr = False
    fake = ScriptedRecognizer([(LATEX, 0.9)], [(r"\frac{a}{b}=e", 0.5), (r"\frac{a}{6}=c", 0.2)])
    service = Scipix(settings, recognizer=fake)  # type: ignore[arg-type]
    with TestClient(build_app(data_dir, service)) as client:
        yield client


def png(tex: str) -> str:
    buf = io.BytesIO()
    Image.fromarray(formula(tex)).save(buf, "PNG")
    return data_uri(buf.getvalue())


def test_latex_n_best_returns_candidates(client: TestClient, key: Credentials) -> None:
    request = {"src": png(LATEX), "formats": ["latex_simplified", "asciimath"], "n_best": 3}
    body = client.post("/v3/latex", json={**request, "beam_size": 4}, headers=key.headers).json()
    assert body["latex_simplified"] == r"\frac { a } { b } = c"
    candidates = body["candidates"]
    assert [c["latex_simplified"] for c in candidates] == [
        r"\frac { a } { b } = c",
        r"\frac { a } { b } = e",
        r"\frac { a } { 6 } = c",
    ]
    assert [c["latex_confidence"] for c in candidates] == [0.9, 0.5, 0.2]
    assert candidates[0]["asciimath"] == body["asciimath"]
    plain = client.post("/v3/latex", json={"src": png(LATEX)}, headers=key.headers).json()
    assert "candidates" not in plain and plain["latex"] == LATEX
    two = client.post("/v3/latex", json={"src": png(LATEX), "n_best": 2}, headers=key.headers)
    assert [c["latex"] for c in two.json()["candidates"]] == [LATEX, r"\frac{a}{b}=e"]
    too_many = client.post(
        "/v3/latex", json={"src": png(LATEX), "n_best": 3, "beam_size": 2}, headers=key.headers
    ).json()
    assert too_many["error_info"]["id"] == "opts_value_out_of_range"
