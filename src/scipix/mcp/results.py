"""How a tool answers: its model as structured content, or a tool error result that carries the
API's Mathpix error body (``{"error": ..., "error_info": {"id": ..., ...}}``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from mcp.types import CallToolResult, ImageContent, TextContent, ToolAnnotations
from pydantic import BaseModel

from scipix.errors import ScipixError, mathpix_error

log = logging.getLogger(__name__)

#: Tools that only read (every tool but submit_correction).
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
#: Runs a tool's work in a worker thread and answers with its model, or with the error.
Answer = Callable[[Callable[[], BaseModel]], Any]


def failure(exc: BaseException) -> CallToolResult:
    """A tool error result carrying the Mathpix error body (internals never leak)."""
    if not isinstance(exc, ScipixError):
        log.exception("MCP tool failed", exc_info=exc)
    _, body = mathpix_error(exc)
    text = json.dumps(body, ensure_ascii=False)
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=body, is_error=True
    )


def success(model: BaseModel, *extra: ImageContent) -> CallToolResult:
    text = TextContent(type="text", text=model.model_dump_json())
    return CallToolResult(content=[*extra, text], structured_content=model.model_dump(mode="json"))
