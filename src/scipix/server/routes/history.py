"""``GET /v3/ocr-results`` (request history) and ``GET /v3/ocr-usage`` (usage counters)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from scipix.errors import OptionsError
from scipix.server.auth import Principal
from scipix.server.deps import app_key_principal, key_principal
from scipix.server.ledger import GROUP_FIELDS, ResultFilter, UsageQuery
from scipix.server.state import server_state

router = APIRouter(tags=["history"])
Page = Annotated[int, Query(ge=1, le=100000, description="1-based page")]
PerPage = Annotated[int, Query(ge=1, le=1000)]
Flag = Annotated[bool | None, Query()]
Text = Annotated[str | None, Query(max_length=256)]


def parse_date(value: str | None, name: str) -> float | None:
    """ISO 8601 date or date-time (``2025-04-16``, ``2025-04-16T10:00:00.000Z``); UTC if naive."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise OptionsError(
            f"parameter '{name}' must be an ISO 8601 date such as 2025-04-16 (got {value!r})",
            name=name,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@router.get("/v3/ocr-results", summary="Search past results (Mathpix v3/ocr-results)")
async def ocr_results(
    request: Request,
    principal: Annotated[Principal, Depends(app_key_principal)],
    page: Page = 1,
    per_page: PerPage = 100,
    from_date: Text = None,
    to_date: Text = None,
    app_id: Text = None,
    request_id: Text = None,
    pdf_id: Text = None,
    text: Text = None,
    text_display: Text = None,
    latex_styled: Text = None,
    tags: Annotated[list[str] | None, Query()] = None,
    is_printed: Flag = None,
    is_handwritten: Flag = None,
    contains_table: Flag = None,
    contains_chemistry: Flag = None,
    contains_diagram: Flag = None,
    contains_triangle: Flag = None,
    contains_algorithm: Flag = None,
    include_null_results: bool = False,
) -> JSONResponse:
    """``{"ocr_results": [{image_id, timestamp, duration, endpoint, request_args, result,
    detections}]}``, newest first; requests made with ``improve_mathpix: false`` are absent."""
    flags = {
        "is_printed": is_printed,
        "is_handwritten": is_handwritten,
        "contains_table": contains_table,
        "contains_chemistry": contains_chemistry,
        "contains_diagram": contains_diagram,
        "contains_triangle": contains_triangle,
        "contains_algorithm": contains_algorithm,
    }
    flt = ResultFilter(
        page=page,
        per_page=per_page,
        from_ts=parse_date(from_date, "from_date"),
        to_ts=parse_date(to_date, "to_date"),
        request_id=request_id,
        pdf_id=pdf_id,
        text=text,
        text_display=text_display,
        latex_styled=latex_styled,
        tags=tuple(tags or ()),
        detections={k: v for k, v in flags.items() if v is not None},
        include_null_results=include_null_results,
    )
    if app_id and app_id != principal.app_id:
        return JSONResponse({"ocr_results": []})  # other apps are not visible
    ledger = server_state(request).ledger
    found = await anyio.to_thread.run_sync(ledger.results, principal.app_id, flt)
    return JSONResponse({"ocr_results": found})


@router.get("/v3/ocr-usage", summary="Usage counts (Mathpix v3/ocr-usage)")
async def ocr_usage(
    request: Request,
    principal: Annotated[Principal, Depends(key_principal)],
    from_date: Text = None,
    to_date: Text = None,
    app_id: Text = None,
    usage_type: Text = None,
    request_args_hash: Text = None,
    group_by: Annotated[list[str] | None, Query()] = None,
    timespan: Literal["hour", "day", "month", "year"] = "month",
    page: Page = 1,
    per_page: PerPage = 100,
) -> JSONResponse:
    """``{"ocr_usage": [{from_date, app_id, usage_type, request_args_hash, count}]}``."""
    groups = tuple(dict.fromkeys(group_by or ["usage_type"]))
    for name in groups:
        if name not in GROUP_FIELDS:
            valid = ", ".join(GROUP_FIELDS)
            raise OptionsError(f"group_by {name!r} is not one of {valid}", name="group_by")
    query = UsageQuery(
        from_ts=parse_date(from_date, "from_date"),
        to_ts=parse_date(to_date, "to_date"),
        usage_type=usage_type,
        request_args_hash=request_args_hash,
        group_by=groups,
        timespan=timespan,
        page=page,
        per_page=per_page,
    )
    if app_id and app_id != principal.app_id:
        return JSONResponse({"ocr_usage": []})
    ledger = server_state(request).ledger
    found = await anyio.to_thread.run_sync(ledger.usage, principal.app_id, query)
    return JSONResponse({"ocr_usage": found})
