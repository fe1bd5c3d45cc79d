"""``POST /v3/latex`` (Mathpix's legacy, single-formula endpoint): its options and its response.

Recognition is the same as ``/v3/text``; only the shapes differ. Each requested ``formats`` entry
becomes a top-level key (with none requested, the answer has ``latex``), confidence is
``latex_confidence``/``latex_confidence_rate``, and ``position``, ``detection_list`` and
``detection_map`` describe the image. With ``n_best`` > 1 (``beam_size`` at least as large, or
left to the settings), ``candidates`` lists the n-best readings, best first, each with the
requested formats and its confidences. :class:`LatexRequest` is the body in the OpenAPI schema;
the options it shares with ``/v3/text`` are :class:`RecognizeOptions`' own fields.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from scipix.errors import OptionsError, UnknownFormatError, UnknownOcrError
from scipix.pipeline.formats import convert
from scipix.schema import (
    Candidate,
    DataOptions,
    DetectedAlphabets,
    ErrorInfo,
    RecognizeOptions,
    Result,
)
from scipix.server.auth import Principal
from scipix.server.intake import ImageSource
from scipix.server.options import (
    CallOptions,
    ServerOptions,
    accepted_fields,
    call_options,
    server_options,
)

LEGACY_FORMATS = (
    "text",
    "text_display",
    "latex_normal",
    "latex_styled",
    "latex_simplified",
    "latex_list",
    "mathml",
    "asciimath",
)
UNSUPPORTED_FORMATS = ("wolfram",)
OCR_VALUES = ("math", "text")
_ACCEPTED_NOT_APPLIED = frozenset({"format_options", "skip_recrop", "enable_blue_hsv_filter"})
#: The options that :class:`RecognizeOptions` checks: their name here and there.
RECOGNIZE_NAMES = {
    "beam_size": "beam_width",
    "n_best": "n_best",
    "region": "region",
    "confidence_threshold": "confidence_threshold",
    "auto_rotate_confidence_threshold": "auto_rotate_confidence_threshold",
    "include_detected_alphabets": "include_detected_alphabets",
}


class _LatexBody(ServerOptions, ImageSource):
    model_config = ConfigDict(frozen=True, extra="forbid")

    formats: list[str] = Field(
        default_factory=list,
        json_schema_extra={"items": {"type": "string", "enum": list(LEGACY_FORMATS)}},
        description="Each becomes a key of the answer (none: latex).",
    )
    ocr: list[str] = Field(
        default_factory=lambda: ["math"],
        json_schema_extra={"items": {"type": "string", "enum": list(OCR_VALUES)}},
    )


def _recognize_field(name: str) -> Any:
    field = RecognizeOptions.model_fields[name]
    return field.annotation, copy.copy(field)


LatexRequest = create_model(
    "LatexRequest",
    __base__=_LatexBody,
    __module__=__name__,
    __doc__="The JSON body of ``POST /v3/latex``: the image and its options.",
    **{ours: _recognize_field(theirs) for ours, theirs in RECOGNIZE_NAMES.items()},
    **accepted_fields(_ACCEPTED_NOT_APPLIED),
)
_KNOWN = frozenset(f.alias or n for n, f in LatexRequest.model_fields.items()) | {"file", "url"}
_TOKEN = re.compile(r"\\[a-zA-Z]+|\\.|\S")


@dataclass(frozen=True)
class LegacyCall:
    call: CallOptions
    formats: tuple[str, ...]


def _string_list(options: dict[str, Any], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = options.get(name)
    if value is None:
        return default
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OptionsError(f"{name} must be a list of strings", name=name)
    return tuple(dict.fromkeys(value))


def latex_options(options: dict[str, Any], principal: Principal) -> LegacyCall:
    """Check and translate the options of a ``/v3/latex`` request (``src`` already removed)."""
    server = server_options(options, principal)
    formats = _string_list(options, "formats", ())
    for fmt in formats:
        if fmt in UNSUPPORTED_FORMATS:
            raise UnknownFormatError(f"format {fmt!r} is not supported by scipix", formats=[fmt])
        if fmt not in LEGACY_FORMATS:
            valid = ", ".join(LEGACY_FORMATS)
            raise UnknownFormatError(f"unknown format {fmt!r}; valid: {valid}", formats=[fmt])
    for ocr in _string_list(options, "ocr", ("math",)):
        if ocr not in OCR_VALUES:
            raise UnknownOcrError(f"unknown ocr value {ocr!r}; valid: math, text", ocr=ocr)
    for name in options:
        if name not in _KNOWN:
            raise OptionsError(f"unknown option '{name}'", name=name)
    mapped: dict[str, Any] = {
        "formats": ["text", "latex_styled", "data"],
        "data_options": DataOptions(
            include_latex=True,
            include_mathml="mathml" in formats,
            include_asciimath="asciimath" in formats,
        ),
        "include_line_data": True,  # the lines' contours make up ``position``
    }
    for theirs, ours in RECOGNIZE_NAMES.items():
        if options.get(theirs) is not None:
            mapped[ours] = options[theirs]
    recognize = RecognizeOptions.from_request(mapped)
    return LegacyCall(call_options(recognize, server, dict(options)), formats)


class LatexCandidate(BaseModel):
    """A reading in ``/v3/latex``'s shape: the requested formats (``latex`` when none were)
    and its confidences."""

    model_config = ConfigDict(extra="forbid")

    latex: str | None = Field(None, description="The LaTeX, when no formats were requested.")
    text: str | None = None
    text_display: str | None = None
    latex_normal: str | None = None
    latex_styled: str | None = None
    latex_simplified: str | None = None
    latex_list: list[str] | None = None
    mathml: str | None = None
    asciimath: str | None = None
    latex_confidence: float | None = None
    latex_confidence_rate: float | None = None


class LatexResponse(LatexCandidate):
    """The answer of ``POST /v3/latex`` (or an error envelope: ``error``, ``error_info``)."""

    request_id: str | None = None
    version: str | None = None
    image_width: int | None = None
    image_height: int | None = None
    auto_rotate_confidence: float | None = None
    auto_rotate_degrees: int | None = None
    position: dict[str, int] | None = Field(
        None,
        description="The box of the content read, in the image's pixels: top_left_x, "
        "top_left_y, width, height.",
    )
    detection_list: list[str] | None = None
    detection_map: dict[str, float] | None = None
    detected_alphabets: DetectedAlphabets | None = None
    candidates: list[LatexCandidate] | None = Field(
        None, description="When n_best > 1: the n-best readings, best first."
    )
    latex_valid: bool | None = Field(
        None, description="As in /v3/text (not in Mathpix's API): false for invalid LaTeX."
    )
    warnings: list[ErrorInfo] | None = Field(
        None, description="As in /v3/text (not in Mathpix's API): `math_syntax` for such LaTeX."
    )
    error: str | None = None
    error_info: ErrorInfo | None = None


def simplified(latex: str) -> str:
    """Mathpix's ``latex_simplified`` spelling: every token separated by one space."""
    return " ".join(_TOKEN.findall(latex))


def _data(result: Result, kind: str) -> str | None:
    for item in result.data or ():
        if item.type == kind:
            return item.value
    return None


def legacy_body(result: Result, formats: tuple[str, ...]) -> dict[str, Any]:
    """The ``/v3/latex`` response for a recognition result."""
    latex = result.latex or ""
    printed = 1.0 if result.is_printed is not False else 0.0
    body: dict[str, Any] = {
        "request_id": result.request_id,
        "version": result.version,
        "image_width": result.image_width,
        "image_height": result.image_height,
        "auto_rotate_confidence": result.auto_rotate_confidence,
        "auto_rotate_degrees": result.auto_rotate_degrees,
        "latex_confidence": result.confidence,
        "latex_confidence_rate": result.confidence_rate,
        "position": content_box(result),
        "detection_list": ["is_printed"] if printed else [],
        "detection_map": {
            "contains_chart": 0,
            "contains_diagram": 0,
            "contains_geometry": 0,
            "contains_graph": 0,
            "contains_table": 0,
            "is_blank": 0 if latex else 1,
            "is_inverted": 0,
            "is_not_math": 0,
            "is_printed": printed,
        },
    }
    if result.detected_alphabets is not None:
        body["detected_alphabets"] = result.detected_alphabets.model_dump()
    values = _values(latex, _data(result, "mathml"), _data(result, "asciimath"))
    if not formats:
        body["latex"] = latex
        body["latex_list"] = []
    for fmt in formats:
        body[fmt] = values[fmt]
    if result.candidates:
        body["candidates"] = [_candidate(c, formats) for c in result.candidates]
    if result.warnings:
        body["latex_valid"] = result.latex_valid
        body["warnings"] = [w.model_dump(mode="json") for w in result.warnings]
    return {k: v for k, v in body.items() if v is not None}


def content_box(result: Result) -> dict[str, int]:
    """Mathpix's ``position``: the box around what was read (the contours of ``line_data``) in
    the image's pixels (MATHPIX_API.md T4); the whole image when nothing says where."""
    width, height = result.image_width or 0, result.image_height or 0
    points = [point for line in result.line_data or () for point in line.cnt]
    if not points:
        return {"top_left_x": 0, "top_left_y": 0, "width": width, "height": height}
    xs = [min(max(x, 0), width) for x, _ in points]
    ys = [min(max(y, 0), height) for _, y in points]
    left, top = min(xs), min(ys)
    return {"top_left_x": left, "top_left_y": top, "width": max(xs) - left, "height": max(ys) - top}


def _values(latex: str, mathml: str | None, asciimath: str | None) -> dict[str, Any]:
    return {
        "text": f"\\( {latex} \\)",
        "text_display": f"\\[\n{latex}\n\\]",
        "latex_normal": latex,
        "latex_styled": latex,
        "latex_simplified": simplified(latex),
        "latex_list": [latex] if latex else [],
        "mathml": mathml,
        "asciimath": asciimath,
    }


def _candidate(candidate: Candidate, formats: tuple[str, ...]) -> dict[str, Any]:
    """One of the n-best readings (``n_best`` > 1) in the shape of the response: the requested
    formats (``latex`` when none) and its confidences."""
    latex = candidate.latex
    mathml = convert(latex, "mathml") if "mathml" in formats else None
    asciimath = convert(latex, "asciimath") if "asciimath" in formats else None
    values = _values(latex, mathml, asciimath)
    body: dict[str, Any] = {fmt: values[fmt] for fmt in formats} if formats else {"latex": latex}
    body["latex_confidence"] = candidate.confidence
    body["latex_confidence_rate"] = candidate.confidence_rate
    return {k: v for k, v in body.items() if v is not None}
