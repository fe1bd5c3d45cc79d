"""The memory on the server: the same image twice under one key is recognized once
(``cached: true``), and ``GET /v3/memory/search`` finds a key's own readings only."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from scipix.server.state import RecognitionService

from .conftest import Credentials, data_uri, new_key
from .test_errors import assert_error

QUADRATIC = Path(__file__).resolve().parents[2] / "examples" / "quadratic.png"


def test_a_key_sees_its_cached_results_and_readings_only(
    client: TestClient, key: Credentials, data_dir: Path, needs_model: RecognitionService
) -> None:
    body = {"src": data_uri(QUADRATIC.read_bytes())}
    first = client.post("/v3/text", json=body, headers=key.headers).json()
    assert "cached" not in first and first["latex_styled"]
    again = client.post("/v3/text", json=body, headers=key.headers).json()
    assert again["cached"] is True and again["latex_styled"] == first["latex_styled"]
    other = new_key(data_dir, "other")
    assert (
        "cached"
        not in client.post("/v3/text", json={"src": body["src"]}, headers={**other.headers}).json()
    )

    query = {"latex": first["latex_styled"], "k": 3}
    found = client.get("/v3/memory/search", params=query, headers=key.headers).json()
    assert found["results"][0]["match"] == "exact"
    assert found["results"][0]["request_id"] == first["request_id"]
    third = new_key(data_dir, "third")
    assert client.get("/v3/memory/search", params=query, headers=third.headers).json() == {
        "results": []
    }


def test_memory_search_refuses_bad_queries(client: TestClient, key: Credentials) -> None:
    search = "/v3/memory/search"
    assert_error(
        client.get(search, params={"latex": r"\frac{a"}, headers=key.headers), "math_syntax"
    )
    assert_error(client.get(search, headers=key.headers), "opts_bad_format")
    assert_error(
        client.get(search, params={"latex": "x", "k": 0}, headers=key.headers), "opts_bad_format"
    )
    assert_error(client.get(search, params={"latex": "x"}), "http_unauthorized", 401)
