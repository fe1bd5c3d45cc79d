"""The shapes that cross the service boundary: recognition options in, Mathpix-shaped results out.

:class:`RecognizeOptions` mirrors the request options of Mathpix's ``POST /v3/text`` (plus our
pre-processing switches); :class:`Result` mirrors its response. Serialize a result with
``result.model_dump(exclude_none=True)`` (or :meth:`Result.to_mathpix`) to get Mathpix's shape:
fields appear only when requested or applicable.

Invalid options never surface as a pydantic ``ValidationError``: they raise the matching
:class:`~scipix.errors.OptionsError` subclass (``opts_unknown_format``, ``opts_number_required``,
``opts_value_out_of_range``, ``opts_bad_format``) whose ``detail`` names the option and the value.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from scipix.errors import (
    NumberRequiredError,
    OptionsError,
    ScipixError,
    UnknownFormatError,
    ValueOutOfRangeError,
)

#: The ``formats`` of ``/v3/text``.
TEXT_FORMATS = ("text", "data", "html", "latex_styled")
#: What a call that names no ``formats`` (or an empty list) gets, as from Mathpix: the text and,
#: for an image that is one equation, ``latex_styled`` (mpxpy's ``latex_styled()`` relies on it).
DEFAULT_FORMATS = ("text", "latex_styled")
#: The ``type`` values of ``Result.data`` items we produce.
DATA_TYPES = ("latex", "mathml", "asciimath", "html", "svg", "tsv", "table_html")

# The defaults and bounds that settings (``[ocr]``), per-call options and the code that acts
# (``BeamConfig``, ``PreprocessConfig``) share, defined once here; the pre-processing switches
# are :class:`PreprocessSteps`.

#: Beam search width (1 = greedy), and the widest a setting or a call may ask for.
BEAM_WIDTH = 3
MAX_BEAM_WIDTH = 16
#: Alternatives returned per formula (at most ``MAX_BEAM_WIDTH``).
N_BEST = 1
#: Longest LaTeX, in tokens, and the beam's length normalization (GNMT alpha).
MAX_TOKENS = 256
LENGTH_PENALTY = 0.6
#: Formulas the recognizer reads in one batch.
BATCH_SIZE = 8
#: A page is turned only when its orientation's probability reaches this (Mathpix's default).
AUTO_ROTATE_CONFIDENCE = 0.99
#: The math delimiters of the ``text`` format.
INLINE_DELIMITERS = ("\\(", "\\)")
DISPLAY_DELIMITERS = ("\\[", "\\]")

_RANGE_ERRORS = {
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "too_short",
    "too_long",
}
_NUMBER_ERRORS = {"int_parsing", "int_type", "float_parsing", "float_type", "int_from_float"}


def new_request_id() -> str:
    """A Mathpix-style request id: ``YYYY_MM_DD_`` + 20 hex digits + ``g``."""
    return time.strftime("%Y_%m_%d_", time.gmtime()) + secrets.token_hex(10) + "g"


def options_error(exc: ValidationError) -> OptionsError:
    """The OptionsError subclass that says what the first problem of ``exc`` is."""
    first = exc.errors(include_url=False)[0]
    name = ".".join(str(p) for p in first["loc"]) or "options"
    value = first.get("input")
    kind = first["type"]
    shown = repr(value) if not isinstance(value, Mapping) else "an object"
    if kind == "extra_forbidden":
        return OptionsError(f"unknown option '{name}'", name=name)
    if kind in _NUMBER_ERRORS:
        return NumberRequiredError(f"option '{name}' must be a number (got {shown})", name=name)
    if kind in _RANGE_ERRORS:
        msg = f"option '{name}' is out of range: {first['msg'].lower()} (got {shown})"
        return ValueOutOfRangeError(msg, name=name, value=value)
    return OptionsError(f"option '{name}': {first['msg'].lower()} (got {shown})", name=name)


class OptionsModel(BaseModel):
    """Base of option models: frozen, unknown keys refused, errors raised as OptionsError."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _as_options_error(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            raise cls.options_error(exc) from None

    @classmethod
    def options_error(cls, exc: ValidationError) -> OptionsError:
        """The error for a body this model refuses (a subclass may word its own)."""
        return options_error(exc)


class Region(OptionsModel):
    """A rectangle of the image to read, in pixels (Mathpix's ``region``)."""

    top_left_x: int = Field(ge=0)
    top_left_y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class DataOptions(OptionsModel):
    """Which representations fill ``Result.data`` (and ``html``)."""

    include_latex: bool = False
    include_mathml: bool = False
    include_asciimath: bool = False
    include_html: bool = False
    include_svg: bool = False
    include_tsv: bool = False
    include_table_html: bool = False


class PreprocessSteps(BaseModel):
    """The pre-processing switches and their defaults, defined once: settings' ``[preprocessing]``
    section inherits them, :class:`PreprocessSwitches` overrides them per call (the same names)
    and :class:`~scipix.imaging.PreprocessConfig` takes its defaults from them."""

    auto_rotate: bool = Field(True, description="Detect and undo 90/180/270 degree rotation.")
    deskew: bool = Field(True, description="Straighten slightly rotated scans.")
    crop: bool = Field(True, description="Crop to the content.")
    clahe: bool = Field(False, description="Local contrast equalization.")
    denoise: bool = Field(False, description="Smooth sensor and JPEG noise, keeping edges.")
    binarize: bool = Field(False, description="Threshold to black ink on white paper.")
    exif_orientation: bool = Field(True, description="Undo the EXIF orientation tag.")


#: The defaults of the pre-processing switches.
PREPROCESS_DEFAULTS = PreprocessSteps()


class PreprocessSwitches(OptionsModel):
    """Per-call pre-processing switches, one per field of :class:`PreprocessSteps`; ``None``
    keeps the value from settings."""

    auto_rotate: bool | None = None
    deskew: bool | None = None
    crop: bool | None = None
    clahe: bool | None = None
    denoise: bool | None = None
    binarize: bool | None = None
    exif_orientation: bool | None = None


class RecognizeOptions(OptionsModel):
    """What one recognition call should produce (Mathpix ``/v3/text`` options)."""

    formats: tuple[str, ...] = Field(
        DEFAULT_FORMATS, json_schema_extra={"items": {"type": "string", "enum": list(TEXT_FORMATS)}}
    )
    data_options: DataOptions = Field(default_factory=DataOptions)
    math_inline_delimiters: tuple[str, str] = INLINE_DELIMITERS
    math_display_delimiters: tuple[str, str] = DISPLAY_DELIMITERS
    rm_spaces: bool = True
    confidence_threshold: float | None = Field(None, ge=0.0, le=1.0)
    include_line_data: bool = False
    include_word_data: bool = False
    include_detected_alphabets: bool = Field(
        False, description="Add detected_alphabets: which of Mathpix's alphabets the text uses."
    )
    beam_width: int | None = Field(None, ge=1, le=MAX_BEAM_WIDTH)
    n_best: int = Field(N_BEST, ge=1, le=MAX_BEAM_WIDTH)
    region: Region | None = None
    auto_rotate_confidence_threshold: float = Field(AUTO_ROTATE_CONFIDENCE, ge=0.0, le=1.0)
    preprocessing: PreprocessSwitches = Field(default_factory=PreprocessSwitches)

    @field_validator("formats", mode="before")
    @classmethod
    def _known_formats(cls, value: Any) -> Any:
        if value is None or value == {}:
            return DEFAULT_FORMATS
        if isinstance(value, str):
            value = (value,)
        if not isinstance(value, list | tuple):
            return value  # pydantic reports the type error
        unknown = [f for f in value if f not in TEXT_FORMATS]
        if unknown:
            raise UnknownFormatError(
                f"unknown format {unknown[0]!r}; valid formats: {', '.join(TEXT_FORMATS)}",
                formats=[str(f) for f in unknown],
            )
        return tuple(dict.fromkeys(value)) or DEFAULT_FORMATS

    @field_validator("region", mode="before")
    @classmethod
    def _empty_region(cls, value: Any) -> Any:
        return None if value == {} else value  # Mathpix: {} means no region

    @model_validator(mode="after")
    def _check_n_best(self) -> RecognizeOptions:
        if self.beam_width is not None and self.n_best > self.beam_width:
            raise ValueOutOfRangeError(
                f"option 'n_best' ({self.n_best}) must not exceed 'beam_width' ({self.beam_width})",
                name="n_best",
                value=self.n_best,
            )
        return self

    def wants(self, fmt: str) -> bool:
        return fmt in self.formats

    @classmethod
    def from_request(
        cls, data: Mapping[str, Any], ignore: frozenset[str] = frozenset()
    ) -> RecognizeOptions:
        """Options from a request body, without the keys in ``ignore`` (``src``, ``tags``...)."""
        return cls.model_validate({k: v for k, v in data.items() if k not in ignore})


class DataItem(BaseModel):
    """One entry of ``Result.data``: a representation of the math in the image."""

    type: Literal["latex", "mathml", "asciimath", "html", "svg", "tsv", "table_html"]
    value: str


class DetectedAlphabets(BaseModel):
    """Mathpix's ``detected_alphabets``: which writing systems the recognized text uses (Latin,
    Devanagari, Chinese, Japanese kana, Hangul, Cyrillic, Thai, Tamil, Telugu, Gujarati,
    Bengali, Vietnamese)."""

    en: bool = False
    hi: bool = False
    zh: bool = False
    ja: bool = False
    ko: bool = False
    ru: bool = False
    th: bool = False
    ta: bool = False
    te: bool = False
    gu: bool = False
    bn: bool = False
    vi: bool = False


Point = tuple[int, int]


class Candidate(BaseModel):
    """One of the n-best readings of a formula (``n_best`` > 1), best first."""

    latex: str
    confidence: float
    confidence_rate: float


class LineData(BaseModel):
    """One line (or region) of the image: Mathpix's ``line_data`` item."""

    id: str
    type: Literal["math", "text"]
    cnt: list[Point] = Field(description="The region's contour (here its 4 corners), in pixels.")
    included: bool = True
    is_printed: bool = True
    is_handwritten: bool = False
    text: str | None = None
    confidence: float | None = None
    confidence_rate: float | None = None
    low_confidence: bool | None = None
    error_id: str | None = None
    conversion_output: bool = True
    candidates: list[Candidate] | None = Field(
        None, description="A math line's n-best readings, best first (when n_best > 1)."
    )


class WordData(BaseModel):
    """One word or math element: Mathpix's ``word_data`` item."""

    type: Literal["text", "math"]
    cnt: list[Point]
    text: str | None = None
    latex: str | None = None
    confidence: float | None = None
    confidence_rate: float | None = None


#: What kind of picture an image is (``imaging/picture.py`` tells), and how it is cleaned before
#: pre-processing (``imaging/cleaning.py``; ``manual``: by the switches alone).
PictureKind = Literal["render", "screenshot", "paper", "handwriting"]
CleaningStrategy = Literal["plain", "flatten", "binarize"]


class PreprocessingReport(BaseModel):
    """How the image was cleaned (``preprocessing.mode = "auto"``): the picture's kind, the
    strategy whose reading was kept and whether a second reading was made."""

    kind: PictureKind | None = Field(
        None,
        description="render, screenshot, paper (a photo or scan) or handwriting; left out in "
        "manual mode or when the picture could not be classified.",
    )
    kind_confidence: float | None = Field(None, description="The classifier's probability.")
    strategy: CleaningStrategy | Literal["manual"] = Field(
        description="plain (as decoded), flatten (light evened, noise smoothed, contrast "
        "stretched) or binarize (flatten, then black and white); manual: the pre-processing "
        "switches decided."
    )
    second_reading: bool = Field(
        False,
        description="The first reading was unsure, so the image was also read cleaned the other "
        "way; `strategy` is the one whose reading was kept.",
    )


class Attestation(BaseModel):
    """Not in Mathpix's API: a worker's Ed25519 signature over what it computed (``trust/``):
    BLAKE3 of the image bytes, BLAKE3 of the normalized LaTeX, the model version, the worker,
    the time, a nonce (against replay) and BLAKE3 of the rest of the result."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    worker: str = Field(description="ed25519: and 16 bytes of BLAKE3 of the public key, hex.")
    time: str = Field(description="When it was signed, ISO 8601 UTC.")
    nonce: str = Field(description="16 random bytes, hex: the same attestation twice is a replay.")
    model_version: str
    image_hash: str = Field(description="BLAKE3 of the image bytes, hex.")
    latex_hash: str = Field(description="BLAKE3 of the normalized LaTeX (or text), hex.")
    content_hash: str = Field(description="BLAKE3 of the result's other fields (canonical JSON).")
    signature: str = Field(description="Ed25519 signature, hex.")


class ErrorInfo(BaseModel):
    """Mathpix's ``error_info``: the error id, the message and any detail fields."""

    model_config = ConfigDict(extra="allow")

    id: str
    message: str


class Result(BaseModel):
    """One image's result, with Mathpix v3 field names (every field optional but request_id)."""

    request_id: str = Field(default_factory=new_request_id)
    text: str | None = None
    latex_styled: str | None = None
    confidence: float | None = None
    confidence_rate: float | None = None
    is_printed: bool | None = None
    is_handwritten: bool | None = None
    image_width: int | None = None
    image_height: int | None = None
    auto_rotate_degrees: int | None = None
    auto_rotate_confidence: float | None = None
    line_data: list[LineData] | None = None
    word_data: list[WordData] | None = None
    data: list[DataItem] | None = None
    html: str | None = None
    detected_alphabets: DetectedAlphabets | None = None
    candidates: list[Candidate] | None = Field(
        None,
        description="When n_best > 1: the n-best readings of the formula whose LaTeX `latex` "
        "gives (the image's one formula, else its first math line), best first.",
    )
    latex_valid: bool | None = Field(
        None,
        description="Not in Mathpix's API: false when some recognized math is not valid LaTeX "
        "(the LaTeX validator refuses it; `warnings` says where and why); left out when all of "
        "it is valid.",
    )
    warnings: list[ErrorInfo] | None = Field(
        None,
        description="Not in Mathpix's API: what is wrong with a result that is still returned, "
        "each {id, message}; `math_syntax`: recognized math that is not valid LaTeX.",
    )
    preprocessing: PreprocessingReport | None = Field(
        None,
        description="Not in Mathpix's API: how the image was cleaned (the picture's kind, the "
        "cleaning strategy kept, whether it was read a second way).",
    )
    confidence_raw: float | None = Field(
        None,
        description="Not in Mathpix's API: the recognizer's own confidence (the weakest token's "
        "probability) when `confidence` is calibrated, i.e. the probability that the reading "
        "is exactly right (`scipix learning calibrate`).",
    )
    auto_accept: bool | None = Field(
        None,
        description="Not in Mathpix's API: the calibrated confidence is at or above the "
        "threshold at which readings were right at least 95 % of the time (left out when the "
        "model has no calibration).",
    )
    corrected: bool | None = Field(
        None,
        description="Not in Mathpix's API: the image matches one a person corrected (in this "
        "API key's scope), and the corrected LaTeX is returned.",
    )
    cached: bool | None = Field(
        None,
        description="Not in Mathpix's API: true when the result is the one given earlier for the "
        "same image (or a near-identical copy of it) in this API key's scope (`memory.cache`).",
    )
    version: str | None = None
    attestation: Attestation | None = Field(
        None,
        description="Not in Mathpix's API: the worker's signature over this result, when "
        "`distributed.attest` is on (`scipix verify` checks it).",
    )
    error: str | None = None
    error_info: ErrorInfo | None = None

    @property
    def ok(self) -> bool:
        return self.error_info is None

    @property
    def latex(self) -> str | None:
        """The LaTeX of a single-formula image, else the first math line's LaTeX."""
        if self.latex_styled is not None:
            return self.latex_styled
        for item in self.data or ():
            if item.type == "latex":
                return item.value
        return None

    @classmethod
    def from_error(cls, error: ScipixError, request_id: str | None = None) -> Result:
        """A failed result: ``error`` and ``error_info`` from the exception."""
        envelope = error.to_mathpix()
        result = cls(error=envelope["error"], error_info=ErrorInfo(**envelope["error_info"]))
        if request_id is not None:
            result.request_id = request_id
        return result

    def to_mathpix(self) -> dict[str, Any]:
        """The JSON-ready Mathpix body (absent fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)
