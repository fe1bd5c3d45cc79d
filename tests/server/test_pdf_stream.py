"""``GET /v3/pdf/{pdf_id}/stream`` against a live server: one server-sent event per page, in the
shape Mathpix streams (``page_idx``, ``pdf_selected_len``, ``text``), ending when the document
is done; a document that fails ends its stream with the error; an unknown id is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from scipix.server.state import RecognitionService

from .conftest import Credentials, build_app, live_server, new_key
from .test_pdf_api import submit, text_pages

Server = tuple[str, Credentials]


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, recognizer: RecognitionService
) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("stream") / "data"
    key = new_key(data_dir, "stream", rate_limit_per_minute=100_000)
    with live_server(build_app(data_dir, recognizer)) as url:
        yield url, key


def events(url: str, key: Credentials, pdf_id: str) -> list[dict[str, Any]]:
    found = []
    with httpx.stream(
        "GET", f"{url}/v3/pdf/{pdf_id}/stream", headers=key.headers, timeout=60
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                found.append(json.loads(line[len("data: ") :]))
    return found


def test_pages_stream_as_they_are_read(server: Server, needs_model: RecognitionService) -> None:
    url, key = server
    pdf_id = submit(url, key, text_pages(3), streaming=True, page_ranges="1,3")["pdf_id"]
    got = events(url, key, pdf_id)
    assert sorted(e["page_idx"] for e in got) == [1, 2]
    assert {(e["pdf_id"], e["pdf_selected_len"]) for e in got} == {(pdf_id, 2)}
    texts = {e["page_idx"]: e["text"] for e in got}
    assert "Page 1 tells" in texts[1] and "Page 3 tells" in texts[2]
    status = httpx.get(f"{url}/v3/pdf/{pdf_id}", headers=key.headers).json()
    assert status["status"] == "completed"  # the stream ended with the document


def test_a_failed_document_ends_its_stream_with_the_error(server: Server) -> None:
    url, key = server
    pdf_id = submit(url, key, b"<html>no</html>", streaming=True)["pdf_id"]
    got = events(url, key, pdf_id)
    assert got[-1]["status"] == "error" and got[-1]["error_info"]["id"] == "pdf_decode_error"


def test_an_unknown_or_foreign_id_is_refused(server: Server) -> None:
    url, key = server
    unknown = httpx.get(f"{url}/v3/pdf/2026_01_01_00g/stream", headers=key.headers)
    assert unknown.json()["error_info"]["id"] == "pdf_unknown_id"
    assert httpx.get(f"{url}/v3/pdf/2026_01_01_00g/stream").status_code == 401
