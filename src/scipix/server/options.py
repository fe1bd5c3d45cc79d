"""Request options: the server's own (``metadata``, ``tags``, ``async``, ``callback``), Mathpix
options scipix accepts without acting on them, and :class:`RecognizeOptions` for the rest.

Unknown option names are refused (``opts_bad_format``) so that a typo does not pass silently;
Mathpix options that scipix does not implement are listed in :data:`ACCEPTED_NOT_APPLIED`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scipix.errors import CallbackError, OptionsError, TokenError
from scipix.schema import RecognizeOptions
from scipix.server.auth import Principal

SERVER_OPTIONS = frozenset({"metadata", "tags", "async", "callback"})

#: Documented Mathpix ``/v3/text`` options that scipix accepts and does not apply (yet).
ACCEPTED_NOT_APPLIED = frozenset(
    {
        "include_detected_alphabets",
        "alphabets_allowed",
        "enable_blue_hsv_filter",
        "confidence_rate_threshold",
        "include_equation_tags",
        "include_smiles",
        "include_inchi",
        "include_geometry_data",
        "include_diagram_text",
        "include_chemistry_as_image",
        "rm_fonts",
        "idiomatic_eqn_arrays",
        "idiomatic_braces",
        "numbers_default_to_math",
        "math_fonts_default_to_math",
        "enable_spell_check",
        "enable_tables_fallback",
        "fullwidth_punctuation",
        "disable_itemize",
        "disable_lstlisting",
        "include_page_info",
        "enable_document_layout",
    }
)

_NOT_RECOGNIZE = SERVER_OPTIONS | ACCEPTED_NOT_APPLIED | {"src", "file", "url"}


@dataclass(frozen=True)
class CallOptions:
    """Everything a recognition request asked for."""

    recognize: RecognizeOptions
    tags: tuple[str, ...]
    metadata: dict[str, Any]
    is_async: bool
    request_args: dict[str, Any]

    @property
    def improve_mathpix(self) -> bool:
        """Mathpix's privacy switch: ``metadata.improve_mathpix: false`` keeps it from history."""
        return self.metadata.get("improve_mathpix", True) is not False


def server_options(options: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """Check ``metadata``, ``tags``, ``async`` and ``callback``; return them normalized."""
    metadata = options.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise OptionsError("metadata must be a JSON object", name="metadata")
    tags = options.get("tags", [])
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise OptionsError("tags must be a list of strings", name="tags")
    is_async = options.get("async", False)
    if not isinstance(is_async, bool):
        raise OptionsError("async must be true or false", name="async")
    if is_async and principal.via_token:
        raise TokenError("async requests are not allowed with an app_token")
    if options.get("callback") is not None:
        raise CallbackError(
            "callbacks are not supported by scipix: leave out callback and poll the result",
            post=None,
        )
    return {"metadata": metadata, "tags": tuple(tags), "is_async": is_async}


def text_options(options: dict[str, Any], principal: Principal) -> CallOptions:
    """The options of a ``/v3/text`` request (``src`` already removed)."""
    server = server_options(options, principal)
    sent = dict(options)  # no formats: text + latex_styled (RecognizeOptions' default)
    recognize = RecognizeOptions.from_request(options, ignore=_NOT_RECOGNIZE)
    return CallOptions(
        recognize=recognize,
        tags=server["tags"],
        metadata=server["metadata"],
        is_async=server["is_async"],
        request_args=sent,
    )
