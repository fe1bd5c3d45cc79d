"""``scipix keys create|list|revoke|set``: API keys of the REST server.

Keys live in the server database under ``runtime.data_dir``, as SHA-256 hashes: the app_key is
printed once, by ``create``, and cannot be shown again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from scipix.cli.common import print_json, state, stdout_console

if TYPE_CHECKING:
    from scipix.server.keys import KeyStore

keys_app = typer.Typer(
    help="Create, list and revoke API keys of `scipix serve`.", no_args_is_help=True
)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _store(ctx: typer.Context) -> KeyStore:
    from scipix.server.keys import KeyStore
    from scipix.server.store import Database

    return KeyStore(Database.in_dir(state(ctx).settings().runtime.data_dir))


@keys_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Who or what the key is for.")],
    rate_limit: Annotated[
        int | None,
        typer.Option("--rate-limit", min=1, help="Requests a minute (default: server setting)."),
    ] = None,
    history: Annotated[
        bool,
        typer.Option("--history/--no-history", help="Keep this key's results for ocr-results."),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"app_id", "app_key"}.')] = False,
) -> None:
    """Create a key. Its app_key is shown now, and never again."""
    new = _store(ctx).create(name, rate_limit_per_minute=rate_limit, history=history)
    if as_json:
        print_json({"app_id": new.key.app_id, "app_key": new.app_key})
        return
    out = stdout_console()
    out.print(f"app_id   {escape(new.key.app_id)}")
    out.print(f"app_key  {new.app_key}")
    out.print("[yellow]The app_key is shown only now: store it safely.[/yellow]")


@keys_app.command("list")
def list_keys(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    active: Annotated[bool, typer.Option("--active", help="Leave out revoked keys.")] = False,
) -> None:
    """List keys (never their secrets)."""
    found = _store(ctx).list(include_revoked=not active)
    if as_json:
        print_json([key.public() for key in found])
        return
    out = stdout_console()
    if not found:
        out.print("no keys yet: scipix keys create --name NAME")
        return
    for key in found:
        status = "active" if key.active else f"revoked {_when(key.revoked_at)}"
        limit = key.rate_limit_per_minute or "default"
        out.print(
            f"{escape(key.app_id):<40} {escape(key.name):<20} created {_when(key.created_at)}"
            f"  {status}  rate/min {limit}  history {'on' if key.history else 'off'}"
        )


@keys_app.command("revoke")
def revoke(
    ctx: typer.Context,
    app_id: Annotated[str, typer.Argument(help="The app_id to revoke.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Revoke a key at once (its history stays)."""
    key = _store(ctx).revoke(app_id)
    if as_json:
        print_json(key.public())
    else:
        stdout_console().print(f"revoked {escape(key.app_id)}")


@keys_app.command("set")
def set_key(
    ctx: typer.Context,
    app_id: Annotated[str, typer.Argument(help="The app_id to change.")],
    history: Annotated[
        bool | None, typer.Option("--history/--no-history", help="Keep results for ocr-results.")
    ] = None,
    rate_limit: Annotated[
        int | None, typer.Option("--rate-limit", min=1, help="Requests a minute.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Change a key's history switch or rate limit."""
    key = _store(ctx).update(app_id, history=history, rate_limit_per_minute=rate_limit)
    if as_json:
        print_json(key.public())
    else:
        stdout_console().print(
            f"{escape(key.app_id)}: history {'on' if key.history else 'off'},"
            f" rate/min {key.rate_limit_per_minute or 'default'}"
        )
