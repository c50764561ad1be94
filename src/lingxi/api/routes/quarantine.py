"""The quarantine as JSON: loads with quarantined rows (counts), and one load's reasons and sample rows.

Both need `ingest:quarantine` (lingxi.ingest.capability). Sample rows and offending values are masked for
the caller's role and each read of them is audited (`quarantine_read`) in lingxi.ingest.review, the same
service the console's /quarantine pages call.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from lingxi.api.deps import requires
from lingxi.api.schemas_quarantine import QuarantinedLoadPublic, QuarantinedLoadsPublic, QuarantineReviewPublic
from lingxi.api.state import AppState, app_state
from lingxi.auth.scope import Principal
from lingxi.ingest.review import MAX_SAMPLES, QUARANTINE_PERMISSION, LoadReview, quarantined_loads, review_for

router = APIRouter(prefix="/api/v1/quarantine", tags=["quarantine"])
Reviewer = Annotated[Principal, Depends(requires(QUARANTINE_PERMISSION))]
State = Annotated[AppState, Depends(app_state)]
TableName = Annotated[str, Path(pattern=r"^[a-z][a-z_]{0,63}$", description="A contract table.")]
LoadId = Annotated[str | None, Query(pattern=r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$", description="Default: the latest.")]
Reason = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="A reason code.")]


@router.get("")
def list_quarantine(
    _: Reviewer, state: State, table: Annotated[str | None, Query(pattern=r"^[a-z][a-z_]{0,63}$")] = None
) -> QuarantinedLoadsPublic:
    """Loads that quarantined rows, per table newest first, with their counts by reason (no row values)."""
    loads = [QuarantinedLoadPublic.model_validate(asdict(q)) for q in quarantined_loads(state.store, table)]
    return QuarantinedLoadsPublic(data=loads, count=len(loads))


@router.get("/{table}")
def show_quarantine(
    table: TableName,
    principal: Reviewer,
    state: State,
    load_id: LoadId = None,
    reason: Reason = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SAMPLES)] = 20,
) -> QuarantineReviewPublic:
    """A load's quarantine: rows per reason, top offending values, mapping lines, sample rows; masked, audited."""
    with state.request_engine() as engine:
        review = review_for(state.lake, engine, principal, table, load_id=load_id, reason=reason, limit=limit)
    return public_review(review)


def public_review(review: LoadReview) -> QuarantineReviewPublic:
    return QuarantineReviewPublic.model_validate(
        {
            "table": review.table,
            "load": asdict(review.load) if review.load else None,
            "mapping_file": review.provenance.mapping,
            "reason": review.reason,
            "reasons": [asdict(r) for r in review.reasons],
            "samples": [asdict(s) for s in review.samples],
        }
    )
