"""The options of ``POST /v3/pdf``: what the documents package reads (:class:`DocumentOptions`),
what the server acts on (``url``, ``metadata``, ``conversion_formats``), and Mathpix options
accepted without effect. Unknown names are refused (``opts_bad_format``), as on ``/v3/text``.

:class:`PdfRequest` (the JSON body in the OpenAPI schema) is made of the models that check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, Field, create_model

from scipix.documents import DocumentOptions
from scipix.documents.browser import require_browser
from scipix.documents.convert import require_tex_engine
from scipix.errors import CallbackError, UnknownFormatError
from scipix.schema import OptionsModel
from scipix.server.callbacks import CallbackOptions, callback_of
from scipix.server.options import accepted_fields

#: What a finished document can be downloaded as (``GET /v3/pdf/{id}.{ext}``).
OUTPUT_FORMATS = (
    "mmd",
    "md",
    "lines.json",
    "lines.mmd.json",
    "docx",
    "tex.zip",
    "md.zip",
    "mmd.zip",
    "html",
    "html.zip",
    "pptx",
    "latex.pdf",
    "pdf",
)
#: Made as soon as the pages are read; the others (conversions) after, or when first asked.
TEXT_OUTPUTS = ("mmd", "md", "lines.json", "lines.mmd.json")
#: Mathpix conversions scipix does not make (asking for one is refused at once).
NOT_MADE = ("xlsx", "mmd.overlay.pdf")

#: Mathpix ``/v3/pdf`` options accepted and not applied.
PDF_ACCEPTED_NOT_APPLIED = frozenset(
    {
        "alphabets_allowed",
        "rm_spaces",
        "rm_fonts",
        "idiomatic_eqn_arrays",
        "include_equation_tags",
        "include_smiles",
        "include_chemistry_as_image",
        "include_diagram_text",
        "numbers_default_to_math",
        "enable_spell_check",
        "auto_number_sections",
        "remove_section_numbering",
        "preserve_section_numbering",
        "enable_tables_fallback",
        "fullwidth_punctuation",
        "disable_itemize",
        "disable_lstlisting",
        "include_page_info",
        "include_page_breaks",
        "include_hyperlinks",
        "conversion_options",
        "file_batch_id",
    }
)
#: mpxpy's older webhook fields ("not yet enabled" there): refused (``opts_bad_callback``); the
#: callbacks scipix delivers are named by ``callback_url`` / ``callback`` (server/callbacks.py).
CALLBACKS = (
    "webhook_url",
    "mathpix_webhook_secret",
    "webhook_payload",
    "webhook_enabled_events",
)


class PdfServerOptions(OptionsModel):
    """The options the server acts on itself (the other keys are left to others)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    url: str | None = Field(
        None,
        max_length=4096,
        description="The document's http(s) URL (JSON body only; fetched when the server"
        " allows it), instead of a multipart file.",
    )
    metadata: dict[str, Any] | None = Field(
        None, description='{"improve_mathpix": false} keeps the pages out of history.'
    )
    conversion_formats: dict[str, bool] | None = Field(
        None,
        description="Formats to make once the pages are read, as {format: true}: "
        + ", ".join(OUTPUT_FORMATS)
        + " (mmd, md and lines.json are always made).",
    )
    streaming: bool = Field(
        False,
        strict=True,
        description="Read the pages as they come from GET /v3/pdf/{pdf_id}/stream (server-sent"
        " events; scipix streams every document).",
    )


def _refused_fields(names: tuple[str, ...]) -> dict[str, Any]:
    doc = "Not supported (opts_bad_callback): use callback_url."
    return {name: (Any, Field(None, description=doc)) for name in names}


class _PdfBody(DocumentOptions, PdfServerOptions, CallbackOptions):
    model_config = ConfigDict(frozen=True, extra="forbid")


PdfRequest = create_model(
    "PdfRequest",
    __base__=_PdfBody,
    __module__=__name__,
    __doc__="The JSON body of ``POST /v3/pdf`` (the options_json of a multipart upload).",
    **accepted_fields(PDF_ACCEPTED_NOT_APPLIED),
    **_refused_fields(CALLBACKS),
)


@dataclass(frozen=True)
class PdfCall:
    """A checked ``/v3/pdf`` request."""

    url: str | None
    conversions: tuple[str, ...]
    improve_mathpix: bool
    request_args: dict[str, Any]


def pdf_options(options: dict[str, Any]) -> PdfCall:
    """Check a ``/v3/pdf`` body (or ``options_json``): unknown names, bad values, malformed
    callbacks and formats scipix does not make are refused here, before anything is stored."""
    checked = PdfRequest.model_validate(options)
    for name in CALLBACKS:
        if options.get(name) not in (None, [], {}):
            raise CallbackError(
                f"{name} is not supported by scipix: name the URL in callback_url",
                name=name,
            )
    checked.select_pages(1)  # a malformed page_ranges is refused now, not after the upload
    callback_of(options)  # its shape; the server's rules: server.callbacks.checked_callback
    server = PdfServerOptions.model_validate(options)
    wanted = [fmt for fmt, on in (server.conversion_formats or {}).items() if on]
    for fmt in wanted:
        if fmt not in OUTPUT_FORMATS:
            made = ", ".join(OUTPUT_FORMATS)
            why = "scipix does not make" if fmt in NOT_MADE else "unknown format"
            message = f"conversion_formats: {why} {fmt!r} (made: {made})"
            raise UnknownFormatError(message, formats=fmt)
    if "latex.pdf" in wanted:
        require_tex_engine()  # refused now, with what to install, when there is none
    if "pdf" in wanted:
        require_browser()
    metadata = server.metadata or {}
    args = {k: v for k, v in options.items() if k != "url"}
    return PdfCall(
        url=server.url,
        conversions=tuple(dict.fromkeys(wanted)),
        improve_mathpix=metadata.get("improve_mathpix", True) is not False,
        request_args=args,
    )


def document_options(request_args: dict[str, Any], dpi: int) -> DocumentOptions:
    """The documents package's options of a stored request (``dpi``: the server's default)."""
    return DocumentOptions.from_mathpix(request_args, dpi=dpi)


def requested_conversions(request_args: dict[str, Any]) -> tuple[str, ...]:
    """The formats a stored request named in ``conversion_formats``."""
    wanted = request_args.get("conversion_formats") or {}
    return tuple(fmt for fmt, on in wanted.items() if on) if isinstance(wanted, dict) else ()
