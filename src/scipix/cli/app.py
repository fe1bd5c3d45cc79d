"""The root ``scipix`` command. Each command group lives in its own module and is added here."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from scipix import __version__
from scipix.cli.common import EXIT_FAILED, EXIT_USAGE, CliState, stderr_console
from scipix.cli.config import config_app
from scipix.cli.doctor import doctor
from scipix.errors import InputError, ScipixError

app = typer.Typer(
    name="scipix",
    help="Open, self-hosted scientific OCR: images of mathematics to LaTeX, MathML, MMD.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(config_app, name="config")
app.command("doctor")(doctor)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"scipix {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file (TOML).", show_default=False)
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    ctx.obj = CliState(config=config, debug=debug)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the app and turns errors into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, standalone_mode=True)
    except ScipixError as exc:
        if debug:
            traceback.print_exc()
        stderr_console().print(f"[red]error[/red]: {exc.error_id}: {exc.message}")
        sys.exit(EXIT_USAGE if isinstance(exc, InputError) else EXIT_FAILED)
    except KeyboardInterrupt:
        stderr_console().print("interrupted")
        sys.exit(130)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if debug:
            traceback.print_exc()
        stderr_console().print(f"[red]error[/red]: sys_exception: {type(exc).__name__}: {exc}")
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
