"""``scipix doctor``: is everything scipix needs here and working?"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scipix.cli.common import EXIT_FAILED, EXIT_USAGE, print_json, state
from scipix.doctor import GROUPS, run_checks

STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    fix: Annotated[bool, typer.Option("--fix", help="Create missing config and dirs.")] = False,
    only: Annotated[
        str | None, typer.Option("--only", help=f"One group: {'|'.join(GROUPS)}.")
    ] = None,
) -> None:
    """Check Python, packages, model weights, config, directories, TeX Live and the port."""
    if only is not None and only not in GROUPS:
        Console(stderr=True).print(f"error: --only must be one of {', '.join(GROUPS)}")
        raise typer.Exit(EXIT_USAGE)
    checks = run_checks(state(ctx).config, only=only, fix=fix)
    failed = any(c.status == "fail" for c in checks)
    if as_json:
        print_json({"ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        table = Table(show_header=True, header_style="bold")
        for column in ("group", "check", "status", "details", "fix"):
            table.add_column(column)
        for c in checks:
            status = f"[{STYLE[c.status]}]{c.status}[/]"
            table.add_row(c.group, c.name, status, escape(c.message), escape(c.fix or ""))
        Console().print(table)
    if failed:
        raise typer.Exit(EXIT_FAILED)
