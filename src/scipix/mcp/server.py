"""The MCP server: scipix's tools, resources and prompt on the official SDK's ``MCPServer``
(the SDK's FastMCP, renamed in mcp 2).

Every tool is thin: it runs :class:`~scipix.mcp.tools.Toolbox` work in a worker thread and
returns its model as structured content (the model's JSON schema is the tool's output schema).
Any failure is a tool error result, never a protocol error and never a traceback: its structured
content is the API's Mathpix error body, ``{"error": ..., "error_info": {"id": ..., ...}}``, and
the server goes on serving. Unknown arguments and arguments of the wrong type are refused the same
way (``opts_bad_format``), by :class:`ArgumentCheck`.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp.server.mcpserver.utilities.types import Image
from mcp.types import CallToolResult, ImageContent
from pydantic import BaseModel, Field

from scipix import __version__
from scipix.errors import OptionsError, ScipixError
from scipix.mcp import models
from scipix.mcp.features import register_feature_tools
from scipix.mcp.results import READ_ONLY, Answer, failure, success
from scipix.mcp.tools import Toolbox

Location = Annotated[
    str, Field(description="An image file (path or file:// URI) inside the server's roots.")
]
Formats = Annotated[
    list[models.Format],
    Field(description="Formats to return besides LaTeX: mathml, asciimath, html, mmd."),
]
LatexSource = Annotated[str, Field(description="A LaTeX math formula, without $ delimiters.")]
Display = Annotated[bool, Field(description="Display (block) math instead of inline.")]


class ArgumentCheck:
    """Server middleware: a ``tools/call`` with an unknown tool or argument, or with arguments
    the tool's schema refuses, gets a tool error result with ``opts_bad_format``."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server
        self._schemas: dict[str, set[str]] | None = None

    async def schemas(self) -> dict[str, set[str]]:
        if self._schemas is None:
            tools = await self.server.list_tools()
            self._schemas = {
                tool.name: set(tool.input_schema.get("properties", {})) for tool in tools
            }
        return self._schemas

    async def __call__(self, ctx: Any, call_next: Callable[[Any], Any]) -> Any:
        params = ctx.params
        if ctx.method != "tools/call" or not isinstance(params, Mapping):
            return await call_next(ctx)
        schemas = await self.schemas()
        name, arguments = params.get("name"), params.get("arguments") or {}
        if name not in schemas:
            return failure(OptionsError(f"unknown tool {name!r}; tools: {', '.join(schemas)}"))
        known = schemas[name]
        unknown = sorted(set(arguments) - known) if isinstance(arguments, Mapping) else []
        if unknown:
            takes = ", ".join(sorted(known)) or "no arguments"
            message = f"{name}: unknown argument(s) {', '.join(unknown)}; it takes {takes}"
            return failure(OptionsError(message, name=unknown[0]))
        result = await call_next(ctx)
        if refused_by_sdk(result):  # the SDK's own refusal of the arguments (type, missing)
            return failure(OptionsError(f"bad arguments for {sdk_reason(result)}"))
        return result


def refused_by_sdk(result: object) -> bool:
    """A tools/call answer (the wire dict) that is an error without our error body."""
    return (
        isinstance(result, Mapping)
        and bool(result.get("isError"))
        and not result.get("structuredContent")
    )


def sdk_reason(result: Mapping[str, Any]) -> str:
    """The SDK's message, on one line, without pydantic's links."""
    texts = [c.get("text", "") for c in result.get("content", ()) if isinstance(c, Mapping)]
    lines = [line.strip() for text in texts for line in text.splitlines()]
    kept = [line for line in lines if line and not line.startswith("For further information")]
    return "; ".join(kept).removeprefix("Error executing tool ")


def build_server(toolbox: Toolbox) -> MCPServer:
    """The MCP server over ``toolbox`` (and so over its one :class:`~scipix.service.Scipix`)."""
    server = MCPServer(
        name="scipix",
        log_level="WARNING",
        title="scipix: scientific OCR",
        version=__version__,
        instructions=(
            "scipix reads images of mathematics (screenshots, scans, photos) into LaTeX, MathML, "
            "AsciiMath and Mathpix Markdown, and checks, converts and compares LaTeX. Image paths "
            f"must lie inside: {toolbox.roots.describe()}."
        ),
    )
    limiter = anyio.CapacityLimiter(max(1, toolbox.service.workers))

    async def answer(work: Callable[[], BaseModel]) -> CallToolResult:
        try:
            return success(await anyio.to_thread.run_sync(work, limiter=limiter))
        except Exception as exc:
            return failure(exc)

    register_ocr_tools(server, toolbox, answer)
    register_latex_tools(server, toolbox, answer)
    register_resources(server, toolbox)
    register_feature_tools(server, toolbox, answer)
    server.middleware.append(ArgumentCheck(server))
    return server


def register_ocr_tools(server: MCPServer, toolbox: Toolbox, answer: Answer) -> None:
    @server.tool(
        description="Read a formula or page image file (path or file:// URI) into LaTeX.",
        annotations=READ_ONLY,
    )
    async def ocr_image(
        path: Location, formats: Formats | None = None
    ) -> Annotated[CallToolResult, models.Recognition]:
        result: CallToolResult = await answer(lambda: toolbox.ocr_image(path, formats or []))
        return result

    @server.tool(
        description="Read a base64-encoded image (PNG, JPEG…; a data: URL works) into LaTeX.",
        annotations=READ_ONLY,
    )
    async def ocr_base64(
        image: Annotated[str, Field(description="The image's bytes in base64.")],
        formats: Formats | None = None,
    ) -> Annotated[CallToolResult, models.Recognition]:
        result: CallToolResult = await answer(lambda: toolbox.ocr_base64(image, formats or []))
        return result

    @server.tool(
        description="Read many images (a list of paths, or every image of a folder) into LaTeX.",
        annotations=READ_ONLY,
    )
    async def batch_ocr(
        ctx: Context,
        paths: Annotated[list[str] | None, Field(description="Image files to read.")] = None,
        folder: Annotated[str | None, Field(description="A folder whose images to read.")] = None,
        formats: Formats | None = None,
    ) -> Annotated[CallToolResult, models.Batch]:
        return await run_batch(ctx, toolbox, paths or [], folder, formats or [])

    @server.tool(
        description="Clean an image as OCR does (deskew, crop, contrast) and return it with the "
        "steps taken.",
        annotations=READ_ONLY,
    )
    async def preprocess_image(path: Location) -> Annotated[CallToolResult, models.Preprocessing]:
        try:
            png, report = await anyio.to_thread.run_sync(toolbox.preprocess, path)
        except Exception as exc:
            return failure(exc)
        picture = ImageContent(
            type="image", data=base64.b64encode(png).decode("ascii"), mime_type="image/png"
        )
        return success(report, picture)

    @server.tool(
        description="Time recognition on the bundled sample images: latency and throughput.",
        annotations=READ_ONLY,
    )
    async def benchmark(
        ctx: Context,
        repeat: Annotated[int, Field(ge=1, le=20, description="Runs per sample.")] = 3,
        samples: Annotated[
            list[str] | None,
            Field(description="Bundled samples to time (default all: page.png, quadratic.png)."),
        ] = None,
    ) -> Annotated[CallToolResult, models.Benchmark]:
        try:
            total = len(toolbox.samples(samples or ())) + 1
        except Exception as exc:
            return failure(exc)
        steps = toolbox.benchmark(repeat, samples or ())
        try:
            for done in range(1, total + 1):
                message, report = await anyio.to_thread.run_sync(next, steps)
                await ctx.report_progress(done, total, message)
                if report is not None:
                    return success(report)
        except Exception as exc:
            return failure(exc)
        finally:
            steps.close()
        return failure(ScipixError("the benchmark ended without a report"))


async def run_batch(
    ctx: Context, toolbox: Toolbox, paths: list[str], folder: str | None, formats: list[Any]
) -> CallToolResult:
    """Read the batch image by image, reporting progress after each; when the call is cancelled
    (the client cancelled or went away) the pipeline is stopped, leaving no work running."""
    started = time.perf_counter()
    try:
        plan = await anyio.to_thread.run_sync(toolbox.batch_plan, paths, folder)
    except Exception as exc:
        return failure(exc)
    results = toolbox.batch(plan, formats)
    done: list[models.Recognition] = []
    try:
        for item in plan:
            done.append(await anyio.to_thread.run_sync(next, results))
            await ctx.report_progress(len(done), len(plan), item[0])
    except Exception as exc:
        return failure(exc)
    finally:
        results.close()  # stops the pipeline's threads (after the image each one holds)
    failed = sum(1 for r in done if r.error is not None)
    report = models.Batch(
        results=done,
        succeeded=len(done) - failed,
        failed=failed,
        seconds=round(time.perf_counter() - started, 3),
    )
    return success(report)


def register_latex_tools(server: MCPServer, toolbox: Toolbox, answer: Answer) -> None:
    async def convert(latex: str, to: models.Target, display: bool) -> CallToolResult:
        result: CallToolResult = await answer(lambda: toolbox.latex_convert(latex, to, display))
        return result

    @server.tool(
        description="Convert LaTeX math to MathML, AsciiMath, HTML, Mathpix Markdown or "
        "canonical LaTeX.",
        annotations=READ_ONLY,
    )
    async def latex_convert(
        latex: LatexSource,
        to: Annotated[models.Target, Field(description="The output format.")] = "mathml",
        display: Display = False,
    ) -> Annotated[CallToolResult, models.Conversion]:
        return await convert(latex, to, display)

    @server.tool(description="Convert LaTeX math to MathML.", annotations=READ_ONLY)
    async def latex_to_mathml(
        latex: LatexSource, display: Display = False
    ) -> Annotated[CallToolResult, models.Conversion]:
        return await convert(latex, "mathml", display)

    @server.tool(
        description="Validate LaTeX math: every problem with its character position.",
        annotations=READ_ONLY,
    )
    async def latex_check(latex: LatexSource) -> Annotated[CallToolResult, models.LatexCheck]:
        result: CallToolResult = await answer(lambda: toolbox.latex_check(latex))
        return result

    @server.tool(
        description="Tell whether two LaTeX formulas are the same mathematics (exact or symbolic).",
        annotations=READ_ONLY,
    )
    async def latex_equivalent(
        a: LatexSource, b: LatexSource
    ) -> Annotated[CallToolResult, models.Equivalence]:
        result: CallToolResult = await answer(lambda: toolbox.latex_equivalent(a, b))
        return result


def register_resources(server: MCPServer, toolbox: Toolbox) -> None:
    @server.resource(
        "scipix://results/{request_id}",
        name="result",
        description="A recent recognition result (Mathpix-shaped), by its request_id.",
        mime_type="application/json",
    )
    def result(request_id: str) -> str:
        record = toolbox.recent.get(request_id)
        if record is None:
            kept = toolbox.recent.size
            raise ResourceNotFoundError(
                f"no recent result {request_id!r} (the last {kept} are kept; "
                "scipix://results lists them)"
            )
        return record.model_dump_json()

    @server.resource(
        "scipix://results",
        name="recent_results",
        description="The request ids of the recent results, newest first.",
        mime_type="application/json",
    )
    def recent() -> str:
        return json.dumps({"request_ids": toolbox.recent.ids()})

    @server.resource(
        "scipix://settings",
        name="settings",
        description="The settings in effect (scipix.toml and SCIPIX_* variables applied).",
        mime_type="application/json",
    )
    def settings() -> str:
        return toolbox.settings.model_dump_json(indent=2)

    @server.prompt(
        name="transcribe_to_latex",
        title="Transcribe this image to LaTeX",
        description="Transcribe an image of mathematics to LaTeX with scipix's tools.",
    )
    def transcribe(
        path: Annotated[str, Field(description="The image file, inside the server's roots.")],
    ) -> list[UserMessage]:
        real = toolbox.roots.image_file(path)
        ask = (
            f"Transcribe the image {path} to LaTeX. Call the ocr_image tool with "
            f'{{"path": {json.dumps(path)}}}, check its LaTeX with latex_check, and compare it '
            "with the image: fix what was misread. Answer with the LaTeX alone, in a ```latex "
            "block; if the confidence is below 0.5, say what you are unsure of."
        )
        picture = Image(data=real.read_bytes(), format=real.suffix.lstrip(".").lower() or "png")
        return [UserMessage(ask), UserMessage(picture)]
