"""The one exception hierarchy of scipix, and its table of Mathpix-style error ids.

Every module raises from this tree; the REST server, the CLI and the MCP server turn an error
into a Mathpix-shaped body ``{"error": message, "error_info": {"id": ..., "message": ...}}``
with the HTTP status from :data:`ERROR_TABLE`.

::

    ScipixError                      sys_exception            500
    ├── InputError                   (bad input: the caller can fix it)
    │   ├── ImageError
    │   │   ├── ImageMissingError        image_missing            200
    │   │   ├── ImageDecodeError         image_decode_error       200
    │   │   ├── ImageTooLargeError       image_max_size           200
    │   │   ├── ImageNoContentError      image_no_content         200
    │   │   ├── ImageNotSupportedError   image_not_supported      200
    │   │   └── ImageDownloadError       image_download_error     200
    │   ├── RequestError
    │   │   ├── JsonSyntaxError          json_syntax              200
    │   │   ├── RequestTooLargeError     sys_request_too_large    200
    │   │   ├── OptionsError             opts_bad_format          200
    │   │   │   ├── UnknownFormatError   opts_unknown_format      200
    │   │   │   ├── UnknownOcrError      opts_unknown_ocr         200
    │   │   │   ├── NumberRequiredError  opts_number_required     200
    │   │   │   └── ValueOutOfRangeError opts_value_out_of_range  200
    │   │   └── BatchUnknownIdError      batch_unknown_id         200
    │   ├── LatexError                   math_syntax              200
    │   ├── PdfError                     pdf_error                200
    │   │   ├── PdfMissingError          pdf_missing              200
    │   │   ├── PdfDecodeError           pdf_decode_error         200
    │   │   ├── PdfEncryptedError        pdf_encrypted            200
    │   │   ├── PdfUnknownIdError        pdf_unknown_id           200
    │   │   └── PdfPageLimitError        pdf_page_limit_exceeded  200
    │   └── ConfigError                  config_invalid           400
    ├── ConfidenceError                  math_confidence          200
    ├── AuthError                        http_unauthorized        401
    │   └── TokenError                   unauthorized_token_request 200
    ├── RateLimitError                   http_max_requests        429
    ├── ModelError                       model_unavailable        503
    ├── StoreError                       store_error              500
    └── TrustError                       attestation_invalid      400

Mathpix answers most errors with HTTP 200 and the error in the body; only authentication (401)
and rate limits (429) change the status. Our own ids (``config_invalid``, ``model_unavailable``,
``store_error``, ``attestation_invalid``, ``pdf_decode_error``) follow the same naming.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class ErrorKind:
    """One row of the error table: the Mathpix-style id and the HTTP status it travels with."""

    id: str
    http_status: int


class ScipixError(Exception):
    """Base of every scipix error. ``detail`` holds Mathpix's extra ``error_info`` fields."""

    error_id: ClassVar[str] = "sys_exception"

    def __init__(self, message: str, **detail: Any) -> None:
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
    """The input (image, PDF, LaTeX, option, config) is wrong; the caller can fix it."""

    error_id = "opts_bad_format"


class ImageError(InputError):
    error_id = "image_decode_error"


class ImageMissingError(ImageError):
    error_id = "image_missing"


class ImageDecodeError(ImageError):
    error_id = "image_decode_error"


class ImageTooLargeError(ImageError):
    error_id = "image_max_size"


class ImageNoContentError(ImageError):
    error_id = "image_no_content"


class ImageNotSupportedError(ImageError):
    error_id = "image_not_supported"


class ImageDownloadError(ImageError):
    error_id = "image_download_error"


class RequestError(InputError):
    error_id = "opts_bad_format"


class JsonSyntaxError(RequestError):
    error_id = "json_syntax"


class RequestTooLargeError(RequestError):
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


class BatchUnknownIdError(RequestError):
    error_id = "batch_unknown_id"


class LatexError(InputError):
    """Malformed LaTeX. ``position`` is the 0-based character offset of the problem."""

    error_id = "math_syntax"

    def __init__(self, message: str, position: int | None = None, **detail: Any) -> None:
        super().__init__(message, position=position, **detail)
        self.position = position


class PdfError(InputError):
    error_id = "pdf_error"


class PdfMissingError(PdfError):
    error_id = "pdf_missing"


class PdfDecodeError(PdfError):
    error_id = "pdf_decode_error"


class PdfEncryptedError(PdfError):
    error_id = "pdf_encrypted"


class PdfUnknownIdError(PdfError):
    error_id = "pdf_unknown_id"


class PdfPageLimitError(PdfError):
    error_id = "pdf_page_limit_exceeded"


class ConfigError(InputError):
    """A configuration file or value is invalid (the CLI exits with code 2)."""

    error_id = "config_invalid"


class ConfidenceError(ScipixError):
    """The result's confidence is below the requested ``confidence_threshold``."""

    error_id = "math_confidence"


class AuthError(ScipixError):
    error_id = "http_unauthorized"


class TokenError(AuthError):
    error_id = "unauthorized_token_request"


class RateLimitError(ScipixError):
    error_id = "http_max_requests"


class ModelError(ScipixError):
    """Model weights are missing, unreadable or inconsistent with the code."""

    error_id = "model_unavailable"


class StoreError(ScipixError):
    """A persistent store (keys, history, memory) failed; stored data is left intact."""

    error_id = "store_error"


class TrustError(ScipixError):
    """An attestation is forged, malformed or from an unknown worker."""

    error_id = "attestation_invalid"


#: The one table: error id -> HTTP status (Mathpix: 200 for everything but 401 and 429).
ERROR_TABLE: dict[str, ErrorKind] = {
    kind.id: kind
    for kind in (
        ErrorKind("sys_exception", 500),
        ErrorKind("image_missing", 200),
        ErrorKind("image_decode_error", 200),
        ErrorKind("image_max_size", 200),
        ErrorKind("image_no_content", 200),
        ErrorKind("image_not_supported", 200),
        ErrorKind("image_download_error", 200),
        ErrorKind("json_syntax", 200),
        ErrorKind("sys_request_too_large", 200),
        ErrorKind("opts_bad_format", 200),
        ErrorKind("opts_unknown_format", 200),
        ErrorKind("opts_unknown_ocr", 200),
        ErrorKind("opts_number_required", 200),
        ErrorKind("opts_value_out_of_range", 200),
        ErrorKind("batch_unknown_id", 200),
        ErrorKind("math_syntax", 200),
        ErrorKind("math_confidence", 200),
        ErrorKind("pdf_error", 200),
        ErrorKind("pdf_missing", 200),
        ErrorKind("pdf_decode_error", 200),
        ErrorKind("pdf_encrypted", 200),
        ErrorKind("pdf_unknown_id", 200),
        ErrorKind("pdf_page_limit_exceeded", 200),
        ErrorKind("config_invalid", 400),
        ErrorKind("http_unauthorized", 401),
        ErrorKind("unauthorized_token_request", 200),
        ErrorKind("http_max_requests", 429),
        ErrorKind("model_unavailable", 503),
        ErrorKind("store_error", 500),
        ErrorKind("attestation_invalid", 400),
    )
}


def error_classes() -> list[type[ScipixError]]:
    """Every class of the tree, depth first (used by tests to check the table is complete)."""
    found: list[type[ScipixError]] = []
    stack: list[type[ScipixError]] = [ScipixError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(reversed(cls.__subclasses__()))
    return found
