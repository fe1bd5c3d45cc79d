"""``scipix mcp --http`` as a live server bound off loopback: every request needs an API key of
``scipix serve`` (401 with the API's error body without one); with one, the SDK's streamable
HTTP client lists and calls every tool. The loopback rule is checked on the ASGI gate itself."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client.streamable_http import streamable_http_client
from mcp_scenario import every_tool
from mcp_support import Images, with_client

from scipix.mcp.http import KeyGate
from scipix.server.auth import Authenticator
from scipix.server.keys import KeyStore, NewKey
from scipix.server.ledger import Ledger
from scipix.server.store import Database
from scipix.settings import default_settings

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"},
    },
}
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@dataclass(frozen=True)
class Live:
    url: str
    key: NewKey


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"scipix mcp --http exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"scipix mcp --http did not listen on {port}")


@pytest.fixture(scope="module")
def live(images: Images, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home = tmp_path_factory.mktemp("http")
    key = KeyStore(Database.in_dir(home / "data")).create("mcp test")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SCIPIX_")}
    env.update(
        SCIPIX_MCP__ROOTS=json.dumps([str(images.root)]),
        SCIPIX_RUNTIME__DATA_DIR=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    port = free_port()
    command = [sys.executable, "-m", "scipix", "mcp", "--http", "--host", "0.0.0.0"]
    process = subprocess.Popen(
        [*command, "--port", str(port)], env=env, cwd=home, stdout=subprocess.DEVNULL
    )
    try:
        wait_for(port, process)
        yield Live(f"http://127.0.0.1:{port}/mcp", key)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def keyed(live: Live, headers: dict[str, str]) -> Any:
    """The SDK's streamable HTTP transport, sending ``headers`` with every request."""
    client = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60, read=300))
    return streamable_http_client(live.url, http_client=client)


def test_off_loopback_a_request_without_a_valid_key_is_refused(live: Live) -> None:
    for headers in ({}, {"app_id": live.key.key.app_id, "app_key": "0" * 64}):
        response = httpx2.post(live.url, json=INITIALIZE, headers={**ACCEPT, **headers})
        assert response.status_code == 401
        assert response.json()["error_info"]["id"] == "http_unauthorized"


def test_with_a_key_every_tool_works_over_http(live: Live, images: Images) -> None:
    headers = {"app_id": live.key.key.app_id, "app_key": live.key.app_key}
    with_client(keyed(live, headers), lambda client: every_tool(client, images))


def test_a_bearer_key_works_too(live: Live) -> None:
    client = keyed(live, {"authorization": f"Bearer {live.key.app_key}"})
    result = with_client(client, lambda c: c.call_tool("latex_to_mathml", {"latex": "x"}))
    assert not result.is_error


def test_a_body_over_the_limit_is_refused_and_the_server_goes_on(live: Live) -> None:
    headers = {**ACCEPT, "app_key": live.key.app_key}
    body = json.dumps({**INITIALIZE, "padding": "A" * 50_000_000})
    response = httpx2.post(live.url, content=body, headers=headers, timeout=60)
    assert response.status_code == 413
    again = httpx2.post(live.url, json=INITIALIZE, headers=headers)
    assert again.status_code == 200


def test_on_loopback_no_key_is_needed_but_off_it_one_is(tmp_path: Path) -> None:
    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    db = Database.in_dir(tmp_path)
    auth = Authenticator(KeyStore(db), Ledger(db), default_settings().server)

    async def status(bind: str, client: str) -> int:
        gate = KeyGate(app, auth, bind)  # type: ignore[arg-type]
        transport = httpx2.ASGITransport(app=gate, client=(client, 5000))
        async with httpx2.AsyncClient(transport=transport, base_url="http://t") as http:
            return (await http.get("/mcp")).status_code

    assert anyio.run(status, "127.0.0.1", "127.0.0.1") == 204
    assert anyio.run(status, "127.0.0.1", "10.0.0.7") == 401
    assert anyio.run(status, "0.0.0.0", "127.0.0.1") == 401
