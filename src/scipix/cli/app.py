"""The root ``scipix`` command. Each command (group) lives in its own module and is added here.

Add a command with one line below (``app.command("ocr")(ocr)`` or ``app.add_typer(x_app,
name="x")``) once it works; no stubs. Keep module-level imports of command modules light: import
heavy libraries (numpy, onnxruntime, torch, fastapi) inside the command function, so that
``scipix --version``, ``scipix config`` and ``scipix doctor`` start fast.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from scipix import __version__
from scipix.cli.batch import batch
from scipix.cli.bench import bench
from scipix.cli.common import EXIT_FAILED, CliState, exit_code, print_error, state
from scipix.cli.config import config_app
from scipix.cli.doctor import doctor
from scipix.cli.eval import eval_command
from scipix.cli.keys import keys_app
from scipix.cli.latex import latex_app
from scipix.cli.learning import correct, learning_app
from scipix.cli.mcp import mcp_command
from scipix.cli.memory import memory_app
from scipix.cli.ocr import ocr
from scipix.cli.pdf import pdf
from scipix.cli.serve import serve
from scipix.cli.train import train_app
from scipix.cli.trust import sync, trust_app, verify
from scipix.errors import ScipixError

app = typer.Typer(
    name="scipix",
    help="Open, self-hosted scientific OCR: images of mathematics to LaTeX, MathML, MMD.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(config_app, name="config")
app.command("doctor")(doctor)
app.add_typer(keys_app, name="keys")
app.command("serve")(serve)
app.command("ocr")(ocr)
app.command("batch")(batch)
app.command("pdf")(pdf)
app.command("eval")(eval_command)
app.command("bench")(bench)
app.add_typer(train_app, name="train")
app.add_typer(latex_app, name="latex")
app.add_typer(memory_app, name="memory")
app.command("correct")(correct)
app.add_typer(learning_app, name="learning")
app.command("verify")(verify)
app.command("sync")(sync)
app.add_typer(trust_app, name="trust")
app.command("mcp")(mcp_command)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"scipix {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (TOML); default: $SCIPIX_CONFIG, ./scipix.toml, the user config dir.",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    st = state(ctx)
    st.config = config
    st.debug = debug


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the app and turns errors into one line and an exit code.

    Exit codes: 0 ok, 1 failed (a failed check, an internal error), 2 bad usage, input or config.
    Tracebacks are shown only with ``--debug``.
    """
    args = sys.argv[1:] if argv is None else argv
    cli = CliState()
    try:
        app(args=args, prog_name="scipix", standalone_mode=True, obj=cli)
    except ScipixError as exc:
        if cli.debug:
            traceback.print_exc()
        print_error(exc)
        sys.exit(exit_code(exc))
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if cli.debug:
            traceback.print_exc()
        message = f"{type(exc).__name__}: {exc} (scipix --debug ... shows the traceback)"
        print_error(ScipixError(message))
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
