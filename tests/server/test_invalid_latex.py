"""LaTeX that is not valid is returned, but flagged: ``latex_valid: false`` and a ``math_syntax``
warning in the API's JSON, a warning on the CLI's stderr (the web page: test_browser.py).

The recognizer is the shipped model with a crafted decoder (``pipeline/crafted.py``) that reads
``x^{2`` when the beam's LaTeX constraint is off; with it on (the default) the same decoder
gives ``x^{2}`` and nothing is flagged.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from imaging.drawing import formula
from pipeline.crafted import brace_recognizer
from scipix.cli.app import app
from scipix.recognition import FormulaRecognizer
from scipix.service import Scipix
from scipix.settings import Settings

from .conftest import Credentials, build_app, data_uri


def png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(formula("x^2")).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(params=[False, True], ids=["unconstrained", "constrained"])
def client(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[tuple[TestClient, bool]]:
    settings = Settings()
    settings.ocr.text_ocr = False
    service = Scipix(settings, recognizer=brace_recognizer(constrained=request.param))
    with TestClient(build_app(data_dir, service)) as test_client:
        yield test_client, request.param


def test_the_api_flags_invalid_latex_and_only_then(
    client: tuple[TestClient, bool], key: Credentials
) -> None:
    test_client, constrained = client
    request = {"src": data_uri(png()), "formats": ["text", "latex_styled"]}
    body = test_client.post("/v3/text", json=request, headers=key.headers).json()
    assert "error" not in body and "error_info" not in body  # still a result
    legacy = test_client.post("/v3/latex", json={"src": request["src"]}, headers=key.headers)
    old = legacy.json()
    if constrained:  # the constraint closed the brace: nothing to flag
        assert body["latex_styled"] == old["latex"] == "x^{2}"
        assert not {"latex_valid", "warnings"} & (set(body) | set(old))
        return
    assert body["latex_styled"] == old["latex"] == "x^{2"
    assert body["latex_valid"] is False and old["latex_valid"] is False
    [warning] = body["warnings"]
    assert warning["id"] == "math_syntax" and "never closed" in warning["message"]
    assert warning["line_id"] == "0"
    assert old["warnings"] == body["warnings"]


def test_the_cli_warns_on_stderr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    crafted = brace_recognizer(constrained=False)
    monkeypatch.setattr(FormulaRecognizer, "load", classmethod(lambda cls, *a, **k: crafted))
    monkeypatch.setenv("SCIPIX_OCR__TEXT_OCR", "false")
    image = tmp_path / "f.png"
    image.write_bytes(png())
    result = CliRunner().invoke(app, ["ocr", str(image)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "x^{2"
    assert "warning" in result.stderr and "math_syntax" in result.stderr
    assert "never closed" in result.stderr
