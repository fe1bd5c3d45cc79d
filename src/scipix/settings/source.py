"""Where settings come from: the config file looked for, read and checked, and ``SCIPIX_*``.

Every problem becomes a :class:`~scipix.errors.ConfigError` with a one-line message naming its
origin: the file and line, or the environment variable.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ValidationError
from pydantic_settings import SettingsError

from scipix.errors import ConfigError
from scipix.settings.model import (
    APP_NAME,
    CONFIG_FILE_NAME,
    ENV_CONFIG,
    ENV_PREFIX,
    section_models,
)

# --- finding the file -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigSource:
    """A config file looked for, and why: ``--config``, ``$SCIPIX_CONFIG``, ``./scipix.toml``…"""

    origin: str
    path: Path

    @property
    def required(self) -> bool:
        """Named by the user, so it must exist (the others are looked for, not required)."""
        return self.origin in ("--config", f"${ENV_CONFIG}")


def shown(path: Path) -> str:
    """A path as messages show it: relative when it is under the working directory."""
    try:
        return str(path.relative_to(Path.cwd())) if path.is_absolute() else str(path)
    except ValueError:
        return str(path)


def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME


def config_candidates(explicit: Path | None = None) -> list[ConfigSource]:
    """The config files looked for, in priority order, each with where it came from."""
    found: list[ConfigSource] = []
    if explicit is not None:
        found.append(ConfigSource("--config", Path(explicit).expanduser()))
    env = os.environ.get(ENV_CONFIG)
    if env:
        found.append(ConfigSource(f"${ENV_CONFIG}", Path(env).expanduser()))
    found.append(ConfigSource(f"./{CONFIG_FILE_NAME}", Path.cwd() / CONFIG_FILE_NAME))
    found.append(ConfigSource("user config dir", user_config_path()))
    return found


def config_target(explicit: Path | None = None, user: bool = False) -> Path:
    """Where a new config file goes: ``--config``, else ``$SCIPIX_CONFIG``, else
    ``./scipix.toml`` (``user``: the user config dir)."""
    if explicit is not None:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    return user_config_path() if user else Path.cwd() / CONFIG_FILE_NAME


def find_config_source(explicit: Path | None = None) -> ConfigSource | None:
    """The file that will be read, or None. A ``--config`` or ``$SCIPIX_CONFIG`` must exist."""
    for source in config_candidates(explicit):
        path = source.path
        if path.is_dir():
            raise ConfigError(
                f"config file {shown(path)} (from {source.origin}) is a directory", path=str(path)
            )
        if path.exists():
            return source
        if source.required:
            raise ConfigError(
                f"config file {shown(path)} (from {source.origin}) does not exist; "
                f"create it with `scipix --config {shown(path)} config init`",
                path=str(path),
            )
    return None


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The path of :func:`find_config_source`."""
    source = find_config_source(explicit)
    return source.path if source is not None else None


# --- reading the file -------------------------------------------------------------------------


def read_config_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"cannot read config file {shown(path)}: {reason}", path=str(path)
        ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"cannot read config file {shown(path)}: "
            f"not UTF-8 text (bad byte at offset {exc.start})",
            path=str(path),
        ) from exc


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        where = re.search(r"\s*\(at line (\d+), column (\d+)\)", reason)
        if where is None:
            raise ConfigError(
                f"{shown(path)}: TOML syntax error: {reason}", path=str(path)
            ) from exc
        line, column = int(where.group(1)), int(where.group(2))
        reason = reason[: where.start()] + reason[where.end() :]
        raise ConfigError(
            f"{shown(path)}:{line}:{column}: TOML syntax error: {reason}", path=str(path), line=line
        ) from exc


def read_toml(path: Path) -> dict[str, Any]:
    """Read and parse one TOML file, as a :class:`ConfigError` on any problem."""
    return parse_toml(read_config_text(path), path)


_TABLE = re.compile(r"^\[\[?\s*([^\]]+?)\s*\]\]?$")
_KEY = re.compile(
    r"""^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _split_key(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


def locate_key(text: str, dotted: tuple[str, ...]) -> int | None:
    """The 1-based line where ``dotted`` (or the value holding it) is set; best effort."""
    table: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if match := _TABLE.match(line):
            table = _split_key(match.group(1))
            if table == dotted:
                return number
        elif match := _KEY.match(line):
            key = table + _split_key(match.group(1))
            if key == dotted[: len(key)]:
                return number
    return None


#: Sections that ``scipix config init`` of earlier versions wrote, before their features were
#: built under other names; an old file that still has one is told the new section, rather than
#: offered the closest name (their keys differ, so nothing is carried over silently).
RENAMED_SECTIONS = {
    "agentdb": "memory",
    "reasoningbank": "learning",
}


def renamed(section: str, fix: str) -> str:
    """Why ``section`` sets nothing: its feature is configured by another section now."""
    new = RENAMED_SECTIONS[section]
    return (
        f"section '{section}' is now '[{new}]' (see `scipix config show`; its keys differ); {fix}"
    )


def _close(name: str, choices: list[str]) -> str | None:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return close[0] if close else None


def check_keys(
    data: Mapping[str, Any], model: type[BaseModel], path: Path, text: str = "", prefix: str = ""
) -> None:
    """Refuse unknown keys, naming the key, the file (and line) and the closest valid key."""
    fields = model.model_fields
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            line = locate_key(text, tuple(dotted.split(".")))
            where = f"{shown(path)}:{line}" if line else shown(path)
            if not prefix and key in RENAMED_SECTIONS:
                message = f"{where}: {renamed(key, 'move its settings there')}"
                raise ConfigError(message, path=str(path), key=dotted, line=line)
            close = _close(key, list(fields))
            hint = f"did you mean '{prefix}{close}'?" if close else f"valid: {', '.join(fields)}"
            raise ConfigError(
                f"{where}: unknown key '{dotted}'; {hint}", path=str(path), key=dotted, line=line
            )
        section = fields[key].annotation
        if isinstance(value, dict) and isinstance(section, type) and issubclass(section, BaseModel):
            check_keys(value, section, path, text, prefix=f"{dotted}.")


# --- the environment --------------------------------------------------------------------------


def setting_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``SCIPIX_*`` variables that set settings (``SCIPIX_CONFIG`` and others do not)."""
    environ = os.environ if environ is None else environ
    sections = section_models()
    found = {}
    for name, value in environ.items():
        if not name.upper().startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        if rest.split("__", 1)[0] in sections or "__" in rest:
            found[name] = value
    return found


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Refuse ``SCIPIX_*`` variables that look like settings but set nothing, naming the closest.

    ``SCIPIX_OCR__BEAMWIDTH`` (unknown key), ``SCIPIX_OCRR__BEAM_WIDTH`` (unknown section) and
    ``SCIPIX_BEAM_WIDTH`` (no section) are refused; other ``SCIPIX_*`` names (``SCIPIX_CONFIG``,
    flags of tools and tests) are left alone.
    """
    environ = os.environ if environ is None else environ
    sections = section_models()
    known = [
        f"{section}__{key}" for section, model in sections.items() for key in model.model_fields
    ]
    for name in environ:
        if not name.upper().startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if len(parts) == 1:
            flat = [k for k in known if k.split("__")[1] == parts[0]]
            if flat:
                raise ConfigError(
                    f"environment variable {name}: settings are nested by section; "
                    f"did you mean {ENV_PREFIX}{flat[0].upper()}?",
                    env=name,
                )
            continue
        model = sections.get(parts[0])
        if model is not None and parts[1] in model.model_fields:
            continue
        dotted = ".".join(parts)
        if parts[0] in RENAMED_SECTIONS:
            reason = renamed(parts[0], f"use {ENV_PREFIX}{RENAMED_SECTIONS[parts[0]].upper()}__…")
            raise ConfigError(f"environment variable {name}: {reason}", env=name, key=dotted)
        close = _close("__".join(parts[:2]), known)
        hint = f"; did you mean {ENV_PREFIX}{close.upper()}?" if close else ""
        raise ConfigError(
            f"environment variable {name}: unknown setting '{dotted}'{hint}", env=name, key=dotted
        )


def _variable_for(loc: tuple[str, ...], environ: Mapping[str, str]) -> str | None:
    """The ``SCIPIX_*`` variable that set ``loc`` or a value holding it, if one did."""
    names = {name.upper(): name for name in environ}
    for end in range(len(loc), 0, -1):
        name = names.get(ENV_PREFIX + "__".join(loc[:end]).upper())
        if name is not None:
            return name
    return None


def describe_validation_error(
    exc: ValidationError, source: ConfigSource | None, text: str = ""
) -> tuple[str, dict[str, Any]]:
    """One line naming where the first bad value came from (variable, or file and line)."""
    errors = exc.errors()
    first = errors[0]
    loc = tuple(str(part) for part in first["loc"])
    dotted = ".".join(loc)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    reason = f"{dotted}: {first['msg']}"
    variable = _variable_for(loc, os.environ)
    if variable is not None:
        value = os.environ[variable]
        message = f"environment variable {variable}={value!r}: {reason}{more}"
        return message, {"env": variable, "key": dotted}
    if source is not None:
        line = locate_key(text, loc)
        where = f"{shown(source.path)}:{line}" if line else shown(source.path)
        message = f"{where}: {reason} (got {first.get('input')!r}){more}"
        return message, {"path": str(source.path), "key": dotted, "line": line}
    return f"{reason}{more}", {"key": dotted}


def describe_settings_error(exc: SettingsError) -> str:
    """pydantic-settings could not parse a variable (a list or tuple not written in JSON)."""
    field = re.search(r'field "([^"]+)"', str(exc))
    section = field.group(1) if field else ""
    names = sorted(n for n in os.environ if n.upper().startswith(f"{ENV_PREFIX}{section.upper()}"))
    which = ", ".join(names) or f"{ENV_PREFIX}{section.upper()}*"
    return (
        f"environment variable {which}: cannot parse the value; lists and tuples are "
        f'written in JSON, e.g. {ENV_PREFIX}OCR__MATH_INLINE_DELIMITERS=\'["$", "$"]\''
    )
