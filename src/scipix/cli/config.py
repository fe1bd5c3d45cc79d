"""``scipix config init|show|validate``: write, print and check the TOML configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import tomli_w
import typer
from rich.console import Console

from scipix.cli.common import EXIT_USAGE, print_json, state
from scipix.errors import ConfigError
from scipix.settings import Settings, find_config_file, load_settings, user_config_path

config_app = typer.Typer(help="Write, show and validate scipix.toml.", no_args_is_help=True)


def settings_as_toml_data(settings: Settings) -> dict[str, Any]:
    """The settings as TOML-ready data (paths as strings, None values left out)."""
    return settings.model_dump(mode="json", exclude_none=True)


@config_app.command("init")
def init(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="Where to write (default: the user config dir).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a config file holding every setting with its default value."""
    target = path or state(ctx).config or user_config_path()
    if target.exists() and not force:
        raise ConfigError(f"{target} exists; use --force to overwrite it", path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(tomli_w.dumps(settings_as_toml_data(Settings())), encoding="utf-8")
    Console().print(f"wrote {target}")


@config_app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the effective settings (file + environment + defaults)."""
    st = state(ctx)
    settings = st.settings()
    source = find_config_file(st.config)
    data = settings_as_toml_data(settings)
    if as_json:
        print_json({"source": str(source) if source else None, "settings": data})
        return
    Console().print(f"# source: {source or 'defaults and environment'}", highlight=False)
    Console().print(tomli_w.dumps(data), highlight=False, markup=False)


@config_app.command("validate")
def validate(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="The file to check.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check a config file: syntax, unknown keys, types and ranges (exit 2 when invalid)."""
    target = path or state(ctx).config
    try:
        load_settings(target)
    except ConfigError as exc:
        if as_json:
            print_json({"valid": False, "path": str(target), "error": exc.message})
            raise typer.Exit(EXIT_USAGE) from exc
        raise
    source = find_config_file(target)
    if as_json:
        print_json({"valid": True, "path": str(source) if source else None})
    else:
        Console().print(f"ok: {source or 'no config file; defaults and environment'} is valid")
