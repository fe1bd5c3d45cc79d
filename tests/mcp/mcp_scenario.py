"""One session that lists the tools and calls each (results and errors), run over every transport:
in-process, a stdio subprocess and streamable HTTP. ``thorough`` (in-process) adds the slower
calls: a page with prose, a symbolic equivalence (SymPy), every sample of the benchmark and a
50 MB base64 string (over HTTP such a body is refused by the transport: test_mcp_http.py)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from mcp import Client
from mcp_support import Images, error_id
from PIL import Image

TOOLS = {
    "ocr_image",
    "ocr_base64",
    "batch_ocr",
    "preprocess_image",
    "latex_convert",
    "latex_to_mathml",
    "latex_check",
    "latex_equivalent",
    "benchmark",
    "ocr_pdf",
    "search_memory",
    "submit_correction",
}
QUADRATIC = r"x=\frac{-b\pm\sqrt{b^{2}-4ac}}{2a}"


def bad_inputs(images: Images, thorough: bool) -> list[tuple[str, dict[str, Any], str]]:
    """(tool, arguments, the error id expected)."""
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("ocr_image", {"path": str(images.outside)}, "path_not_allowed"),
        ("ocr_image", {"path": "../outside/secret.png"}, "path_not_allowed"),
        ("ocr_image", {"path": "scans/../../outside/secret.png"}, "path_not_allowed"),
        ("ocr_image", {"path": f"file://{images.root}/../outside/secret.png"}, "path_not_allowed"),
        ("ocr_image", {"path": "escape.png"}, "path_not_allowed"),  # a symlink out of the root
        ("ocr_image", {"path": "missing.png"}, "image_missing"),
        ("ocr_image", {"path": "scans"}, "image_missing"),  # a folder
        ("ocr_image", {"path": "scans/notes.txt"}, "image_decode_error"),
        ("ocr_image", {"path": "https://example.com/x.png"}, "opts_bad_format"),
        ("ocr_base64", {"image": "this is not base64!"}, "image_decode_error"),
        ("batch_ocr", {"folder": "/"}, "path_not_allowed"),
        ("batch_ocr", {}, "opts_bad_format"),
        ("latex_convert", {"latex": r"\frac{1}{", "to": "mathml"}, "math_syntax"),
        ("ocr_image", {"path": "quadratic.png", "page": 2}, "opts_bad_format"),  # unknown arg
        ("latex_check", {"latex": 5}, "opts_bad_format"),  # wrong type
        ("latex_convert", {"latex": "x", "to": "svg"}, "opts_bad_format"),
        ("benchmark", {"samples": ["nope.png"]}, "opts_bad_format"),
        ("no_such_tool", {}, "opts_bad_format"),
    ]
    if thorough:
        cases.append(("ocr_base64", {"image": "A" * 50_000_000}, "sys_request_too_large"))
    return cases


async def list_and_describe(client: Client) -> None:
    listed = await client.list_tools()
    names = {tool.name for tool in listed.tools}
    assert names >= TOOLS
    for tool in listed.tools:
        assert tool.description and "\n" not in tool.description, tool.name
        assert tool.input_schema["type"] == "object", tool.name
        assert tool.output_schema and tool.output_schema["type"] == "object", tool.name


async def ocr_tools(client: Client, images: Images, thorough: bool) -> str:
    """ocr_image (path, file:// URI), ocr_base64, batch_ocr; the first result's request id."""
    first = await client.call_tool("ocr_image", {"path": "quadratic.png", "formats": ["mathml"]})
    assert not first.is_error, first
    out = first.structured_content
    assert out is not None and out["latex"] == QUADRATIC
    assert out["formats"]["mathml"].startswith("<math")
    name = "page.png" if thorough else "scans/q1.png"
    page = await client.call_tool("ocr_image", {"path": (images.root / name).as_uri()})
    assert not page.is_error, page
    if thorough:
        assert "quadratic" in page.structured_content["text"]
    data = base64.b64encode((images.root / "quadratic.png").read_bytes()).decode()
    for image in (data, "data:image/png;base64," + data):
        coded = await client.call_tool("ocr_base64", {"image": image})
        assert not coded.is_error and coded.structured_content["latex"] == QUADRATIC
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    batch = await client.call_tool("batch_ocr", {"folder": "scans"}, progress_callback=on_progress)
    assert not batch.is_error, batch
    body = batch.structured_content
    assert [r["latex"] for r in body["results"]] == [QUADRATIC, QUADRATIC]
    assert (body["succeeded"], body["failed"]) == (2, 0)
    assert progress == [(1, 2), (2, 2)]
    mixed = await client.call_tool(
        "batch_ocr", {"paths": ["quadratic.png", "missing.png", "escape.png"]}
    )
    items = mixed.structured_content["results"]
    assert items[0]["latex"] == QUADRATIC
    assert [i["error"] and i["error"]["id"] for i in items[1:]] == [
        "image_missing",
        "path_not_allowed",
    ]
    return str(out["request_id"])


async def other_tools(client: Client, thorough: bool) -> None:
    cleaned = await client.call_tool("preprocess_image", {"path": "quadratic.png"})
    assert not cleaned.is_error, cleaned
    picture = next(c for c in cleaned.content if c.type == "image")
    png = Image.open(io.BytesIO(base64.b64decode(picture.data)))
    report = cleaned.structured_content
    assert png.size == (report["width"], report["height"]) and "crop" in report["steps"]
    outputs = {}
    for to in ("mathml", "asciimath", "html", "mmd", "latex"):
        done = await client.call_tool("latex_convert", {"latex": "x^2", "to": to})
        outputs[to] = done.structured_content["output"]
    assert (outputs["latex"], outputs["asciimath"], outputs["mmd"]) == (
        "x^{2}",
        "x^2",
        r"\( x^{2} \)",
    )
    assert outputs["mathml"].startswith("<math") and outputs["html"].startswith("<span")
    alias = await client.call_tool("latex_to_mathml", {"latex": "x^2"})
    assert alias.structured_content["output"] == outputs["mathml"]
    check = await client.call_tool("latex_check", {"latex": r"\frac{1}{2} + \foo"})
    issue = check.structured_content["issues"][0]
    assert check.structured_content["valid"] is False
    assert (issue["id"], issue["position"]) == ("unknown_command", 14)
    spelled = await client.call_tool("latex_equivalent", {"a": r"\frac12", "b": r"\frac{1}{2}"})
    assert spelled.structured_content["level"] == "exact"
    if thorough:
        pair = {"a": "(a+b)^2", "b": "a^2+2ab+b^2"}
        same = await client.call_tool("latex_equivalent", pair)
        assert same.structured_content["equal"] is True
        differ = await client.call_tool("latex_equivalent", {"a": "x^2", "b": "x^3"})
        assert differ.structured_content["equal"] is False
    samples = [] if thorough else ["quadratic.png"]
    bench = await client.call_tool("benchmark", {"repeat": 1, "samples": samples})
    assert not bench.is_error, bench
    numbers = bench.structured_content
    expected = {"page.png", "quadratic.png"} if thorough else {"quadratic.png"}
    assert {s["name"] for s in numbers["samples"]} == expected
    assert numbers["images"] == len(expected) and numbers["throughput_per_s"] > 0
    assert numbers["samples"][-1]["latex"] == QUADRATIC


async def resources_and_prompt(client: Client, images: Images, request_id: str) -> None:
    read = await client.read_resource(f"scipix://results/{request_id}")
    record = json.loads(read.contents[0].text)
    assert record["request_id"] == request_id and record["result"]["latex_styled"] == QUADRATIC
    recent = json.loads((await client.read_resource("scipix://results")).contents[0].text)
    assert request_id in recent["request_ids"]
    settings = json.loads((await client.read_resource("scipix://settings")).contents[0].text)
    assert settings["mcp"]["roots"] == [str(images.root)]
    prompt = await client.get_prompt("transcribe_to_latex", {"path": "quadratic.png"})
    assert "ocr_image" in prompt.messages[0].content.text
    assert prompt.messages[1].content.type == "image"


async def every_tool(client: Client, images: Images, thorough: bool = False) -> None:
    """The whole session; after every bad input the server still answers."""
    await list_and_describe(client)
    request_id = await ocr_tools(client, images, thorough)
    await other_tools(client, thorough)
    await resources_and_prompt(client, images, request_id)
    for tool, arguments, expected in bad_inputs(images, thorough):
        result = await client.call_tool(tool, arguments)
        assert error_id(result) == expected, (tool, arguments, result.structured_content)
    still = await client.call_tool("latex_to_mathml", {"latex": "y"})
    assert not still.is_error
