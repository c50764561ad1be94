"""Data-subject requests over HTTP (PIPL arts. 45-47): export, correction, erasure, and their receipts.

Who: every route needs `approval:decide`, which only the compliance role (approver) holds. A request from
a customer is a compliance decision; `export:create` belongs to the strategist for masked bulk exports and
would hand one customer's complete, unmasked record to marketing. A dedicated `dsr:execute` would be
cleaner, but it changes the pinned role table (tests/auth/test_roles.py); see docs/security.md.

Masking: the export is returned unmasked. It is the customer's own data going back to the customer (art.
45), a masked copy would not satisfy the request, and the lake holds mobile and ID numbers only as keyed
hashes anyway. The library audits it as an `export` naming the request id.

Each request runs on its own DuckDB engine (the app's reader keeps serving copies under the dataset
names, and registering the raw snapshots there would replace them), then refreshes the reader so a
correction or erasure is visible to the next request, not after the reader's polling delay.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from lingxi.api.deps import requires
from lingxi.api.routes.consent import PathId, State, require_in_scope
from lingxi.api.schemas import CustomerId
from lingxi.api.schemas_privacy import (
    CorrectionRequest,
    DeletionRequest,
    ExportResult,
    ReceiptList,
    ReceiptPublic,
)
from lingxi.api.state import AppState
from lingxi.auth.audit import Who
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.engine import Engine, engine_from
from lingxi.errors import InputError
from lingxi.privacy import correction, dsr
from lingxi.privacy.tables import DsrRequest

router = APIRouter(prefix="/api/v1", tags=["data-subject requests"])
Compliance = Annotated[Principal, Depends(requires(Permission.APPROVAL_DECIDE))]


@contextmanager
def request_engine(state: AppState) -> Iterator[Engine]:
    """The analytic engine (LINGXI_ENGINE) for one request's lake work, closed afterwards."""
    with engine_from(state.settings) as engine:
        yield engine


def _receipt(r: dsr.Receipt) -> ReceiptPublic:
    return ReceiptPublic.model_validate(
        {
            "request_id": r.request_id,
            "kind": r.kind,
            "subject_ref": r.subject_ref,
            "actor": r.actor,
            "completed_at": r.completed_at,
            "stores": dsr._jsonable(r.stores),
        }
    )


def export_for(state: AppState, principal: Principal, customer_id: str) -> ExportResult:
    """Export everything held on a customer in scope; shared by the API and the console."""
    require_in_scope(state, principal, customer_id)
    with request_engine(state) as engine:
        document, receipt = dsr.export_customer(
            state.lake, engine, customer_id, actor=Who.of(principal), hash_key=state.settings.hash_key
        )
    return ExportResult(receipt=_receipt(receipt), document=document)


def erase_for(state: AppState, principal: Principal, customer_id: str, confirm: str) -> ReceiptPublic:
    """Erase a customer in scope once `confirm` repeats the customer number; shared by the API and the console."""
    require_in_scope(state, principal, customer_id)  # first: a 422 must not confirm that a customer exists
    if confirm != customer_id:
        raise InputError("`confirm_customer_id` must repeat the customer number: erasure cannot be undone")
    with request_engine(state) as engine:
        receipt = dsr.erase_customer(
            state.lake, engine, customer_id, actor=Who.of(principal), hash_key=state.settings.hash_key
        )
    state.reader.refresh(force=True)  # the 360 and search stop showing the customer now
    return _receipt(receipt)


@router.post("/customers/{customer_id}/dsr/export")
def export_customer(customer_id: PathId, principal: Compliance, state: State) -> ExportResult:
    """Everything Lingxi holds on the customer, machine-readable and unmasked, with the receipt; audited."""
    return export_for(state, principal, customer_id)


@router.post("/customers/{customer_id}/dsr/correct")
def correct_customer(
    customer_id: PathId, body: CorrectionRequest, principal: Compliance, state: State
) -> ReceiptPublic:
    """Correct `customers` fields (applied to the lake now and after each later load); returns the receipt."""
    require_in_scope(state, principal, customer_id)
    receipt = correction.correct_customer(
        state.lake, customer_id, body.changes, actor=Who.of(principal), hash_key=state.settings.hash_key
    )
    state.reader.refresh(force=True)
    return _receipt(receipt)


@router.post("/customers/{customer_id}/dsr/delete")
def delete_customer(customer_id: PathId, body: DeletionRequest, principal: Compliance, state: State) -> ReceiptPublic:
    """Erase the customer from every store (lake rewritten, ledger pseudonymised, rows deleted); the receipt."""
    return erase_for(state, principal, customer_id, body.confirm_customer_id)


@router.get("/dsr/receipts")
def list_receipts(
    principal: Compliance,
    state: State,
    customer_id: Annotated[CustomerId | None, Query(description="Only this customer's requests.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ReceiptList:
    """Receipts, newest first. By customer they are found by keyed reference, so also after erasure.

    Receipts name customers only by reference and hold no personal field, so no branch check applies
    (an erased customer has no branch left to check against).
    """
    if customer_id is not None:
        found = list(reversed(dsr.receipts(state.store, customer_id, state.settings.hash_key)))[:limit]
        data = [_receipt(r) for r in found]
    else:
        with state.store.connect() as conn:
            stmt = select(DsrRequest).order_by(DsrRequest.requested_at.desc()).limit(limit)
            rows = conn.execute(stmt).all()
        data = [
            _receipt(
                dsr.Receipt(
                    r.id, r.kind, r.subject_ref, r.actor, r.completed_at or r.requested_at, r.receipt.get("stores", {})
                )
            )
            for r in rows
        ]
    return ReceiptList(data=data, count=len(data))
