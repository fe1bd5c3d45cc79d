"""Runtime settings: one nested pydantic-settings model read from TOML and ``SCIPIX_*`` variables.

Where values come from, highest priority first:

1. ``SCIPIX_*`` environment variables, nested with ``__`` (``SCIPIX_OCR__BEAM_WIDTH=3``); lists
   and tuples are written in JSON (``SCIPIX_OCR__MATH_INLINE_DELIMITERS='["$", "$"]'``);
2. one TOML file, the first that exists of: the CLI's ``--config``, ``$SCIPIX_CONFIG``,
   ``./scipix.toml``, ``<user config dir>/scipix.toml`` (files are not merged);
3. the defaults below.

Nothing is read at import time: call :func:`load_settings` (or the cached :func:`get_settings`).
Every problem is a :class:`~scipix.errors.ConfigError` whose one-line message names its origin:
the file and line (``scipix.toml:3: unknown key 'ocr.beam_widht'; did you mean
'ocr.beam_width'?``) or the variable (``SCIPIX_OCR__BEAM_WIDTH='abc': ocr.beam_width: ...``).
Training hyper-parameters live in their own config, not here.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from scipix.errors import ConfigError
from scipix.settings.model import (
    APP_NAME,
    CONFIG_FILE_NAME,
    ENV_CONFIG,
    ENV_PREFIX,
    InkSettings,
    OcrSettings,
    PerformanceSettings,
    PreprocessingSettings,
    RuntimeSettings,
    ServerSettings,
    Settings,
    default_settings,
    section_models,
)
from scipix.settings.source import (
    ConfigSource,
    check_environment,
    check_keys,
    config_candidates,
    config_target,
    describe_settings_error,
    describe_validation_error,
    find_config_file,
    find_config_source,
    parse_toml,
    read_config_text,
    read_toml,
    setting_variables,
    user_config_path,
)
from scipix.settings.template import render_toml, write_config

__all__ = [
    "APP_NAME",
    "CONFIG_FILE_NAME",
    "ENV_CONFIG",
    "ENV_PREFIX",
    "ConfigSource",
    "InkSettings",
    "OcrSettings",
    "PerformanceSettings",
    "PreprocessingSettings",
    "RuntimeSettings",
    "ServerSettings",
    "Settings",
    "config_candidates",
    "config_target",
    "default_settings",
    "find_config_file",
    "find_config_source",
    "get_settings",
    "load_settings",
    "read_toml",
    "render_toml",
    "section_models",
    "setting_variables",
    "user_config_path",
    "write_config",
]


def load_settings(config: Path | None = None) -> Settings:
    """Read settings from the first config file found and the ``SCIPIX_*`` environment."""
    source = find_config_source(config)
    data: dict[str, Any] = {}
    text = ""
    if source is not None:
        text = read_config_text(source.path)
        data = parse_toml(text, source.path)
        check_keys(data, Settings, source.path, text)
    check_environment()
    try:
        return Settings(**data)
    except ValidationError as exc:
        message, detail = describe_validation_error(exc, source, text)
        raise ConfigError(message, **detail) from exc
    except SettingsError as exc:
        raise ConfigError(describe_settings_error(exc)) from exc


@functools.cache
def get_settings(config: Path | None = None) -> Settings:
    """The cached settings of this process (tests call ``get_settings.cache_clear()``)."""
    return load_settings(config)
