"""Console pages of the privacy capability: the PI inventory, the sharing list, and data-subject requests.

The inventory and sharing list hold no customer data, so every signed-in role may open them (the same
rule as their JSON endpoints). The data-subject request forms on the customer 360 post here with the
session's CSRF token and call the same service as the API (lingxi.customers.requests), so the console
cannot do more than the API: `approval:decide`, branch scope, a typed confirmation for erasure.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from lingxi.api.deps import AUTHENTICATED, requires
from lingxi.api.schemas import CustomerId
from lingxi.api.state import AppState, State
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.customers import requests
from lingxi.privacy import dsr
from lingxi.privacy.inventory import PI_CLASS_MEANING, inventory, sharing_list
from lingxi.web.pages import chrome, form_of
from lingxi.web.render import render

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(requires(AUTHENTICATED))]
Compliance = Annotated[Principal, Depends(requires(Permission.APPROVAL_DECIDE))]


@router.get("/privacy/inventory")
def inventory_page(request: Request, principal: SignedIn) -> Response:
    """Which personal fields Lingxi collects and why (PIPL art. 17), from the data contract's annotations."""
    context = chrome(request, principal, "privacy.inventory.title")
    items = inventory()
    inv = {"data": items, "count": len(items), "classes": dict(PI_CLASS_MEANING)}
    return render(request, "privacy_inventory.html", **context, inv=inv, tab="inventory")


@router.get("/privacy/sharing")
def sharing_page(request: Request, principal: SignedIn) -> Response:
    """Who receives personal information (PIPL art. 23); says so plainly when nobody does."""
    context = chrome(request, principal, "privacy.sharing.title")
    found = sharing_list()
    sharing = {"data": found, "count": len(found), "shares": bool(found)}
    return render(request, "privacy_sharing.html", **context, sharing=sharing, tab="sharing")


@router.post("/customers/{customer_id}/dsr/export")
async def dsr_export(customer_id: CustomerId, principal: Compliance, state: State) -> Response:
    """The export as a JSON download, to hand to the customer (unmasked; audited as an export)."""
    document, receipt = await run_in_threadpool(_export, state, principal, customer_id)
    result = {"receipt": dsr.jsonable(receipt.as_dict()), "document": dsr.jsonable(document)}
    body = json.dumps(result, ensure_ascii=False, indent=2)
    name = f"lingxi-export-{receipt.request_id}.json"  # the request id, never the customer number
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type="application/json", headers=headers)


@router.post("/customers/{customer_id}/dsr/delete")
async def dsr_delete(customer_id: CustomerId, request: Request, principal: Compliance, state: State) -> Response:
    """Erase the customer once the form repeats the customer number; shows the receipt."""
    confirm = (await form_of(request)).get("confirm_customer_id", "")
    receipt = await run_in_threadpool(_erase, state, principal, customer_id, confirm)
    context = chrome(request, principal, "dsr.receipt.title")
    return render(request, "dsr_receipt.html", **context, receipt=receipt)


def _export(state: AppState, principal: Principal, customer_id: str) -> tuple[dict[str, Any], dsr.Receipt]:
    with state.request_engine() as engine:
        hash_key = state.keyring.hash
        return requests.export_customer(state.reader, state.lake, engine, principal, customer_id, hash_key=hash_key)


def _erase(state: AppState, principal: Principal, customer_id: str, confirm: str) -> dsr.Receipt:
    with state.request_engine() as engine:
        hash_key = state.keyring.hash
        return requests.erase_customer(
            state.reader, state.lake, engine, principal, customer_id, confirm, hash_key=hash_key
        )
