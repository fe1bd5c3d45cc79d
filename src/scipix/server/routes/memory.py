"""``GET /v3/memory/search``: the caller's stored readings like a formula (scipix's own route).

Only the key's own readings are searched (its scope is its ``app_id``): ``latex`` is the formula
(valid LaTeX, else ``math_syntax``), ``k`` how many to return (1-100). Each result says how it
matches: ``exact`` (same canonical form), ``symbolic`` (SymPy finds them equal) or ``similar``
(near in the structural LaTeX embedding), equivalent ones first.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from scipix.errors import InputError, OptionsError
from scipix.memory.search import search_formula
from scipix.server.auth import Principal
from scipix.server.deps import key_or_token_principal
from scipix.server.state import server_state

router = APIRouter(tags=["memory"])
MAX_LATEX_CHARS = 20_000


@router.get(
    "/v3/memory/search",
    summary="Find this key's stored readings by formula (scipix)",
    response_model=None,
)
async def memory_search(
    request: Request,
    principal: Annotated[Principal, Depends(key_or_token_principal)],
    latex: Annotated[str, Query(description="The formula, in LaTeX.")] = "",
    k: Annotated[int, Query(description="How many results (1-100).")] = 10,
) -> JSONResponse:
    """``?latex=...&k=10`` -> ``{"results": [{id, score, match, latex, request_id, time}]}``."""
    state = server_state(request)
    if not latex.strip():
        raise OptionsError("latex (the formula to search for) is required", name="latex")
    if len(latex) > MAX_LATEX_CHARS:
        raise OptionsError(f"latex is longer than {MAX_LATEX_CHARS} characters", name="latex")
    if not 1 <= k <= 100:
        raise OptionsError("k must be between 1 and 100", name="k")
    opener = getattr(state.service, "memory_store", None)
    store = opener() if opener is not None else None
    if store is None:
        raise InputError("the memory is off on this server (memory.enabled)")
    search = partial(
        search_formula,
        store,
        latex,
        k,
        scope=principal.app_id,
        dim=state.settings.memory.latex_dim,
    )
    found = await anyio.to_thread.run_sync(search, limiter=state.limiter)
    results: list[dict[str, Any]] = [f.to_json() for f in found]
    return JSONResponse({"results": results})
