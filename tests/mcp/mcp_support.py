"""What the MCP tests share: a folder of images that is the server's one root (with a folder, a
symlink out and a file outside next to it), and helpers to talk to a server with the SDK's own
client. (Not a package: ``tests/mcp/__init__.py`` would be imported as ``mcp``, the SDK's name.)"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
from mcp import Client

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
T = TypeVar("T")


@dataclass(frozen=True)
class Images:
    root: Path  # the server's only root
    outside: Path  # an image outside it
    escape: Path  # a symlink in the root to the image outside


def make_images(base: Path) -> Images:
    root, outside_dir = base / "images", base / "outside"
    (root / "scans").mkdir(parents=True)
    outside_dir.mkdir()
    for name in ("quadratic.png", "page.png"):
        shutil.copy(EXAMPLES / name, root / name)
    shutil.copy(EXAMPLES / "quadratic.png", root / "scans" / "q1.png")
    shutil.copy(EXAMPLES / "quadratic.png", root / "scans" / "q2.png")
    (root / "scans" / "notes.txt").write_text("not an image", encoding="utf-8")
    outside = outside_dir / "secret.png"
    shutil.copy(EXAMPLES / "quadratic.png", outside)
    escape = root / "escape.png"
    escape.symlink_to(outside)
    return Images(root=root, outside=outside, escape=escape)


def with_client(target: Any, work: Callable[[Client], Awaitable[T]]) -> T:
    """Run ``work`` with a connected SDK client of ``target`` (a server, a URL, stdio params)."""

    async def main() -> T:
        async with Client(target) as client:
            return await work(client)

    try:
        return anyio.run(main)
    except BaseExceptionGroup as group:  # the client's task groups wrap what the call raised
        raise leaf(group) from None


def leaf(error: BaseException) -> BaseException:
    """The one exception inside nested exception groups (the group itself when several)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def error_id(result: Any) -> str:
    """The error id of a tool error result (fails the test when the call succeeded)."""
    assert result.is_error, result
    body = result.structured_content
    assert body is not None and body["error"] == body["error_info"]["message"], body
    return str(body["error_info"]["id"])
