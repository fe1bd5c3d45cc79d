"""``POST /v3/corrections``: a person's corrected LaTeX for a result, a verdict for learning.

The LaTeX must be valid (else ``math_syntax``, nothing kept). The correction is kept in the
server's ledger and given to the learning loop (``Scipix.correct``, ``scipix.learning``) in the
key's scope: the same or a near-identical image sent with this key is then answered with it
(``corrected: true``), never an image sent with another key (``learning.scope = "key"``).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from scipix.errors import OptionsError
from scipix.learning.loop import checked_latex
from scipix.server.auth import Principal
from scipix.server.deps import key_or_token_principal
from scipix.server.intake import decode_data_uri, parse_json_object, read_body
from scipix.server.openapi import request_body
from scipix.server.state import ServerState, server_state

router = APIRouter(tags=["corrections"])
MAX_LATEX_CHARS = 20_000


class CorrectionRequest(BaseModel):
    """The JSON body of ``POST /v3/corrections`` (checked by :func:`submit_correction`, whose
    errors are all ``opts_bad_format``; other keys are ignored)."""

    latex: str = Field(
        min_length=1,
        max_length=MAX_LATEX_CHARS,
        pattern=r"\S",
        description="The corrected LaTeX (not blank).",
    )
    request_id: str | None = Field(None, description="The request whose result is corrected.")
    original_latex: str | None = Field(None, description="The LaTeX that was wrong.")
    src: str | None = Field(None, description="The image, as a data URI.")


def _optional_str(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise OptionsError(f"{name} must be a string", name=name)
    return value


@router.post(
    "/v3/corrections",
    summary="Submit a corrected LaTeX for a result (scipix)",
    openapi_extra=request_body(CorrectionRequest),
    response_model=None,
)
async def submit_correction(
    request: Request, principal: Annotated[Principal, Depends(key_or_token_principal)]
) -> JSONResponse:
    """``{"latex": corrected, "request_id"?: ..., "src"?: data URI}`` ->
    ``{"correction_id": n, "request_id", "latex", "original_latex", "remembered"}``
    (``remembered``: the learning loop keeps it too)."""
    state = server_state(request)
    body = parse_json_object(await read_body(request, state.settings.server.max_body_bytes))
    latex = body.get("latex")
    if not isinstance(latex, str) or not latex.strip():
        raise OptionsError(
            "latex (the corrected LaTeX, a non-empty string) is required", name="latex"
        )
    if len(latex) > MAX_LATEX_CHARS:
        raise OptionsError(f"latex is longer than {MAX_LATEX_CHARS} characters", name="latex")
    checked_latex(latex)  # math_syntax: nothing is kept
    request_id = _optional_str(body.get("request_id"), "request_id")
    original = _optional_str(body.get("original_latex"), "original_latex")
    src = _optional_str(body.get("src"), "src")
    image = decode_data_uri(src, state.settings.server.max_image_bytes) if src else None
    remembered = await _learn(state, principal, latex, image, request_id, original)
    correction_id, stored_original = await anyio.to_thread.run_sync(
        state.ledger.add_correction, principal.app_id, latex, request_id, image, original
    )
    return JSONResponse(
        {
            "correction_id": correction_id,
            "request_id": request_id,
            "latex": latex,
            "original_latex": stored_original,
            "remembered": remembered,
        }
    )


async def _learn(
    state: ServerState,
    principal: Principal,
    latex: str,
    image: bytes | None,
    request_id: str | None,
    original: str | None,
) -> bool:
    """Give the correction to the learning loop (when the service has one: a service without
    a model or with ``learning.enabled`` off keeps it in the ledger only)."""
    correct = getattr(state.service, "correct", None)
    if correct is None or not state.settings.learning.enabled:
        return False
    await anyio.to_thread.run_sync(
        partial(correct, latex, image, principal.app_id, request_id=request_id, original=original),
        limiter=state.limiter,
    )
    return True
