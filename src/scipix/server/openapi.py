"""The OpenAPI document, generated from the pydantic models of the bodies.

The routes read their bodies themselves (JSON or multipart, size-limited, Mathpix's errors), so
FastAPI cannot infer a body from a parameter: each route names its body's model instead
(``openapi_extra=request_body(TextRequest, form=ImageForm)``), the model that checks the body or
one made of those. :func:`install_openapi` then files each body and the models it uses
(``$defs``) under ``components/schemas``, where their ``$ref`` point. Responses come from the
response models the routes declare. FastAPI's 422 answer (``HTTPValidationError``) is left out:
the server answers a bad parameter with a Mathpix error, as any other bad input.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

REF = "#/components/schemas/"
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")


def request_body(
    model: type[BaseModel], *, form: type[BaseModel] | None = None, required: bool = True
) -> dict[str, Any]:
    """``openapi_extra`` for a route whose body is ``model`` as JSON (or ``form`` as multipart)."""
    content = {"application/json": {"schema": model_schema(model)}}
    if form is not None:
        content["multipart/form-data"] = {"schema": model_schema(form)}
    return {"requestBody": {"required": required, "content": content}}


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of ``model``; its ``$defs`` still to be filed by :func:`finish_openapi`."""
    return model.model_json_schema(ref_template=REF + "{model}")


def install_openapi(app: FastAPI) -> None:
    """Serve FastAPI's document as :func:`finish_openapi` completes it."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            # FastAPI's document shares dicts with the routes' openapi_extra: finish a copy
            app.openapi_schema = finish_openapi(copy.deepcopy(FastAPI.openapi(app)))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def finish_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """File the request bodies under ``components/schemas`` and drop FastAPI's 422 answers."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "title" in media.get("schema", {}):
                    media["schema"] = _file_schema(media["schema"], schemas)
            responses = operation.get("responses", {})
            if _FASTAPI_422[0] in json.dumps(responses.get("422", {})):
                del responses["422"]
    text = json.dumps(document["paths"])
    for name in _FASTAPI_422:
        if f'"{REF}{name}"' not in text:
            schemas.pop(name, None)
    return document


def _file_schema(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """Put ``schema`` and its ``$defs`` in ``schemas``; a reference to it in its place."""
    named = {**schema.pop("$defs", {}), schema["title"]: schema}
    for name, definition in named.items():
        if schemas.setdefault(name, definition) != definition:
            raise ValueError(f"two different OpenAPI schemas are named {name!r}: rename one model")
    return {"$ref": REF + schema["title"]}
