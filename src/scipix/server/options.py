"""Request options: the server's own (:class:`ServerOptions`: ``metadata``, ``tags``,
``async``, ``callback``), Mathpix options scipix accepts without acting on them, and
:class:`RecognizeOptions` for the rest.

Unknown option names are refused (``opts_bad_format``) so that a typo does not pass silently;
Mathpix options that scipix does not implement are listed in :data:`ACCEPTED_NOT_APPLIED`.
:class:`TextRequest`, the ``/v3/text`` body of the OpenAPI schema, is made of exactly the models
that check a request, so the schema cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)

from scipix.errors import CallbackError, OptionsError, TokenError
from scipix.schema import OptionsModel, RecognizeOptions
from scipix.server.auth import Principal
from scipix.server.intake import ImageSource


class ServerOptions(OptionsModel):
    """The options the server acts on itself; the other keys of a body are left to others."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    metadata: dict[str, Any] | None = Field(
        None, description='{"improve_mathpix": false} keeps the request out of history.'
    )
    tags: list[str] | None = Field(None, description="Labels to find the request by later.")
    is_async: bool = Field(
        False,
        alias="async",
        strict=True,
        description="Answer at once with the request_id; the result goes to history.",
    )
    callback: Any = Field(
        None,
        json_schema_extra={"type": "null"},
        description="Not supported (opts_bad_callback): leave it out and poll the result.",
    )

    @classmethod
    def options_error(cls, exc: ValidationError) -> OptionsError:
        name = ".".join(str(p) for p in exc.errors(include_url=False)[0]["loc"][:1])
        message = _SERVER_OPTION_ERRORS.get(name, "the options must be a JSON object")
        return OptionsError(message, name=name or "options")


_SERVER_OPTION_ERRORS = {
    "metadata": "metadata must be a JSON object",
    "tags": "tags must be a list of strings",
    "async": "async must be true or false",
}


#: The names of the server's own options, as sent.
SERVER_OPTIONS = frozenset(f.alias or name for name, f in ServerOptions.model_fields.items())

#: Documented Mathpix ``/v3/text`` options that scipix accepts and does not apply (yet).
ACCEPTED_NOT_APPLIED = frozenset(
    {
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


def accepted_fields(names: Iterable[str]) -> dict[str, Any]:
    """``create_model`` fields for options accepted with any value and not applied."""
    doc = "A Mathpix option that scipix accepts and does not apply."
    return {name: (Any, Field(None, description=doc)) for name in sorted(names)}


class _TextBody(RecognizeOptions, ServerOptions, ImageSource):
    model_config = ConfigDict(frozen=True, extra="forbid")


TextRequest = create_model(
    "TextRequest",
    __base__=_TextBody,
    __module__=__name__,
    __doc__="The JSON body of ``POST /v3/text``: the image and its options.",
    **accepted_fields(ACCEPTED_NOT_APPLIED),
)


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


def server_options(options: dict[str, Any], principal: Principal) -> ServerOptions:
    """Check ``metadata``, ``tags``, ``async`` and ``callback`` (the other keys are ignored)."""
    server = ServerOptions.model_validate(options)
    if server.is_async and principal.via_token:
        raise TokenError("async requests are not allowed with an app_token")
    if server.callback is not None:
        raise CallbackError(
            "callbacks are not supported by scipix: leave out callback and poll the result",
            post=None,
        )
    return server


def call_options(
    recognize: RecognizeOptions, server: ServerOptions, sent: dict[str, Any]
) -> CallOptions:
    return CallOptions(
        recognize=recognize,
        tags=tuple(server.tags or ()),
        metadata=server.metadata or {},
        is_async=server.is_async,
        request_args=sent,
    )


def text_options(options: dict[str, Any], principal: Principal) -> CallOptions:
    """The options of a ``/v3/text`` request (``src`` already removed)."""
    server = server_options(options, principal)
    sent = dict(options)  # no formats: text + latex_styled (RecognizeOptions' default)
    recognize = RecognizeOptions.from_request(options, ignore=_NOT_RECOGNIZE)
    return call_options(recognize, server, sent)
