"""What every CLI command shares: the global options, settings loading and error output."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from scipix.errors import ScipixError
from scipix.settings import Settings, load_settings

#: Exit codes: 0 ok, 1 a check or an item failed, 2 bad usage, bad input or bad config.
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass
class CliState:
    """The root options (``--config``, ``--debug``), shared with every sub-command."""

    config: Path | None = None
    debug: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """One JSON document on stdout (no colour, no wrapping: machines read it)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(error: ScipixError, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``error: <id>: message`` on stderr and return the Exit to raise."""
    stderr_console().print(f"[red]error[/red]: {error.error_id}: {error.message}", markup=True)
    return typer.Exit(code)
