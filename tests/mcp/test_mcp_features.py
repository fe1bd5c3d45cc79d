"""The tools over the larger features: ocr_pdf (scipix.documents), search_memory (scipix.memory)
and submit_correction (the learning loop), in-process with the SDK's client."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_scenario import QUADRATIC
from mcp_support import Images, error_id, with_client
from PIL import Image, ImageDraw


@pytest.fixture(scope="module")
def pdf(images: Images) -> str:
    """A scanned one-page PDF of the quadratic formula, inside the root."""
    path = images.root / "scan.pdf"
    Image.open(images.root / "quadratic.png").convert("RGB").save(path, resolution=200)
    return path.name


def test_ocr_pdf_reads_pages_with_progress(server: MCPServer, pdf: str) -> None:
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    async def read(client: Client) -> dict[str, object]:
        result = await client.call_tool("ocr_pdf", {"path": pdf}, progress_callback=on_progress)
        assert not result.is_error, result
        return dict(result.structured_content or {})

    body = with_client(server, read)
    assert body["num_pages"] == 1 and progress == [(1, 1)]
    assert body["pages"] == [{"page": 1, "source": "ocr", "error": None}]
    assert r"\frac{-b\pm\sqrt{b^{2}-4a" in str(body["mmd"])


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"path": "scans/notes.txt"}, "pdf_decode_error"),
        ({"path": "missing.pdf"}, "pdf_missing"),
        ({"path": "../outside/secret.png"}, "path_not_allowed"),
        ({"path": "scan.pdf", "pages": "5-6"}, "opts_bad_format"),
    ],
)
def test_ocr_pdf_refuses_bad_documents(
    server: MCPServer, pdf: str, arguments: dict[str, str], expected: str
) -> None:
    result = with_client(server, lambda c: c.call_tool("ocr_pdf", arguments))
    assert error_id(result) == expected


def test_search_memory_finds_what_was_read(server: MCPServer) -> None:
    async def search(client: Client) -> list[dict[str, object]]:
        read = await client.call_tool("ocr_image", {"path": "quadratic.png"})
        assert read.structured_content["latex"] == QUADRATIC
        found = await client.call_tool(
            "search_memory", {"latex": r"x=\frac{-b\pm\sqrt{b^2-4ac}}{2a}"}
        )
        assert not found.is_error, found
        return list(found.structured_content["results"])

    results = with_client(server, search)
    assert results[0]["match"] == "exact" and results[0]["latex"] == QUADRATIC
    bad = with_client(server, lambda c: c.call_tool("search_memory", {"latex": r"\frac{"}))
    assert error_id(bad) == "math_syntax"


def drawn(path: Path) -> Path:
    """An image unlike the others (so that its correction changes no other test's reading)."""
    picture = Image.new("L", (220, 70), 255)
    ImageDraw.Draw(picture).text((20, 20), "a + b = 7", fill=0, font_size=28)
    picture.save(path)
    return path


def test_a_correction_answers_the_image_next_time(server: MCPServer, images: Images) -> None:
    image = drawn(images.root / "drawn.png").name
    right = "a+b=7"

    async def correct(client: Client) -> tuple[dict[str, object], str]:
        first = await client.call_tool("ocr_image", {"path": image})
        request_id = first.structured_content["request_id"]
        kept = await client.call_tool(
            "submit_correction", {"latex": right, "path": image, "request_id": request_id}
        )
        assert not kept.is_error, kept
        again = await client.call_tool("ocr_image", {"path": image})
        return dict(kept.structured_content or {}), str(again.structured_content["latex"])

    receipt, reread = with_client(server, correct)
    assert receipt["latex"] == right and receipt["remembered"] is True
    assert reread == right
    for arguments, expected in (
        ({"latex": r"\frac{", "path": image}, "math_syntax"),
        ({"latex": "x"}, "opts_bad_format"),
        ({"latex": "x", "path": "escape.png"}, "path_not_allowed"),
    ):
        refused = with_client(server, lambda c, a=arguments: c.call_tool("submit_correction", a))
        assert error_id(refused) == expected
