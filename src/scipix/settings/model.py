"""The settings model: five sections, each refusing unknown keys; defaults only, no I/O.

Every key is read by the code it names (``tests/foundation/test_settings_used.py`` checks): a
section for a feature that is not built yet is added when the feature lands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from scipix.schema import (
    BATCH_SIZE,
    BEAM_WIDTH,
    DISPLAY_DELIMITERS,
    INLINE_DELIMITERS,
    LENGTH_PENALTY,
    MAX_BEAM_WIDTH,
    MAX_TOKENS,
    N_BEST,
    PreprocessSteps,
)

APP_NAME = "scipix"
CONFIG_FILE_NAME = "scipix.toml"
ENV_PREFIX = "SCIPIX_"
ENV_CONFIG = "SCIPIX_CONFIG"

#: A path with ``~`` expanded.
UserPath = Annotated[Path, AfterValidator(lambda p: p.expanduser())]


class Section(BaseModel):
    """Base of every settings section: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RuntimeSettings(Section):
    data_dir: UserPath = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)),
        description="Where the server's store (API keys, result history) lives.",
    )
    cache_dir: UserPath = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir(APP_NAME)),
        description="Rebuildable caches (rendered training data).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "warning", description="Log level of `scipix serve` (its --log-level overrides it)."
    )
    threads: int = Field(
        0, ge=0, description="ONNX Runtime intra-op threads per model; 0 = cores / workers."
    )


class OcrSettings(Section):
    model_dir: UserPath | None = Field(
        None, description="A retrained model's directory; unset = the packaged weights."
    )
    beam_width: int = Field(
        BEAM_WIDTH, ge=1, le=MAX_BEAM_WIDTH, description="Beam search width (1 = greedy)."
    )
    n_best: int = Field(
        N_BEST, ge=1, le=MAX_BEAM_WIDTH, description="Alternatives returned per formula."
    )
    max_tokens: int = Field(MAX_TOKENS, ge=8, le=2048, description="Longest LaTeX, in tokens.")
    length_penalty: float = Field(
        LENGTH_PENALTY, ge=0.0, le=2.0, description="Beam length normalization."
    )
    confidence_threshold: float = Field(
        0.0, ge=0.0, le=1.0, description="Below it a result is an error (math_confidence)."
    )
    low_confidence: float = Field(0.5, ge=0.0, le=1.0, description="Below it a line is flagged.")
    text_ocr: bool = Field(True, description="Read printed text lines with the text OCR.")
    math_inline_delimiters: tuple[str, str] = INLINE_DELIMITERS
    math_display_delimiters: tuple[str, str] = DISPLAY_DELIMITERS


class PreprocessingSettings(Section, PreprocessSteps):
    """The switches of :class:`~scipix.schema.PreprocessSteps`, how the cleaning is chosen
    (``pipeline/strategy.py``), and the decoding limits."""

    mode: Literal["auto", "manual"] = Field(
        "auto",
        description="auto: each picture is cleaned as its kind needs (render, screenshot, "
        "photo or scan, handwriting; clahe/denoise/binarize are then chosen per picture unless "
        "a call sets them); manual: the switches above decide for every picture.",
    )
    second_reading_below: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="auto: a formula read with a lower confidence is also read cleaned the "
        "other way, and the more probable reading is kept; 0 = never.",
    )
    second_reading_budget_ms: float = Field(
        3000.0,
        ge=0.0,
        description="auto: no second reading when the first (pre-processing, detection, "
        "reading) took longer than this, in ms.",
    )
    max_pixels: int = Field(40_000_000, ge=1, description="Refused before decoding above this.")
    max_bytes: int = Field(20_000_000, ge=1, description="Largest encoded image accepted.")


class PerformanceSettings(Section):
    workers: int = Field(1, ge=1, le=256, description="Pipeline worker threads.")
    queue_size: int = Field(64, ge=1, description="Bounded queue length (back-pressure).")
    batch_size: int = Field(BATCH_SIZE, ge=1, le=256, description="Formulas per recognizer batch.")


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1)
    auth: Literal["required", "none_on_loopback"] = "required"
    max_body_bytes: int = Field(5_000_000, ge=1)
    max_image_bytes: int = Field(2_000_000, ge=1)
    allow_url_fetch: bool = Field(False, description="Accept image URLs in `src`.")
    allow_private_urls: bool = Field(False, description="Let URLs reach private addresses.")
    url_timeout_s: float = Field(15.0, gt=0)
    url_max_bytes: int = Field(10_000_000, ge=1)
    rate_limit_per_minute: int = Field(600, ge=1, description="Requests per key per minute.")
    history: bool = Field(True, description="Keep results for /v3/ocr-results.")


class Settings(BaseSettings):
    """All of scipix's runtime settings (training hyper-parameters live in their own config)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    preprocessing: PreprocessingSettings = Field(default_factory=PreprocessingSettings)
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


def default_settings() -> Settings:
    """The defaults alone: no file, no environment (``Settings()`` reads ``SCIPIX_*``)."""
    return Settings.model_construct()


def section_models() -> dict[str, type[BaseModel]]:
    """Each section's name and model, in file order."""
    found: dict[str, type[BaseModel]] = {}
    for name, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found[name] = annotation
    return found
