"""Request-body documentation for the OpenAPI schema.

The routes read their bodies themselves (JSON or multipart, size-limited, Mathpix's errors), so
FastAPI cannot infer these schemas; they are written here, inline, for clients and schemathesis.
"""

from __future__ import annotations

from typing import Any

from scipix.schema import TEXT_FORMATS
from scipix.server.legacy import LEGACY_FORMATS

_BOOL: dict[str, Any] = {"type": "boolean"}
_UNIT: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 1}
_PAIR: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "minItems": 2,
    "maxItems": 2,
}
_REGION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "top_left_x": {"type": "integer", "minimum": 0},
        "top_left_y": {"type": "integer", "minimum": 0},
        "width": {"type": "integer", "minimum": 1},
        "height": {"type": "integer", "minimum": 1},
    },
}
_COMMON: dict[str, Any] = {
    "src": {
        "type": "string",
        "description": "The image: a data URI (data:image/png;base64,...) or an http(s) URL"
        " (fetched only when the server allows it).",
    },
    "metadata": {
        "type": "object",
        "description": '{"improve_mathpix": false} keeps it out of history.',
    },
    "tags": {"type": "array", "items": {"type": "string"}},
    "async": _BOOL,
    "region": _REGION,
    "confidence_threshold": _UNIT,
}
TEXT_OPTIONS: dict[str, Any] = {
    "type": "object",
    "properties": {
        **_COMMON,
        "formats": {"type": "array", "items": {"type": "string", "enum": list(TEXT_FORMATS)}},
        "data_options": {
            "type": "object",
            "properties": {
                name: _BOOL
                for name in (
                    "include_latex",
                    "include_mathml",
                    "include_asciimath",
                    "include_html",
                    "include_svg",
                    "include_tsv",
                    "include_table_html",
                )
            },
        },
        "math_inline_delimiters": _PAIR,
        "math_display_delimiters": _PAIR,
        "rm_spaces": _BOOL,
        "include_line_data": _BOOL,
        "include_word_data": _BOOL,
        "auto_rotate_confidence_threshold": _UNIT,
    },
}
LATEX_OPTIONS: dict[str, Any] = {
    "type": "object",
    "properties": {
        **_COMMON,
        "formats": {"type": "array", "items": {"type": "string", "enum": list(LEGACY_FORMATS)}},
        "ocr": {"type": "array", "items": {"type": "string", "enum": ["math", "text"]}},
        "beam_size": {"type": "integer", "minimum": 1, "maximum": 10},
        "n_best": {"type": "integer", "minimum": 1, "maximum": 10},
    },
}
_MULTIPART: dict[str, Any] = {
    "type": "object",
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "options_json": {"type": "string", "description": "All options as one JSON object."},
    },
}


def image_request_body(options: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for a route taking JSON with ``src`` or multipart ``file``."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": options},
                "multipart/form-data": {"schema": _MULTIPART},
            },
        }
    }


def json_request_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {
        "requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}
    }


BATCH_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["urls"],
    "properties": {
        "urls": {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "object", "properties": {"url": {"type": "string"}}},
                ]
            },
        },
        "ocr_behavior": {"type": "string", "enum": ["latex", "text"]},
        "formats": {"type": "array", "items": {"type": "string"}},
        "data_options": TEXT_OPTIONS["properties"]["data_options"],
        "metadata": {"type": "object"},
        "confidence_threshold": _UNIT,
    },
}
APP_TOKEN_REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "expires": {"type": "integer", "minimum": 30, "maximum": 43200},
        "include_strokes_session_id": _BOOL,
        "user_id": {"type": "string"},
    },
}
CORRECTION_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["latex"],
    "properties": {
        "latex": {"type": "string", "description": "The corrected LaTeX."},
        "request_id": {"type": "string", "description": "The request whose result is corrected."},
        "original_latex": {"type": "string"},
        "src": {"type": "string", "description": "The image, as a data URI (optional)."},
    },
}
