"""What staff do for one customer on request: read and record consent, export, correct or erase their data.

The service under both faces: the consent and data-subject-request routes of the API and the console's
forms call these functions and nothing else, so they cannot differ. Each one first checks that the
customer is published and inside the principal's branch scope (lingxi.auth.access.require_in_scope: 404
for unknown and out-of-scope alike, the denial audited), then calls the privacy library, which validates and audits.

Data-subject requests work on an analytic engine the face passes in (`lingxi.engine.engine_from`), not on
the serving reader: the reader keeps serving copies under the datasets' names. After a correction or an
erasure the reader is refreshed, so the next request sees it at once rather than after its polling delay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from lingxi.auth import audit
from lingxi.auth.access import require_in_scope
from lingxi.auth.scope import Principal
from lingxi.engine import Engine as AnalyticEngine
from lingxi.errors import InputError
from lingxi.keys import HashKey
from lingxi.privacy import consent, correction, dsr
from lingxi.store import Lake
from lingxi.store.serving import LakeReader


@dataclass(frozen=True)
class ConsentView:
    """A customer's consent as the console and the API show it."""

    customer_id: str
    state: consent.ConsentState
    history: list[consent.ConsentEvent] | None


def consent_view(
    reader: LakeReader, store: Engine, principal: Principal, customer_id: str, *, history: bool
) -> ConsentView:
    """The customer's derived consent state, optionally with every event; scope-checked and audited."""
    require_in_scope(reader, store, principal, customer_id)
    current = consent.current_consent(store, customer_id)
    detail = "consent state and history" if history else "consent state"
    audit.record(store, audit.Action.CUSTOMER_READ, principal, target=customer_id, fields=["consent"], detail=detail)
    return ConsentView(customer_id, current, consent.history(store, customer_id) if history else None)


def record_consent(
    reader: LakeReader,
    store: Engine,
    principal: Principal,
    customer_id: str,
    *,
    hash_key: HashKey,
    idempotency_key: str,
    **event: Any,
) -> consent.Recorded:
    """Append a grant or withdrawal for a customer in scope (`event`: purpose, channel, status, source, ...)."""
    require_in_scope(reader, store, principal, customer_id)
    return consent.record_consent(
        store, customer_id=customer_id, idempotency_key=idempotency_key, actor=principal, hash_key=hash_key, **event
    )


def export_customer(
    reader: LakeReader, lake: Lake, engine: AnalyticEngine, principal: Principal, customer_id: str, *, hash_key: HashKey
) -> tuple[dict[str, Any], dsr.Receipt]:
    """Everything held on a customer in scope, unmasked (it goes back to the customer), and the receipt."""
    require_in_scope(reader, lake.store, principal, customer_id)
    return dsr.export_customer(lake, engine, customer_id, actor=audit.Who.of(principal), hash_key=hash_key)


def correct_customer(
    reader: LakeReader,
    lake: Lake,
    principal: Principal,
    customer_id: str,
    changes: Mapping[str, str | None],
    *,
    hash_key: HashKey,
) -> dsr.Receipt:
    """Correct a customer's `customers` fields (applied now and after each later load); the receipt."""
    require_in_scope(reader, lake.store, principal, customer_id)
    receipt = correction.correct_customer(lake, customer_id, changes, actor=audit.Who.of(principal), hash_key=hash_key)
    reader.refresh(force=True)
    return receipt


def erase_customer(
    reader: LakeReader,
    lake: Lake,
    engine: AnalyticEngine,
    principal: Principal,
    customer_id: str,
    confirm: str,
    *,
    hash_key: HashKey,
    now: datetime | None = None,
) -> dsr.Receipt:
    """Erase a customer in scope once `confirm` repeats the customer number; the receipt."""
    require_in_scope(reader, lake.store, principal, customer_id)  # first: a 422 must not confirm a customer exists
    if confirm != customer_id:
        raise InputError("`confirm_customer_id` must repeat the customer number: erasure cannot be undone")
    receipt = dsr.erase_customer(lake, engine, customer_id, actor=audit.Who.of(principal), hash_key=hash_key, now=now)
    reader.refresh(force=True)  # the 360 and search stop showing the customer now
    return receipt
