"""Data-subject requests over HTTP (PIPL arts. 45-47): export, correction, erasure, and their receipts.

Who: every route needs `approval:decide`, which only the compliance role (approver) holds. A request from
a customer is a compliance decision; `export:create` belongs to the strategist for masked bulk exports and
would hand one customer's complete, unmasked record to marketing. A dedicated `dsr:execute` would be
cleaner, but it changes the pinned role table (tests/auth/test_roles.py); see docs/security.md.

Masking: the export is returned unmasked. It is the customer's own data going back to the customer (art.
45), a masked copy would not satisfy the request, and the lake holds mobile and ID numbers only as keyed
hashes anyway. The library audits it as an `export` naming the request id.

What each request does lives in lingxi.customers.requests (scope check, then the privacy library); the
console's forms call the same functions.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from lingxi.api.deps import requires
from lingxi.api.schemas import CustomerId, CustomerPath
from lingxi.api.schemas_privacy import CorrectionRequest, DeletionRequest, ExportResult, ReceiptList, ReceiptPublic
from lingxi.api.state import State
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.customers import requests
from lingxi.privacy import dsr

router = APIRouter(prefix="/api/v1", tags=["data-subject requests"])
Compliance = Annotated[Principal, Depends(requires(Permission.APPROVAL_DECIDE))]


def receipt_public(r: dsr.Receipt) -> ReceiptPublic:
    return ReceiptPublic.model_validate(
        {**r.as_dict(), "completed_at": r.completed_at, "stores": dsr.jsonable(r.stores)}
    )


@router.post("/customers/{customer_id}/dsr/export")
def export_customer(customer_id: CustomerPath, principal: Compliance, state: State) -> ExportResult:
    """Everything Lingxi holds on the customer, machine-readable and unmasked, with the receipt; audited."""
    with state.request_engine() as engine:
        document, receipt = requests.export_customer(
            state.reader, state.lake, engine, principal, customer_id, hash_key=state.keyring.hash
        )
    return ExportResult(receipt=receipt_public(receipt), document=document)


@router.post("/customers/{customer_id}/dsr/correct")
def correct_customer(
    customer_id: CustomerPath, body: CorrectionRequest, principal: Compliance, state: State
) -> ReceiptPublic:
    """Correct `customers` fields (applied to the lake now and after each later load); returns the receipt."""
    receipt = requests.correct_customer(
        state.reader, state.lake, principal, customer_id, body.changes, hash_key=state.keyring.hash
    )
    return receipt_public(receipt)


@router.post("/customers/{customer_id}/dsr/delete")
def delete_customer(
    customer_id: CustomerPath, body: DeletionRequest, principal: Compliance, state: State
) -> ReceiptPublic:
    """Erase the customer from every store (lake rewritten, ledger pseudonymised, rows deleted); the receipt."""
    with state.request_engine() as engine:
        receipt = requests.erase_customer(
            state.reader,
            state.lake,
            engine,
            principal,
            customer_id,
            body.confirm_customer_id,
            hash_key=state.keyring.hash,
        )
    return receipt_public(receipt)


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
        found = list(reversed(dsr.receipts(state.store, customer_id, state.keyring.hash)))[:limit]
    else:
        found = dsr.latest_receipts(state.store, limit)
    data = [receipt_public(r) for r in found]
    return ReceiptList(data=data, count=len(data))
