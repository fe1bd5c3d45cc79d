"""The one exception hierarchy of scipix, and its table of Mathpix-style error ids.

Every module raises from this tree. The REST server, the CLI and the MCP server turn an error
into a Mathpix-shaped body ``{"error": message, "error_info": {"id": ..., "message": ...}}``
(:meth:`ScipixError.to_mathpix`, or :func:`mathpix_error` for any exception) with the HTTP
status from :data:`ERROR_TABLE`. The CLI exits with code 2 for an :class:`InputError` and 1 for
any other error.

::

    class                                error id                     HTTP
    ScipixError                          sys_exception                500
    ├── InputError                       opts_bad_format              200
    │   ├── ImageMissingError            image_missing                200
    │   ├── ImageDecodeError             image_decode_error           200
    │   ├── ImageTooLargeError           image_max_size               200
    │   ├── ImageNoContentError          image_no_content             200
    │   ├── ImageNotSupportedError       image_not_supported          200
    │   ├── ImageDownloadError           image_download_error         200
    │   ├── StrokesMissingError          strokes_missing              200
    │   ├── StrokesSyntaxError           strokes_syntax_error         200
    │   ├── StrokesNoContentError        strokes_no_content           200
    │   ├── RequestError                 opts_bad_format              200
    │   │   ├── JsonSyntaxError          json_syntax                  200
    │   │   ├── RequestTooLargeError     sys_request_too_large        200
    │   │   ├── OptionsError             opts_bad_format              200
    │   │   │   ├── UnknownFormatError   opts_unknown_format          200
    │   │   │   ├── UnknownOcrError      opts_unknown_ocr             200
    │   │   │   ├── NumberRequiredError  opts_number_required         200
    │   │   │   ├── ValueOutOfRangeError opts_value_out_of_range      200
    │   │   │   └── CallbackError        opts_bad_callback            200
    │   │   ├── BatchUnknownIdError      batch_unknown_id             200
    │   │   └── PdfUnknownIdError        pdf_unknown_id               200
    │   ├── PdfError                     pdf_decode_error             200
    │   │   ├── PdfMissingError          pdf_missing                  200
    │   │   ├── PdfEncryptedError        pdf_encrypted                200
    │   │   ├── PdfNoPagesError          pdf_no_pages                 200
    │   │   ├── PdfPageLimitError        pdf_page_limit_exceeded      200
    │   │   └── PdfPageSizeError         pdf_page_too_large           200
    │   ├── PathNotAllowedError          path_not_allowed             403
    │   ├── ClusterError                 cluster_unavailable          503
    │   ├── SyncError                    sync_invalid                 400
    │   ├── LatexError                   math_syntax                  200
    │   └── ConfigError                  config_invalid               400
    ├── ConfidenceError                  math_confidence              200
    ├── AuthError                        http_unauthorized            401
    │   └── TokenError                   unauthorized_token_request   200
    │       └── TokenUnknownError        token_unknown                200
    ├── RateLimitError                   http_max_requests            429
    ├── ModelError                       model_unavailable            503
    └── StoreError                       store_error                  500

Notes on the ids:

- Mathpix answers most errors with HTTP 200 and the error in the body; only authentication (401)
  and rate limits (429) change the status. We follow that for every id Mathpix defines, except
  ``sys_exception``: an internal failure is a 500 here, so that proxies, monitoring and client
  retry logic see it (Mathpix's clients decode the same envelope on any status).
- A too-large image is ``image_max_size``, Mathpix's real id (the issue that specified this
  module called it ``image_too_large``, which no Mathpix client knows). A too-large request body
  (JSON, multipart, base64 image) is ``sys_request_too_large``, also Mathpix's own id.
- Our own ids, for what Mathpix has no id for, follow the same naming: ``config_invalid``,
  ``model_unavailable`` and ``store_error``.
- Pen strokes (``/v3/strokes``, InkML) use Mathpix's three strokes ids. A stroke input over a
  configured limit (``[ink]``: strokes, points, coordinate range) is ``strokes_syntax_error`` with
  ``limit_name`` and ``limit_value`` in ``error_info``; malformed or unsafe InkML (not XML, an
  entity declaration, no traces) is ``strokes_syntax_error`` too.
- PDFs: ``pdf_missing``, ``pdf_encrypted`` and ``pdf_page_limit_exceeded`` are Mathpix's ids;
  ``pdf_decode_error`` (not a PDF, corrupt, truncated), ``pdf_no_pages`` and
  ``pdf_page_too_large`` (a page whose size is a rendering bomb) are ours. A PDF over the byte
  limit is ``sys_request_too_large``, as Mathpix answers a file over 1 GB.
- ``path_not_allowed`` (ours): the MCP server's tools read files only inside ``mcp.roots``; a
  path that leads out of them (``../``, an absolute path, a symlink) is refused.
- A class is here only while some code raises it: errors of features not built yet (PDFs, …)
  arrive with their feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class ErrorKind:
    """One row of the error table: the id, the HTTP status and the default en-US message."""

    id: str
    http_status: int
    message: str = ""


class ScipixError(Exception):
    """Base of every scipix error.

    ``message`` says what was wrong and how to fix it (the table's default message when left
    out); ``detail`` holds Mathpix's extra ``error_info`` fields (``url``, ``name``, ``value``,
    ``limit_name``, …). Every subclass can be built as ``cls(message)``, so errors pickle.
    """

    error_id: ClassVar[str] = "sys_exception"

    def __init__(self, message: str | None = None, **detail: Any) -> None:
        if message is None:
            message = ERROR_TABLE[self.error_id].message or self.error_id
        super().__init__(message)
        self.message = message
        self.detail = detail

    @property
    def kind(self) -> ErrorKind:
        return ERROR_TABLE[self.error_id]

    @property
    def http_status(self) -> int:
        return self.kind.http_status

    def to_mathpix(self) -> dict[str, Any]:
        """The Mathpix error envelope: ``{"error": msg, "error_info": {"id", "message", ...}}``."""
        info: dict[str, Any] = {"id": self.error_id, "message": self.message}
        info.update({k: v for k, v in self.detail.items() if v is not None})
        return {"error": self.message, "error_info": info}


class InputError(ScipixError):
    """The input (image, LaTeX, option, config) is wrong; the caller can fix it."""

    error_id = "opts_bad_format"


class ImageMissingError(InputError):
    error_id = "image_missing"


class ImageDecodeError(InputError):
    error_id = "image_decode_error"


class ImageTooLargeError(InputError):
    """Too many pixels or bytes (Mathpix's id ``image_max_size``)."""

    error_id = "image_max_size"


class ImageNoContentError(InputError):
    error_id = "image_no_content"


class ImageNotSupportedError(InputError):
    error_id = "image_not_supported"


class ImageDownloadError(InputError):
    error_id = "image_download_error"


class StrokesMissingError(InputError):
    error_id = "strokes_missing"


class StrokesSyntaxError(InputError):
    """Strokes or InkML that are malformed, unsafe or over a limit (``[ink]`` settings)."""

    error_id = "strokes_syntax_error"


class StrokesNoContentError(InputError):
    error_id = "strokes_no_content"


class RequestError(InputError):
    """A request (body, options, ids) is malformed."""

    error_id = "opts_bad_format"


class JsonSyntaxError(RequestError):
    error_id = "json_syntax"


class RequestTooLargeError(RequestError):
    """The request body is over the size limit (Mathpix's id ``sys_request_too_large``)."""

    error_id = "sys_request_too_large"


class OptionsError(RequestError):
    error_id = "opts_bad_format"


class UnknownFormatError(OptionsError):
    error_id = "opts_unknown_format"


class UnknownOcrError(OptionsError):
    error_id = "opts_unknown_ocr"


class NumberRequiredError(OptionsError):
    error_id = "opts_number_required"


class ValueOutOfRangeError(OptionsError):
    error_id = "opts_value_out_of_range"


class CallbackError(OptionsError):
    error_id = "opts_bad_callback"


class BatchUnknownIdError(RequestError):
    error_id = "batch_unknown_id"


class PdfUnknownIdError(RequestError):
    """A ``pdf_id`` that does not exist or is another key's (Mathpix's ``pdf_unknown_id``)."""

    error_id = "pdf_unknown_id"


class PdfError(InputError):
    """A document (PDF or page image) cannot be read: not a PDF, corrupt or truncated."""

    error_id = "pdf_decode_error"


class PdfMissingError(PdfError):
    """No document was given (an empty file or body)."""

    error_id = "pdf_missing"


class PdfEncryptedError(PdfError):
    """The PDF is encrypted (a password is needed to open it)."""

    error_id = "pdf_encrypted"


class PdfNoPagesError(PdfError):
    """The PDF opens but has no pages (or none in the selected range)."""

    error_id = "pdf_no_pages"


class PdfPageLimitError(PdfError):
    """The PDF has more pages than the limit (``documents.max_pages``)."""

    error_id = "pdf_page_limit_exceeded"


class PdfPageSizeError(PdfError):
    """A page is too large to render (a page-size bomb)."""

    error_id = "pdf_page_too_large"


class PathNotAllowedError(InputError):
    """A file path outside the folders a tool may read (``mcp.roots``), or a symlink out."""

    error_id = "path_not_allowed"


class LatexError(InputError):
    """Malformed LaTeX. ``position`` is the 0-based character offset of the problem."""

    error_id = "math_syntax"

    def __init__(
        self, message: str | None = None, position: int | None = None, **detail: Any
    ) -> None:
        super().__init__(message, position=position, **detail)
        self.position = position


class ConfigError(InputError):
    """A configuration file or ``SCIPIX_*`` variable is invalid (the CLI exits with code 2)."""

    error_id = "config_invalid"


class ClusterError(InputError):
    """The Ray cluster named by ``distributed.address`` (or ``--address``) cannot be reached, or
    the ``[ray]`` extra is not installed (the message gives the command)."""

    error_id = "cluster_unavailable"


class SyncError(InputError):
    """A replicated-state file (``scipix sync``) is malformed: nothing of it was merged."""

    error_id = "sync_invalid"


class ConfidenceError(ScipixError):
    """The result's confidence is below the requested ``confidence_threshold``."""

    error_id = "math_confidence"


class AuthError(ScipixError):
    error_id = "http_unauthorized"


class TokenError(AuthError):
    """An app token may not make this request (batch, async, a route that wants the key)."""

    error_id = "unauthorized_token_request"


class TokenUnknownError(TokenError):
    """An app token that does not exist (any more)."""

    error_id = "token_unknown"


class RateLimitError(ScipixError):
    error_id = "http_max_requests"


class ModelError(ScipixError):
    """Model weights are missing, unreadable or inconsistent with the code."""

    error_id = "model_unavailable"


class StoreError(ScipixError):
    """A persistent store (keys, history) failed; stored data is left intact."""

    error_id = "store_error"


#: The one table: error id -> HTTP status and default message (Mathpix: 200 but 401 and 429).
ERROR_TABLE: dict[str, ErrorKind] = {
    kind.id: kind
    for kind in (
        ErrorKind("sys_exception", 500, "Internal error"),
        ErrorKind("image_missing", 200, "No image was given"),
        ErrorKind("image_decode_error", 200, "The image could not be decoded"),
        ErrorKind("image_max_size", 200, "The image is too large to process"),
        ErrorKind("image_no_content", 200, "Image has no content"),
        ErrorKind("image_not_supported", 200, "The image is neither math nor text"),
        ErrorKind("image_download_error", 200, "The image could not be downloaded"),
        ErrorKind("strokes_missing", 200, "No strokes were given"),
        ErrorKind("strokes_syntax_error", 200, "The strokes are malformed"),
        ErrorKind("strokes_no_content", 200, "The strokes have no content"),
        ErrorKind("json_syntax", 200, "The request body is not valid JSON"),
        ErrorKind("sys_request_too_large", 200, "The request is too large"),
        ErrorKind("opts_bad_format", 200, "An option has a bad format"),
        ErrorKind("opts_unknown_format", 200, "Unknown format"),
        ErrorKind("opts_unknown_ocr", 200, "Unknown ocr option"),
        ErrorKind("opts_number_required", 200, "The option must be a number"),
        ErrorKind("opts_value_out_of_range", 200, "The option's value is out of range"),
        ErrorKind("opts_bad_callback", 200, "The callback options are invalid"),
        ErrorKind("batch_unknown_id", 200, "Unknown batch id"),
        ErrorKind("pdf_unknown_id", 200, "Unknown pdf_id"),
        ErrorKind("pdf_decode_error", 200, "The PDF could not be read"),
        ErrorKind("pdf_missing", 200, "No PDF was given"),
        ErrorKind("pdf_encrypted", 200, "The PDF is encrypted"),
        ErrorKind("pdf_no_pages", 200, "The PDF has no pages"),
        ErrorKind("pdf_page_limit_exceeded", 200, "The PDF has too many pages"),
        ErrorKind("pdf_page_too_large", 200, "A page of the PDF is too large to render"),
        ErrorKind("path_not_allowed", 403, "The path is outside the allowed folders"),
        ErrorKind("math_syntax", 200, "The LaTeX could not be parsed"),
        ErrorKind("math_confidence", 200, "The confidence is below the threshold"),
        ErrorKind("config_invalid", 400, "The configuration is invalid"),
        ErrorKind("http_unauthorized", 401, "Invalid credentials"),
        ErrorKind("unauthorized_token_request", 200, "The app token cannot make this request"),
        ErrorKind("token_unknown", 200, "Unknown app token"),
        ErrorKind("http_max_requests", 429, "Too many requests"),
        ErrorKind("model_unavailable", 503, "The recognition model is not available"),
        ErrorKind("store_error", 500, "A data store failed"),
        ErrorKind("cluster_unavailable", 503, "The Ray cluster cannot be reached"),
        ErrorKind("sync_invalid", 400, "The sync file is malformed"),
    )
}


def mathpix_error(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """The HTTP status and Mathpix body for any exception.

    A :class:`ScipixError` keeps its id, message and detail; anything else is an internal
    ``sys_exception`` whose message does not leak internals (log the exception separately).
    """
    error = exc if isinstance(exc, ScipixError) else ScipixError()
    return error.http_status, error.to_mathpix()


def error_classes() -> list[type[ScipixError]]:
    """Every class of the tree, depth first (tests check each is in the table and docstring)."""
    found: list[type[ScipixError]] = []
    stack: list[type[ScipixError]] = [ScipixError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(reversed(cls.__subclasses__()))
    return found
