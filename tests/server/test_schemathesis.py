"""Schemathesis over the server's own OpenAPI schema: generated requests, never a 5xx.

Runs against a live uvicorn server on 127.0.0.1. Without a model, valid-looking images are
answered ``model_unavailable`` (503) by design; that is the only 5xx allowed, and only then.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.schemas import APIOperation

from scipix.server.state import RecognitionService

from .conftest import Credentials, build_app, live_server, new_key

Api = tuple[str, Credentials, bool]
#: uvicorn's HTTP parser (h11) drops a request whose head passes 16 KiB before the app sees it.
MAX_REQUEST_HEAD = 16 * 1024


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory,
    recognizer: RecognitionService,
    model_missing: str | None,
) -> Iterator[Api]:
    data_dir = tmp_path_factory.mktemp("schemathesis")
    key = new_key(data_dir, "fuzz", rate_limit_per_minute=1_000_000)
    with live_server(build_app(data_dir, recognizer)) as url:
        yield url, key, model_missing is None


def operations(url: str) -> list[APIOperation]:
    """Every operation of the live server's schema (schemathesis's own loader, not its pytest
    plugin: that one reaches into pytest internals that pytest 9.2 removed)."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_generated_requests_get_no_server_error(api: Api) -> None:
    url = api[0]
    found = operations(url)
    assert {op.label for op in found} >= {"POST /v3/text", "POST /v3/latex", "POST /v3/batch"}
    for operation in found:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def generated(case: schemathesis.Case) -> None:
            check(case, api)

        generated()


def check(case: schemathesis.Case, api: Api) -> None:
    url, key, has_model = api
    try:
        response = case.call(base_url=url, headers=key.headers, timeout=60)
    except requests.ConnectionError:
        assert len(case.formatted_path) + len(str(case.query)) * 3 > MAX_REQUEST_HEAD
        return
    assert "Traceback" not in response.text
    if response.status_code >= 500:
        error_id = response.json().get("error_info", {}).get("id")
        assert not has_model and response.status_code == 503, case.as_curl_command()
        assert error_id == "model_unavailable", response.text
    content_type = response.headers.get("content-type") or [""]
    assert str(content_type[0]).startswith("application/json"), case.path
