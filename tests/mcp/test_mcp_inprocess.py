"""The MCP server in-process, with the SDK's own client: every tool, resource and prompt, bad
input as tool errors with the API's ids, and a batch cancelled mid-way leaving no work running."""

from __future__ import annotations

import threading
import time

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_scenario import QUADRATIC, every_tool
from mcp_support import Images, with_client
from typer.testing import CliRunner

from scipix.cli.app import app


def test_every_tool_resource_and_prompt(server: MCPServer, images: Images) -> None:
    with_client(server, lambda client: every_tool(client, images, thorough=True))


def test_ocr_image_reads_what_scipix_ocr_prints(server: MCPServer, images: Images) -> None:
    image = images.root / "quadratic.png"
    printed = CliRunner().invoke(app, ["ocr", str(image)], catch_exceptions=False)
    assert printed.exit_code == 0, printed.output

    async def read(client: Client) -> str:
        result = await client.call_tool("ocr_image", {"path": str(image)})
        return str(result.structured_content["latex"])

    assert with_client(server, read) == printed.stdout.strip() == QUADRATIC


def test_an_unknown_result_is_a_resource_error(server: MCPServer) -> None:
    async def read(client: Client) -> None:
        await client.read_resource("scipix://results/2026_01_01_00000000000000000000g")

    with pytest.raises(MCPError, match="no recent result"):
        with_client(server, read)


def pipeline_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("scipix-")]


def test_a_client_gone_mid_batch_leaves_no_work_running(server: MCPServer) -> None:
    paths = ["page.png", "quadratic.png"] * 30
    seen: list[float] = []

    async def main() -> None:
        async with anyio.create_task_group() as group:
            first = anyio.Event()

            async def on_progress(done: float, total: float | None, message: str | None) -> None:
                seen.append(done)
                first.set()

            async def go_away() -> None:
                async with Client(server) as client:  # the client disconnects mid-call
                    await client.call_tool(
                        "batch_ocr", {"paths": paths}, progress_callback=on_progress
                    )

            group.start_soon(go_away)
            await first.wait()
            group.cancel_scope.cancel()

    anyio.run(main)
    assert 1 <= len(seen) < len(paths)
    deadline = time.monotonic() + 10
    while pipeline_threads() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pipeline_threads() == []
    # and the server goes on serving
    result = with_client(server, lambda c: c.call_tool("ocr_image", {"path": "quadratic.png"}))
    assert result.structured_content["latex"] == QUADRATIC
