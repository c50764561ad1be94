"""The consent ledger over HTTP: the bank's app (a Bearer token) and the console record grants and withdrawals.

Recording needs `consent:write`, reading `customer:read`; both first check that the customer lies in the
caller's branch scope (lingxi.customers.requests, the same answer as the 360: 404 for unknown and
out-of-scope alike), so a branch RM cannot write consent for another branch's customer by guessing its
number. A token for the bank's app therefore carries `customer:read` and `customer:read_all_branches`
with `consent:write`.
The ledger itself (lingxi.privacy.consent) validates, deduplicates by idempotency key (per customer: another
customer's key is never a conflict, so a 409 reveals nothing about them) and audits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from starlette.concurrency import run_in_threadpool

from lingxi.api.deps import requires
from lingxi.api.schemas import CustomerPath, ErrorPublic
from lingxi.api.schemas_privacy import (
    ConsentDecision,
    ConsentEventPublic,
    ConsentRequest,
    ConsentStatePublic,
    IdempotencyKey,
)
from lingxi.api.state import AppState, State
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.customers import requests
from lingxi.errors import InputError
from lingxi.privacy import consent

router = APIRouter(prefix="/api/v1/customers", tags=["consent"])


def _public(event: consent.ConsentEvent) -> ConsentEventPublic:
    return ConsentEventPublic.model_validate({k: getattr(event, k) for k in ConsentEventPublic.model_fields})


def _decision(d: consent.Decision) -> ConsentDecision:
    reason = d.reason.value if d.reason else None
    return ConsentDecision(purpose=d.purpose, channel=d.channel, allowed=d.allowed, reason=reason, event_id=d.event_id)


@router.post(
    "/{customer_id}/consents",
    status_code=201,
    responses={
        200: {"model": ConsentEventPublic, "description": "A retry of this customer's key: the first event."},
        409: {"model": ErrorPublic, "description": "This customer's key was used for a different event."},
    },
)
def record_consent(
    customer_id: CustomerPath,
    body: ConsentRequest,
    response: Response,
    principal: Annotated[Principal, Depends(requires(Permission.CONSENT_WRITE))],
    state: State,
    idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None,
) -> ConsentEventPublic:
    """Append a grant or withdrawal: 201 when new, 200 with the first event on a retry of the same key."""
    if idempotency_key and body.idempotency_key and idempotency_key != body.idempotency_key:
        raise InputError("the `Idempotency-Key` header and the body's `idempotency_key` differ; send one of them")
    key = idempotency_key or body.idempotency_key
    if not key:
        raise InputError("send an idempotency key (`Idempotency-Key` header or `idempotency_key`), one per action")
    recorded = requests.record_consent(
        state.reader,
        state.store,
        principal,
        customer_id,
        hash_key=state.keyring.hash,
        idempotency_key=key,
        purpose=body.purpose,
        channel=body.channel,
        status=body.status,
        source=body.source,
        occurred_at=body.occurred_at,
        notice_version=body.notice_version,
        evidence=body.evidence,
    )
    if not recorded.created:
        response.status_code = 200
    return _public(recorded.event)


def consent_state(state: AppState, principal: Principal, customer_id: str, *, history: bool) -> ConsentStatePublic:
    view = requests.consent_view(state.reader, state.store, principal, customer_id, history=history)
    current = view.state
    decisions = [_decision(current.allows(p, c)) for p in consent.PURPOSES for c in consent.CONCRETE_CHANNELS]
    return ConsentStatePublic(
        customer_id=customer_id,
        personalisation=_decision(current.personalisation()),
        decisions=decisions,
        latest=[_public(e) for e in current.latest],
        history=[_public(e) for e in view.history] if view.history is not None else None,
    )


@router.get("/{customer_id}/consents")
async def read_consents(
    customer_id: CustomerPath,
    principal: Annotated[Principal, Depends(requires(Permission.CUSTOMER_READ))],
    state: State,
    history: Annotated[bool, Query(description="Also list every event, oldest first.")] = False,
) -> ConsentStatePublic:
    """Current consent per purpose and channel, the personalisation flag (PIPL art. 24), optionally the history."""
    return await run_in_threadpool(consent_state, state, principal, customer_id, history=history)
