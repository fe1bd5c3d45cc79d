"""Runtime settings: one nested pydantic-settings model read from TOML and ``SCIPIX_*`` variables.

Where values come from, highest priority first:

1. ``SCIPIX_*`` environment variables, nested with ``__`` (``SCIPIX_OCR__BEAM_WIDTH=3``);
2. one TOML file, the first that exists of: the CLI's ``--config``, ``$SCIPIX_CONFIG``,
   ``./scipix.toml``, ``<user config dir>/scipix/scipix.toml``;
3. the defaults below.

Nothing is read at import time: call :func:`load_settings` (or the cached :func:`get_settings`).
Unknown keys are errors that name the key, the file and the closest valid key.
"""

from __future__ import annotations

import difflib
import functools
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from scipix.errors import ConfigError

APP_NAME = "scipix"
CONFIG_FILE_NAME = "scipix.toml"


class Section(BaseModel):
    """Base of every settings section: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RuntimeSettings(Section):
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)),
        description="Where stores (keys, history, memory, learning) live.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir(APP_NAME)),
        description="Rebuildable caches (rendered training data, result cache).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "warning"
    threads: int = Field(0, ge=0, description="ONNX Runtime intra-op threads; 0 = all cores.")


class OcrSettings(Section):
    model_dir: Path | None = Field(None, description="A retrained model; None = packaged weights.")
    beam_width: int = Field(3, ge=1, le=16)
    n_best: int = Field(1, ge=1, le=16)
    max_tokens: int = Field(256, ge=8, le=2048)
    length_penalty: float = Field(0.6, ge=0.0, le=2.0)
    confidence_threshold: float = Field(0.0, ge=0.0, le=1.0)
    low_confidence: float = Field(0.5, ge=0.0, le=1.0, description="Below it a line is flagged.")
    text_ocr: bool = Field(True, description="Read printed text lines with the text OCR.")
    math_inline_delimiters: tuple[str, str] = ("\\(", "\\)")
    math_display_delimiters: tuple[str, str] = ("\\[", "\\]")


class PreprocessingSettings(Section):
    auto_rotate: bool = True
    deskew: bool = True
    crop: bool = True
    clahe: bool = False
    denoise: bool = False
    binarize: bool = False
    max_pixels: int = Field(40_000_000, ge=1, description="Refused before decoding above this.")
    max_bytes: int = Field(20_000_000, ge=1)


class AgentDbSettings(Section):
    enabled: bool = True
    path: Path | None = Field(None, description="None = <data_dir>/agentdb.")
    metric: Literal["cos", "l2sq", "ip"] = "cos"
    quantization: Literal["f32", "f16", "i8", "b1"] = "f32"
    connectivity: int = Field(16, ge=2, le=256, description="HNSW M.")
    expansion_add: int = Field(128, ge=1, description="HNSW ef_construction.")
    expansion_search: int = Field(64, ge=1, description="HNSW ef_search.")
    cache_results: bool = True


class ReasoningBankSettings(Section):
    enabled: bool = True
    path: Path | None = Field(None, description="None = <data_dir>/reasoningbank.")
    calibrate: bool = True
    min_verdicts_for_calibration: int = Field(50, ge=2)
    target_precision: float = Field(0.95, gt=0.0, le=1.0)
    correction_similarity: float = Field(0.97, gt=0.0, le=1.0)


class DistributedSettings(Section):
    engine: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    quorum_size: int = Field(4, ge=1, description="Voters for a quorum (3f+1).")
    quorum_below_confidence: float = Field(0.0, ge=0.0, le=1.0)
    worker_id: str | None = None


class PerformanceSettings(Section):
    workers: int = Field(1, ge=1, le=256)
    queue_size: int = Field(64, ge=1)
    batch_size: int = Field(8, ge=1, le=256)


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1)
    auth: Literal["required", "none_on_loopback"] = "required"
    max_body_bytes: int = Field(5_000_000, ge=1)
    max_image_bytes: int = Field(2_000_000, ge=1)
    allow_url_fetch: bool = False
    allow_private_urls: bool = False
    url_timeout_s: float = Field(15.0, gt=0)
    url_max_bytes: int = Field(10_000_000, ge=1)
    rate_limit_per_minute: int = Field(600, ge=1)
    history: bool = True


class Settings(BaseSettings):
    """All of scipix's runtime settings (training hyper-parameters live in their own config)."""

    model_config = SettingsConfigDict(
        env_prefix="SCIPIX_", env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    preprocessing: PreprocessingSettings = Field(default_factory=PreprocessingSettings)
    agentdb: AgentDbSettings = Field(default_factory=AgentDbSettings)
    reasoningbank: ReasoningBankSettings = Field(default_factory=ReasoningBankSettings)
    distributed: DistributedSettings = Field(default_factory=DistributedSettings)
    performance: PerformanceSettings = Field(default_factory=PerformanceSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init kwargs; environment variables override them.
        return (env_settings, init_settings)


def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME


def config_candidates(explicit: Path | None = None) -> list[tuple[str, Path]]:
    """The config files looked for, in priority order, each with where it came from."""
    found: list[tuple[str, Path]] = []
    if explicit is not None:
        found.append(("--config", Path(explicit)))
    env = os.environ.get("SCIPIX_CONFIG")
    if env:
        found.append(("$SCIPIX_CONFIG", Path(env)))
    found.append(("./scipix.toml", Path.cwd() / CONFIG_FILE_NAME))
    found.append(("user config dir", user_config_path()))
    return found


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The file that will be read, or None. An explicit or ``$SCIPIX_CONFIG`` path must exist."""
    for origin, path in config_candidates(explicit):
        if path.is_file():
            return path
        if origin in ("--config", "$SCIPIX_CONFIG"):
            raise ConfigError(f"config file {path} (from {origin}) does not exist", path=str(path))
    return None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read config file {path}: {reason}", path=str(path)) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}", path=str(path)) from exc


def check_keys(data: dict[str, Any], model: type[BaseModel], path: Path, prefix: str = "") -> None:
    """Refuse unknown keys, naming the key, the file and the closest valid key."""
    fields = model.model_fields
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.5)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else ""
            valid = ", ".join(fields)
            raise ConfigError(
                f"{path}: unknown key '{dotted}'{hint} (valid here: {valid})",
                path=str(path),
                key=dotted,
            )
        annotation = fields[key].annotation
        is_section = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if isinstance(value, dict) and is_section and isinstance(annotation, type):
            check_keys(value, annotation, path, prefix=f"{dotted}.")


def describe_validation_error(exc: ValidationError, origin: str) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    got = first.get("input")
    return f"{origin}: '{where}': {first['msg']} (got {got!r})"


def load_settings(config: Path | None = None) -> Settings:
    """Read settings from the first config file found and the ``SCIPIX_*`` environment."""
    path = find_config_file(config)
    data: dict[str, Any] = {}
    if path is not None:
        data = read_toml(path)
        check_keys(data, Settings, path)
    try:
        return Settings(**data)
    except ValidationError as exc:
        origin = str(path) if path is not None else "environment"
        raise ConfigError(describe_validation_error(exc, origin)) from exc


@functools.cache
def get_settings(config: Path | None = None) -> Settings:
    """The cached settings of this process (tests call ``get_settings.cache_clear()``)."""
    return load_settings(config)
