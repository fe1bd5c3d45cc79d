"""What every CLI command shares: the global options, settings loading and error output.

A command gets its settings with ``state(ctx).settings()`` (read once, on first use) and reports
problems by raising from :mod:`scipix.errors`; ``scipix.cli.app.main`` turns an error into one
line on stderr and an exit code: 0 ok, 1 a check or an item failed, 2 bad usage, input or config.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from scipix.errors import InputError, ScipixError

if TYPE_CHECKING:
    from rich.console import Console

    from scipix.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass
class CliState:
    """The root options (``--config``, ``--debug``), shared with every sub-command."""

    config: Path | None = None
    debug: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        """The settings of this invocation, read on first use (a ConfigError exits with 2)."""
        if self._settings is None:
            from scipix.settings import load_settings

            self._settings = load_settings(self.config)
        return self._settings


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def stdout_console() -> Console:
    """Human output: no wrapping of long lines (paths, LaTeX) and no guessing of highlights
    (rich is imported on first use: ``scipix ocr`` prints its results without it)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """One JSON document on stdout (no colour, no wrapping: machines read it)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def one_line(text: str) -> str:
    return " ".join(text.split())


def print_error(error: ScipixError) -> None:
    """``error: <id>: message`` on stderr, on one line."""
    from rich.markup import escape

    message = escape(one_line(error.message))
    stderr_console().print(f"[red]error[/red]: {error.error_id}: {message}")


def exit_code(error: ScipixError) -> int:
    return EXIT_USAGE if isinstance(error, InputError) else EXIT_FAILED


def fail(error: ScipixError) -> typer.Exit:
    """Print the error and return the Exit to raise (for commands that go on after an error)."""
    print_error(error)
    return typer.Exit(exit_code(error))
