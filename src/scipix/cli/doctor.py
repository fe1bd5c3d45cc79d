"""``scipix doctor``: is everything scipix needs here and working?"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer
from rich.markup import escape

from scipix.cli.common import EXIT_FAILED, print_json, state, stdout_console
from scipix.doctor import GROUPS, Check, run_checks

STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def print_checks(checks: list[Check]) -> None:
    """One line per check, its fix hint below it; then the counts."""
    out = stdout_console()
    width = max((len(c.name) for c in checks), default=0)
    for c in checks:
        status = f"[{STYLE[c.status]}]{c.status:<4}[/]"
        out.print(f"{status}  {c.group:<6}  {escape(c.name):<{width}}  {escape(c.message)}")
        if c.fix and c.status != "ok":
            out.print(f"      {'':<6}  {'':<{width}}  [dim]fix:[/] {escape(c.fix)}")
    counts = Counter(c.status for c in checks)
    out.print(", ".join(f"{counts[s]} {s}" for s in ("ok", "warn", "fail")))


def doctor(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"ok": bool, "checks": [...]} as JSON.')
    ] = False,
    fix: Annotated[
        bool, typer.Option("--fix", help="Create a missing config file and data/cache dirs.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help=f"Run one group (repeatable): {'|'.join(GROUPS)}."),
    ] = None,
) -> None:
    """Check Python and packages, model weights, config, directories, TeX Live and the port.

    Exit code 1 when any check fails.
    """
    unknown = sorted(set(only or []) - set(GROUPS))
    if unknown:
        raise typer.BadParameter(
            f"{', '.join(unknown)} is not a group; use {', '.join(GROUPS)}", param_hint="--only"
        )
    checks = run_checks(state(ctx).config, only=only, fix=fix)
    failed = any(c.status == "fail" for c in checks)
    if as_json:
        print_json({"ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        print_checks(checks)
    if failed:
        raise typer.Exit(EXIT_FAILED)
