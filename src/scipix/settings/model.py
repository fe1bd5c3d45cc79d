"""The settings model: one section per feature, each refusing unknown keys; defaults only, no I/O.

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


class DocumentSettings(Section):
    """PDFs and page images (``scipix pdf``, ``/v3/pdf``): limits and rendering."""

    max_pages: int = Field(
        2000, ge=1, description="A PDF with more pages is refused (pdf_page_limit_exceeded)."
    )
    max_bytes: int = Field(
        200_000_000, ge=1, description="A larger PDF is refused (sys_request_too_large)."
    )
    dpi: int = Field(
        200, ge=72, le=600, description="Resolution at which pages without text are read."
    )


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
    browser_model: bool = Field(
        True, description="Hand the formula model to the web page (in-browser recognition)."
    )
    pdf_stall_s: float = Field(
        600.0, gt=0, description="A PDF with no page finished for this long ends in error."
    )
    callbacks: bool = Field(False, description="POST a PDF's status to its callback_url.")
    callback_hosts: list[str] = Field(
        default_factory=list, description="Hosts callbacks may go to (empty: any public host)."
    )
    callback_allow_private: bool = Field(
        False, description="Let callbacks reach private and loopback addresses."
    )
    callback_secret: str = Field(
        "", description="Signs each delivery (Mathpix-Signature header); empty: unsigned."
    )
    callback_attempts: int = Field(3, ge=1, le=10, description="Delivery attempts per event.")
    callback_backoff_s: float = Field(
        2.0, gt=0, le=600, description="Wait before the 2nd attempt, doubled after each."
    )


class MemorySettings(Section):
    """The memory (``scipix.memory``): a vector index of readings and the result cache."""

    enabled: bool = Field(
        True, description="Keep a memory of readings (result cache, `scipix memory search`)."
    )
    dir: UserPath | None = Field(
        None, description="The memory's directory; unset = <runtime.data_dir>/memory."
    )
    connectivity: int = Field(32, ge=4, le=128, description="HNSW links per node (M).")
    expansion_add: int = Field(64, ge=8, le=4096, description="HNSW ef while inserting.")
    expansion_search: int = Field(
        224,
        ge=8,
        le=4096,
        description="HNSW ef while searching (224: recall@10 0.984 at 1 M, p50 1.97 ms; 256: "
        "0.987, 2.15 ms; benchmarks/memory.py).",
    )
    dtype: Literal["f32", "f16", "i8"] = Field(
        "f16",
        description="How the index stores vectors (f16: inserts ~30 % and searches ~15 % faster "
        "than f32 at 300 k, recall within 0.003; scores stay exact f32 cosines).",
    )
    reduce_dims: int = Field(
        32,
        ge=0,
        le=1024,
        description="A big kind's index holds its vectors projected on this many principal axes "
        "(fitted on the stored vectors, refitted when they drift), re-ranked exactly; 0 = off.",
    )
    reduce_from: int = Field(
        20_000, ge=1, description="Entries of a kind from which its index is projected."
    )
    rerank: int = Field(
        4,
        ge=1,
        le=64,
        description="Candidates per result a projected or i8/f16 index gives to the exact "
        "f32 re-rank.",
    )
    latex_dim: int = Field(256, ge=16, le=4096, description="Size of the LaTeX embedding.")
    persist_every: int = Field(
        1000, ge=1, description="Save the index after this many changes (or a quarter of it)."
    )
    cache: bool = Field(True, description="Answer an image seen before from the memory.")
    cache_ttl_s: float = Field(
        7 * 24 * 3600.0, gt=0, description="How long a cached result is served, in seconds."
    )
    cache_max_entries: int = Field(
        50_000, ge=1, description="Cached results kept; the oldest go first."
    )
    near_duplicate: float = Field(
        0.759,
        ge=0.0,
        le=1.0,
        description="A different file of the same formula picture (re-encoded, rescaled) is "
        "served from the cache when its ink thumbnail correlates at least this much "
        "(benchmarks/memory_cache.py chose it on held-out data); 0 = exact copies only.",
    )


class McpSettings(Section):
    """The MCP server (``scipix mcp``): which files its tools may read, and its HTTP address."""

    roots: list[UserPath] = Field(
        default_factory=list,
        description="Folders whose images the tools may read (symlinks out of them are refused); "
        "empty = the working directory `scipix mcp` starts in.",
    )
    host: str = Field("127.0.0.1", description="Address of `scipix mcp --http`.")
    port: int = Field(8765, ge=1, le=65535, description="Port of `scipix mcp --http`.")
    recent_results: int = Field(
        100, ge=1, le=100_000, description="Results kept for scipix://results/{request_id}."
    )
    max_batch_images: int = Field(
        1000, ge=1, description="Most images one batch_ocr call reads (a larger folder is refused)."
    )


class InkSettings(Section):
    """Pen strokes (``/v3/strokes``, ``scipix ocr FILE.inkml``): what one input may hold; more
    is refused with ``strokes_syntax_error`` (``error_info.limit_name`` says which limit)."""

    max_strokes: int = Field(1000, ge=1, description="Most strokes (traces) in one input.")
    max_points: int = Field(50_000, ge=1, description="Most points over all strokes.")
    max_coordinate: float = Field(1_000_000.0, gt=0, description="Largest |x| or |y| of a point.")
    max_body_bytes: int = Field(
        512_000, ge=1, description="Largest /v3/strokes body (Mathpix: 512 KB)."
    )


class LearningSettings(Section):
    """The learning loop (``scipix.learning``): trajectories, corrections, calibration and
    strategies for unsure readings."""

    enabled: bool = Field(
        True,
        description="Record a trajectory per request, answer corrected images from the "
        "correction memory, calibrate confidence and try strategies on unsure readings.",
    )
    scope: Literal["key", "shared"] = Field(
        "key",
        description="key: an API key's corrections change only that key's results; shared: "
        "everyone's corrections apply to everyone.",
    )
    max_trajectories: int = Field(
        100_000, ge=100, description="Trajectories kept; the oldest go first."
    )
    unsure_below: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="A single formula whose calibrated confidence is lower is given to the "
        "strategies (learned n-best re-ranking, wider beam, re-ranking by rendering).",
    )
    strategy_budget_ms: float = Field(
        200.0,
        ge=0.0,
        description="Time the strategies may take per request, in ms; 0 = none. The default "
        "fits the learned n-best reranker (tta_rerank: +3.9 points exact on held-out hard "
        "pictures, ~50 ms, benchmarks/rerank.py), not the wider beam or TeX re-ranking.",
    )
    precision: float = Field(
        0.95,
        gt=0.0,
        le=1.0,
        description="`scipix learning calibrate`: auto_accept where readings were right this "
        "often.",
    )


class DistributedSettings(Section):
    """Scale-out and trust: the Ray engine of `scipix batch`, and signed results."""

    engine: Literal["local", "ray"] = Field(
        "local", description="`scipix batch`'s engine (its --engine overrides it)."
    )
    address: str | None = Field(
        None,
        description="Ray cluster: 'auto' (the one this machine joined) or HOST:PORT; unset = a "
        "local Ray started on demand.",
    )
    fallback_local: bool = Field(
        False, description="When the Ray cluster cannot be reached: run locally, not exit 2."
    )
    local_cpus: int = Field(2, ge=1, description="CPUs of a local Ray started on demand.")
    actors: int = Field(2, ge=1, le=4096, description="Ray actors, each with its own models.")
    max_retries: int = Field(
        3, ge=0, description="Times an item is sent again when its Ray worker dies."
    )
    attest: bool = Field(False, description="Sign every result with this worker's key.")
    worker_key: UserPath | None = Field(
        None, description="This worker's Ed25519 key; unset = <data_dir>/trust/worker.key."
    )
    keyring: UserPath | None = Field(
        None, description="Trusted workers' keys; unset = <data_dir>/trust/keyring.json."
    )
    quorum_f: int = Field(
        1, ge=0, le=100, description="Byzantine voters tolerated: n = 3f+1 vote, 2f+1 must agree."
    )


class Settings(BaseSettings):
    """All of scipix's runtime settings (training hyper-parameters live in their own config)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    preprocessing: PreprocessingSettings = Field(default_factory=PreprocessingSettings)
    performance: PerformanceSettings = Field(default_factory=PerformanceSettings)
    documents: DocumentSettings = Field(default_factory=DocumentSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    ink: InkSettings = Field(default_factory=InkSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    distributed: DistributedSettings = Field(default_factory=DistributedSettings)
    learning: LearningSettings = Field(default_factory=LearningSettings)

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
