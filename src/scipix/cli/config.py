"""``scipix config init|show|validate``: write, print and check the TOML configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from scipix.cli.common import EXIT_USAGE, print_json, state, stderr_console, stdout_console
from scipix.errors import ConfigError
from scipix.settings import (
    Settings,
    config_candidates,
    config_target,
    find_config_source,
    load_settings,
    render_toml,
    setting_variables,
    user_config_path,
    write_config,
)

config_app = typer.Typer(
    help="Write, show and validate the configuration (scipix.toml).", no_args_is_help=True
)


def settings_data(settings: Settings) -> dict[str, Any]:
    """The settings as JSON-ready data (paths as strings)."""
    return settings.model_dump(mode="json")


@config_app.command("init")
def init(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Where to write (default: --config, $SCIPIX_CONFIG or ./scipix.toml).",
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        bool,
        typer.Option(
            "--user", help="Write to the user config dir (~/.config/scipix/ on Linux) instead."
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a config file with every setting, its default value and what it does."""
    if path is not None and user:
        raise typer.BadParameter("give a PATH or --user, not both", param_hint="--user")
    if path is not None:
        target = path.expanduser()
    else:
        target = user_config_path() if user else config_target(state(ctx).config)
    if target.is_dir():
        raise ConfigError(f"{target} is a directory; give a file path", path=str(target))
    if target.exists() and not force:
        raise ConfigError(f"{target} exists; use --force to overwrite it", path=str(target))
    write_config(target)
    stdout_console().print(f"wrote {target}", markup=False)
    note_shadowed(target, state(ctx).config)


def note_shadowed(written: Path, config: Path | None) -> None:
    """Say so when scipix will read another file than the one just written."""
    try:
        read = find_config_source(config)
    except ConfigError:
        return  # `config show` and `config validate` explain it
    if read is not None and read.path.resolve() != written.resolve():
        message = f"note: scipix reads {read.path} ({read.origin}) first, not {written}"
        stderr_console().print(message, markup=False)


@config_app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the effective settings (file, then SCIPIX_* variables, then defaults)."""
    st = state(ctx)
    settings = st.settings()
    source = find_config_source(st.config)
    overrides = sorted(setting_variables())
    if as_json:
        print_json(
            {
                "source": str(source.path) if source else None,
                "environment": overrides,
                "settings": settings_data(settings),
            }
        )
        return
    out = stdout_console()
    looked = ", ".join(f"{c.path} ({c.origin})" for c in config_candidates(st.config))
    out.print(f"# file: {source.path if source else 'none'}; looked for: {looked}", markup=False)
    out.print(f"# environment overrides: {', '.join(overrides) or 'none'}", markup=False)
    out.print(render_toml(settings, comments=False), markup=False, end="")


@config_app.command("validate")
def validate(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            help="The file to check (default: the one scipix reads).", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check the config: syntax, unknown keys, types and ranges (exit 2 when invalid)."""
    target = path if path is not None else state(ctx).config
    try:
        source = find_config_source(target)
        load_settings(target)
    except ConfigError as exc:
        if not as_json:
            raise
        print_json({"valid": False, "error": exc.message, **exc.detail})
        raise typer.Exit(EXIT_USAGE) from exc
    where = str(source.path) if source else None
    if as_json:
        print_json({"valid": True, "path": where})
    else:
        message = f"{where} is valid" if where else "no config file; defaults and environment valid"
        stdout_console().print(f"ok: {message}", markup=False)
