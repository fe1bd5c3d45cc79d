"""Many clients at once against a live server: every one gets its own, right answer."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import httpx

from scipix.server.state import RecognitionService

from .conftest import Credentials, build_app, data_uri, formula_png, live_server, new_key, png_bytes

CLIENTS = 50


async def post_all(url: str, jobs: list[tuple[dict[str, str], Any]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        calls = [client.post("/v3/text", headers=h, json=body) for h, body in jobs]
        return list(await asyncio.gather(*calls))


def test_fifty_concurrent_recognitions_are_each_right(
    needs_model: RecognitionService, data_dir: Path
) -> None:
    key = new_key(data_dir, "load", rate_limit_per_minute=10_000)
    formulas = ["x^{2}+1", "a+b", "y=2", "\\frac{1}{2}"]
    sources = {f: data_uri(formula_png(f)) for f in formulas}
    with live_server(build_app(data_dir, needs_model)) as url:
        alone = {
            f: httpx.post(
                f"{url}/v3/text", headers=key.headers, json={"src": s}, timeout=120
            ).json()
            for f, s in sources.items()
        }
        picks = [formulas[i % len(formulas)] for i in range(CLIENTS)]
        random.Random(7).shuffle(picks)
        jobs = [(key.headers, {"src": sources[f]}) for f in picks]
        answers = asyncio.run(post_all(url, jobs))
    assert all(r.status_code == 200 for r in answers)
    bodies = [r.json() for r in answers]
    for formula, body in zip(picks, bodies, strict=True):
        assert body["latex_styled"] == alone[formula]["latex_styled"], (formula, body)
    assert len({b["request_id"] for b in bodies}) == CLIENTS


def test_fifty_concurrent_mixed_requests_without_a_model(
    data_dir: Path, recognizer: RecognitionService
) -> None:
    good = new_key(data_dir, "good", rate_limit_per_minute=10_000)
    wrong = Credentials(good.app_id, "f" * 64)
    cases: list[tuple[dict[str, str], Any, int, str]] = [
        (good.headers, {"src": "data:image/png;base64,!!"}, 200, "image_decode_error"),
        (
            good.headers,
            {"formats": ["nope"], "src": data_uri(png_bytes())},
            200,
            "opts_unknown_format",
        ),
        (good.headers, {}, 200, "image_missing"),
        (wrong.headers, {"src": data_uri(png_bytes())}, 401, "http_unauthorized"),
        ({}, {"src": data_uri(png_bytes())}, 401, "http_unauthorized"),
    ]
    picks = [cases[i % len(cases)] for i in range(CLIENTS)]
    with live_server(build_app(data_dir, recognizer)) as url:
        answers = asyncio.run(post_all(url, [(h, body) for h, body, _, _ in picks]))
        after = httpx.get(f"{url}/health").json()
    for (_, _, status, error_id), response in zip(picks, answers, strict=True):
        assert response.status_code == status
        assert response.json()["error_info"]["id"] == error_id
    assert after["version"]
