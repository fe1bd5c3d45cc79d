"""Errors as Mathpix returns them: ``{"error": msg, "error_info": {"id", "message", ...}}``.

HTTP 200 for input problems, 401 for credentials, 429 for rate limits (the status comes from
:data:`scipix.errors.ERROR_TABLE`). Nothing internal (no stack trace, no exception text of an
unexpected error) ever reaches a response body.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from scipix.errors import (
    NumberRequiredError,
    OptionsError,
    RequestError,
    ScipixError,
    ValueOutOfRangeError,
)

log = logging.getLogger("scipix.server")

_NUMBER_TYPES = {"int_parsing", "int_type", "float_parsing", "float_type", "int_from_float"}
_RANGE_TYPES = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def error_response(error: ScipixError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.to_mathpix(), status_code=error.http_status, headers=headers)


def plain_error(error_id: str, message: str, status: int) -> JSONResponse:
    body = {"error": message, "error_info": {"id": error_id, "message": message}}
    return JSONResponse(body, status_code=status)


def validation_error(errors: list[Any]) -> RequestError:
    """The Mathpix error for FastAPI's parameter validation (query and path parameters)."""
    first = errors[0] if errors else {"loc": (), "type": "", "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "header", "body")]
    name = ".".join(loc) or "request"
    value = first.get("input")
    kind = str(first.get("type", ""))
    shown = repr(value) if isinstance(value, str | int | float | bool) else "a value"
    if kind in _NUMBER_TYPES:
        return NumberRequiredError(f"parameter '{name}' must be a number (got {shown})", name=name)
    if kind in _RANGE_TYPES:
        msg = f"parameter '{name}' is out of range: {str(first.get('msg', '')).lower()}"
        return ValueOutOfRangeError(msg, name=name, value=value if isinstance(value, str) else None)
    msg = f"parameter '{name}': {str(first.get('msg', 'invalid')).lower()} (got {shown})"
    return OptionsError(msg, name=name)


async def _scipix_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ScipixError):  # registered for ScipixError only
        return await _unexpected(request, exc)
    if exc.http_status >= 500:
        log.error("%s %s: %s: %s", request.method, request.url.path, exc.error_id, exc.message)
    headers = {"Retry-After": "60"} if exc.error_id == "http_max_requests" else None
    return error_response(exc, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError | ValidationError) else []
    return error_response(validation_error(list(errors)))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # registered for HTTPException only
        return await _unexpected(request, exc)
    ids = {404: "http_not_found", 405: "http_method_not_allowed"}
    error_id = ids.get(exc.status_code, f"http_{exc.status_code}")
    message = str(exc.detail) if exc.status_code < 500 else "Internal server error"
    response = plain_error(error_id, message, exc.status_code)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error in %s %s", request.method, request.url.path)
    error = ScipixError("Internal error: the request was not processed; try again")
    return error_response(error)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ScipixError, _scipix_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
