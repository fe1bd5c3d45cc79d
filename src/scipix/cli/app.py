"""The root ``scipix`` command. Each command (group) lives in its own module and is named here.

Add a command with one line in :data:`COMMANDS` (its name, module and function or Typer app) once it
works; no stubs. ``main`` imports only the module of the command it runs (``scipix ocr`` never
imports the server, training or PDF commands) and the full app is built for help and errors. Keep
module-level imports of command modules light: import heavy libraries (numpy, onnxruntime,
torch, fastapi) inside the command function, so that ``scipix --version``, ``scipix config`` and
``scipix doctor`` start fast.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from scipix.cli.common import EXIT_FAILED, CliState, exit_code, print_error, state
from scipix.errors import ScipixError

#: name -> (module, attribute, whether it is a group (a Typer app) rather than one command)
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "config": ("scipix.cli.config", "config_app", True),
    "doctor": ("scipix.cli.doctor", "doctor", False),
    "keys": ("scipix.cli.keys", "keys_app", True),
    "serve": ("scipix.cli.serve", "serve", False),
    "ocr": ("scipix.cli.ocr", "ocr", False),
    "batch": ("scipix.cli.batch", "batch", False),
    "pdf": ("scipix.cli.pdf", "pdf", False),
    "eval": ("scipix.cli.eval", "eval_command", False),
    "bench": ("scipix.cli.bench", "bench", False),
    "train": ("scipix.cli.train", "train_app", True),
    "latex": ("scipix.cli.latex", "latex_app", True),
    "memory": ("scipix.cli.memory", "memory_app", True),
    "correct": ("scipix.cli.learning", "correct", False),
    "learning": ("scipix.cli.learning", "learning_app", True),
    "verify": ("scipix.cli.trust", "verify", False),
    "sync": ("scipix.cli.trust", "sync", False),
    "trust": ("scipix.cli.trust", "trust_app", True),
    "mcp": ("scipix.cli.mcp", "mcp_command", False),
}
#: The root options that take a value (to find the command's name in the arguments).
ROOT_VALUE_OPTIONS = frozenset({"--config", "-c"})
#: Commands after which the process ends without the interpreter's teardown (freeing every
#: module and object, the native libraries' destructors: ~0.1 s CPU of a 0.7 s ``scipix ocr``):
#: they hold nothing open once they return (the service is closed, the output written).
QUICK_EXIT = frozenset({"ocr"})


def build_app(only: str | None = None) -> typer.Typer:
    """The ``scipix`` Typer app with every command, or with the command ``only`` alone."""
    cli = typer.Typer(
        name="scipix",
        help="Open, self-hosted scientific OCR: images of mathematics to LaTeX, MathML, MMD.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    cli.callback()(root)
    for name, (module, attribute, group) in COMMANDS.items():
        if only is None or name == only:
            target = getattr(importlib.import_module(module), attribute)
            if group:
                cli.add_typer(target, name=name)
            else:
                cli.command(name)(target)
    return cli


@functools.cache
def full_app() -> typer.Typer:
    return build_app()


def __getattr__(name: str) -> typer.Typer:
    """``app``: the full app (built on first use, for tests and embedding)."""
    if name == "app":
        return full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def command_name(args: list[str]) -> str | None:
    """The command named in ``args`` (after the root options), when it is a known one."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ROOT_VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def version_callback(value: bool) -> None:
    if value:
        from scipix import __version__

        typer.echo(f"scipix {__version__}")
        raise typer.Exit()


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
        name = command_name(args)
        # only the command that runs (its imports, its click command); the full app for help
        app = build_app(name) if name is not None else full_app()
        app(args=args, prog_name="scipix", standalone_mode=True, obj=cli)
    except SystemExit as exc:
        if argv is None and name in QUICK_EXIT:  # the process's entry point, not a caller's
            quick_exit(exc.code)
        raise
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


def quick_exit(code: object) -> NoReturn:
    """End the process with ``code`` (as ``sys.exit`` takes it) after the exit handlers and with
    the output flushed, skipping the interpreter's teardown."""
    atexit._run_exitfuncs()
    logging.shutdown()
    status = 0 if code is None else code if isinstance(code, int) else 1
    if not isinstance(code, int | None):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
