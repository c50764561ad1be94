"""Console pages of the quarantine: loads with quarantined rows, and one load's reasons, values and rows.

Both need `ingest:quarantine` and call the same service as the API (lingxi.ingest.review), so the page
cannot show more than the API: values masked for the role, every read of sample rows audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from lingxi.api.deps import requires
from lingxi.api.state import AppState, State
from lingxi.auth.scope import Principal
from lingxi.ingest.masked import WITHHELD
from lingxi.ingest.review import (
    MAX_SAMPLES,
    QUARANTINE_PERMISSION,
    LoadReview,
    QuarantinedLoad,
    quarantined_loads,
    review_for,
)
from lingxi.web.pages import chrome
from lingxi.web.render import render

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Principal, Depends(requires(QUARANTINE_PERMISSION))]


@router.get("/quarantine")
def quarantine_page(request: Request, principal: Reviewer, state: State) -> Response:
    """Every load that quarantined rows, per table, with its counts by reason."""
    loads = quarantined_loads(state.store)
    return render(request, "quarantine.html", **chrome(request, principal, "quarantine.title"), loads=loads)


@router.get("/quarantine/{table}")
async def quarantine_load_page(
    table: Annotated[str, Path(pattern=r"^[a-z][a-z_]{0,63}$")],
    request: Request,
    principal: Reviewer,
    state: State,
    load: Annotated[str | None, Query(pattern=r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$")] = None,
    reason: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,63}$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SAMPLES)] = 50,
) -> Response:
    """One load's quarantine (default: the table's latest): reasons, top values, mapping lines, sample rows."""
    review, loads = await run_in_threadpool(_review, state, principal, table, load, reason, limit)
    context = chrome(request, principal, "quarantine.title")
    return render(request, "quarantine_load.html", **context, review=review, loads=loads, withheld=WITHHELD)


def _review(
    state: AppState, principal: Principal, table: str, load: str | None, reason: str | None, limit: int
) -> tuple[LoadReview, list[QuarantinedLoad]]:
    with state.request_engine() as engine:
        review = review_for(state.lake, engine, principal, table, load_id=load, reason=reason, limit=limit)
    return review, quarantined_loads(state.store, review.table)
