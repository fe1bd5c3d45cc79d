"""``POST /v3/latex`` (Mathpix's legacy, single-formula endpoint): its options and its response.

Recognition is the same as ``/v3/text``; only the shapes differ. Each requested ``formats`` entry
becomes a top-level key (with none requested, the answer has ``latex``), confidence is
``latex_confidence``/``latex_confidence_rate``, and ``position``, ``detection_list`` and
``detection_map`` describe the image. With ``n_best`` > 1 (``beam_size`` at least as large, or
left to the settings), ``candidates`` lists the n-best readings, best first, each with the
requested formats and its confidences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from scipix.errors import OptionsError, UnknownFormatError, UnknownOcrError
from scipix.pipeline.formats import convert
from scipix.schema import Candidate, DataOptions, RecognizeOptions, Result
from scipix.server.auth import Principal
from scipix.server.options import SERVER_OPTIONS, CallOptions, server_options

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
_ACCEPTED_NOT_APPLIED = frozenset(
    {"format_options", "skip_recrop", "include_detected_alphabets", "enable_blue_hsv_filter"}
)
_KNOWN = (
    frozenset({"formats", "ocr", "beam_size", "n_best", "region", "confidence_threshold"})
    | {"auto_rotate_confidence_threshold", "src", "file", "url"}
    | _ACCEPTED_NOT_APPLIED
    | SERVER_OPTIONS
)
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
    }
    for ours, theirs in (("beam_width", "beam_size"), ("n_best", "n_best")):
        if options.get(theirs) is not None:
            mapped[ours] = options[theirs]
    for name in ("region", "confidence_threshold", "auto_rotate_confidence_threshold"):
        if options.get(name) is not None:
            mapped[name] = options[name]
    recognize = RecognizeOptions.from_request(mapped)
    call = CallOptions(
        recognize=recognize,
        tags=server["tags"],
        metadata=server["metadata"],
        is_async=server["is_async"],
        request_args=dict(options),
    )
    return LegacyCall(call=call, formats=formats)


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
    width, height = result.image_width or 0, result.image_height or 0
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
        "position": {"top_left_x": 0, "top_left_y": 0, "width": width, "height": height},
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
    values = _values(latex, _data(result, "mathml"), _data(result, "asciimath"))
    if not formats:
        body["latex"] = latex
        body["latex_list"] = []
    for fmt in formats:
        body[fmt] = values[fmt]
    if result.candidates:
        body["candidates"] = [_candidate(c, formats) for c in result.candidates]
    return {k: v for k, v in body.items() if v is not None}


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
