"""Health and the published datasets: what an operator or a monitor asks first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from lingxi import __version__
from lingxi.api.deps import AUTHENTICATED, public, requires
from lingxi.api.schemas import DatasetPublic, DatasetsPublic, Health
from lingxi.api.state import AppState, app_state
from lingxi.auth.scope import Principal
from lingxi.customers import freshness

router = APIRouter(prefix="/api/v1", tags=["system"])


@router.get("/health", dependencies=[Depends(public)])
def health() -> Health:
    """Liveness: answers without signing in and says nothing about data."""
    return Health(ok=True, version=__version__)


@router.get("/datasets")
def datasets(
    _: Annotated[Principal, Depends(requires(AUTHENTICATED))], state: Annotated[AppState, Depends(app_state)]
) -> DatasetsPublic:
    """Each published lake dataset: version, rows, business date, publication time (no customer data)."""
    data = [DatasetPublic.model_validate(d) for d in freshness(state.reader)]
    return DatasetsPublic(data=data, count=len(data))
