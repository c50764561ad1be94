"""The home dashboard's numbers, scoped to the caller's customers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from lingxi.api.deps import requires
from lingxi.api.schemas import Dashboard
from lingxi.api.state import AppState, app_state
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.customers import summary

router = APIRouter(prefix="/api/v1", tags=["dashboard"])


@router.get("/dashboard")
def dashboard(
    principal: Annotated[Principal, Depends(requires(Permission.CUSTOMER_READ))],
    state: Annotated[AppState, Depends(app_state)],
) -> Dashboard:
    """Customers by AUM tier, risk level and branch (only those you may see); data freshness; quarantine."""
    return Dashboard.model_validate(summary(state.reader, state.store, principal))
