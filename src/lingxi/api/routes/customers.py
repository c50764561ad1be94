"""Customer search and the customer 360. Scope, masking and audit happen in lingxi.customers, not here.

Search is a POST so that a mobile number travels in the body, never in a URL or an access log (R50).
Unmasking is a POST too: it needs a reason code, is audited, and is a state change for CSRF purposes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from lingxi.api.deps import requires
from lingxi.api.schemas import Customer360, CustomerId, SearchRequest, SearchResults, UnmaskRequest
from lingxi.api.state import AppState, app_state
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.customers import customer_360, search

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])
Reader = Annotated[Principal, Depends(requires(Permission.CUSTOMER_READ))]
State = Annotated[AppState, Depends(app_state)]
PathId = Annotated[CustomerId, Path(description="The customer number (CIF).")]


@router.post("/search")
def search_customers(body: SearchRequest, principal: Reader, state: State) -> SearchResults:
    """Customers you may see whose number starts with `query`, or whose mobile is `query`; masked."""
    found = search(state.reader, state.store, principal, body.query, hash_key=state.keyring.hash, limit=body.limit)
    return SearchResults.model_validate({"data": found.customers, "count": len(found.customers), "by": found.by})


@router.get("/{customer_id}")
def get_customer(customer_id: PathId, principal: Reader, state: State) -> Customer360:
    """The customer 360, masked for your role. 404 for an unknown customer or one outside your scope."""
    return Customer360.model_validate(customer_360(state.reader, state.store, principal, customer_id))


@router.post("/{customer_id}/unmask")
def unmask_customer(customer_id: PathId, body: UnmaskRequest, principal: Reader, state: State) -> Customer360:
    """The customer 360 with `fields` shown in full; needs `pii:unmask:<field>` and a reason, and is audited."""
    data = customer_360(state.reader, state.store, principal, customer_id, unmask=body.fields, reason=body.reason.value)
    return Customer360.model_validate(data)
