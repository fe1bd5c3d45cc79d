"""``--engine local|ray`` and ``--address`` of ``scipix batch`` and ``scipix pdf``: where the work
runs, and what happens when the Ray cluster cannot be reached."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from scipix.cli.common import stderr_console

if TYPE_CHECKING:
    from scipix.settings import Settings

T = TypeVar("T")


class Engine(StrEnum):
    local = "local"
    ray = "ray"


EngineOption = Annotated[
    Engine | None,
    typer.Option("--engine", help="local threads, or Ray actors (distributed.engine)."),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="Ray cluster: 'auto' or HOST:PORT (distributed.address); unset = a local Ray.",
    ),
]


def on_cluster(settings: Settings, engine: Engine | None, start: Callable[[], T]) -> T | None:
    """``start()`` (what runs on Ray) when the engine is ray, else None (the local engine). An
    unreachable cluster is a ClusterError (exit 2), or a warning and None with
    ``distributed.fallback_local``."""
    dist = settings.distributed
    if (engine.value if engine is not None else dist.engine) != "ray":
        return None
    from scipix.errors import ClusterError

    try:
        return start()
    except ClusterError as exc:
        if not dist.fallback_local:
            raise
        stderr_console().print(
            f"warning: {exc.message}; running locally (distributed.fallback_local)",
            style="yellow",
            markup=False,
        )
        return None
