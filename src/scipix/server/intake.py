"""Reading an image request the way Mathpix accepts it, within the size limits.

Two body forms (Mathpix ``/v3/text``, ``/v3/latex``):

* JSON: ``{"src": "data:image/png;base64,..." | "https://...", ...options}``;
* ``multipart/form-data``: a ``file`` part (the image) and an ``options_json`` field.

The body is read in chunks and refused (``sys_request_too_large``) as soon as it passes
``server.max_body_bytes``; a base64 image is refused past ``server.max_image_bytes``.
:class:`ImageSource` and :class:`ImageForm` describe both forms in the OpenAPI schema.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import BaseModel, Field
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.types import Message

from scipix.errors import (
    ImageDecodeError,
    ImageMissingError,
    JsonSyntaxError,
    OptionsError,
    RequestTooLargeError,
)
from scipix.schema import OptionsModel
from scipix.server.fetch import fetch_image
from scipix.settings import ServerSettings

_DATA_URI = re.compile(
    r"^data:(?P<type>[\w.+/-]*)(?P<params>(;[\w.+-]+=[^;,]*)*)(?P<b64>;base64)?,"
)
_MAX_FORM_FIELDS = 16
_PARSE_INLINE_BYTES = 256 * 1024


class ImageSource(OptionsModel):
    """The image of a JSON body (the rest of the body is options)."""

    src: str | None = Field(
        None,
        description="The image: a data URI (data:image/png;base64,...) or an http(s) URL"
        " (fetched only when the server allows it).",
    )


class ImageForm(BaseModel):
    """A ``multipart/form-data`` body: the image file and the options as one JSON field."""

    file: bytes = Field(b"", description="The image file.")
    options_json: str = Field(
        "{}", description="Every option, as one JSON object (the JSON body without src)."
    )


#: The fields of a multipart body; any other is refused.
FORM_FIELDS = tuple(ImageForm.model_fields)


@dataclass(frozen=True)
class ImageRequest:
    """What a request carries: the image (bytes, or a URL still to fetch) and the options."""

    image: bytes | None
    url: str | None
    options: dict[str, Any]
    multipart: bool

    async def image_bytes(self, settings: ServerSettings) -> bytes:
        if self.image is not None:
            return self.image
        if self.url is not None:
            return await fetch_image(self.url, settings)
        raise ImageMissingError("No image: send src (a data URI or URL) or a multipart file")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise RequestTooLargeError(f"Request body is larger than {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLargeError(f"Request body is larger than {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_object(body: bytes, what: str = "request body") -> dict[str, Any]:
    """A JSON object, or ``json_syntax`` saying what is wrong."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise JsonSyntaxError(f"The {what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise JsonSyntaxError(f"The {what} must be a JSON object, got {type(value).__name__}")
    return value


def decode_data_uri(src: str, max_bytes: int) -> bytes:
    """The bytes of ``data:image/...;base64,...`` (or of bare base64)."""
    match = _DATA_URI.match(src[:512])
    payload = src[match.end() :] if match else src
    if match and not match.group("b64"):
        raise ImageDecodeError("src data URI must be base64 encoded (data:image/png;base64,...)")
    payload = "".join(payload.split())
    if len(payload) * 3 // 4 > max_bytes + 3:
        raise RequestTooLargeError(f"The base64 image is larger than {max_bytes} bytes")
    try:
        data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ImageDecodeError(
            "src is not valid base64 (expected data:image/...;base64,...)"
        ) from None
    if len(data) > max_bytes:
        raise RequestTooLargeError(f"The base64 image is larger than {max_bytes} bytes")
    if not data:
        raise ImageDecodeError("The image in src is empty")
    return data


def image_from_src(
    options: dict[str, Any], settings: ServerSettings
) -> tuple[bytes | None, str | None]:
    """Split ``src`` off the options: image bytes for a data URI, a URL to fetch for http(s)."""
    src = options.pop("src", None)
    if src is None or src == "":
        return None, None
    if not isinstance(src, str):
        raise OptionsError("src must be a string: a data URI or an http(s) URL", name="src")
    lowered = src[:8].lower()
    if lowered.startswith(("http://", "https://")):
        return None, src
    return decode_data_uri(src, settings.max_image_bytes), None


def _replay(body: bytes) -> Any:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def parse_form(request: Request, max_files: int, max_fields: int) -> FormData:
    """The form in ``request``'s body; one that cannot be parsed is ``JsonSyntaxError`` (a size
    limit met while the body streams in stays ``RequestTooLargeError``)."""
    try:
        return await request.form(max_files=max_files, max_fields=max_fields)
    except RequestTooLargeError:
        raise
    except Exception as exc:  # starlette raises its own MultiPartException / KeyError forms
        raise JsonSyntaxError(f"The multipart body cannot be parsed: {exc}") from None


async def form_options(
    form: FormData, fields: Container[str], what: str, max_bytes: int = -1
) -> dict[str, Any]:
    """The ``options_json`` field of ``form`` as a JSON object (read up to ``max_bytes`` when sent
    as a file), after refusing any field not in ``fields``; ``what`` is the name of the file."""
    unknown = [name for name in form if name not in fields]
    if unknown:
        raise OptionsError(
            f"form field {unknown[0]!r} is not understood: send the {what} as 'file' and"
            " every option in one JSON 'options_json' field",
            name=unknown[0],
        )
    raw = form.get("options_json")
    if isinstance(raw, UploadFile):
        raw = (await raw.read(max_bytes)).decode("utf-8", "replace")
    return parse_json_object((raw or "").encode(), "options_json field")


async def read_multipart(request: Request, body: bytes) -> tuple[bytes | None, dict[str, Any]]:
    """``file`` and ``options_json`` from a form body already read (and size-checked)."""
    replay = Request(request.scope, receive=_replay(body))
    form = await parse_form(replay, max_files=2, max_fields=_MAX_FORM_FIELDS)
    try:
        options = await form_options(form, FORM_FIELDS, "image")
        upload = form.get("file")
        if upload is None:
            return None, options
        if isinstance(upload, str):
            return upload.encode("latin-1", "replace"), options
        data = await upload.read()
    finally:
        await form.close()
    if not data:
        raise ImageDecodeError("The uploaded file is empty")
    return data, options


def _looks_like_json(body: bytes) -> bool:
    """``curl -d '{...}'`` sends JSON labelled as a form: accept it as JSON."""
    return body.lstrip()[:1] in (b"{", b"[")


async def read_image_request(request: Request, settings: ServerSettings) -> ImageRequest:
    """Parse a ``/v3/text``-style request: JSON with ``src``, or multipart ``file``."""
    body = await read_body(request, settings.max_body_bytes)
    content_type = request.headers.get("content-type", "").lower()
    is_form = content_type.startswith("application/x-www-form-urlencoded")
    if content_type.startswith("multipart/form-data") or (is_form and not _looks_like_json(body)):
        image, options = await read_multipart(request, body)
        src_image, url = image_from_src(options, settings)
        return ImageRequest(image if image is not None else src_image, url, options, True)
    if len(body) < _PARSE_INLINE_BYTES:
        options = parse_json_object(body)
        image, url = image_from_src(options, settings)
    else:  # megabytes of JSON and base64: decoded off the event loop
        options = await anyio.to_thread.run_sync(parse_json_object, body)
        image, url = await anyio.to_thread.run_sync(image_from_src, options, settings)
    return ImageRequest(image, url, options, False)
