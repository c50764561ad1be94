"""The privacy capability's declaration: its tables, its console pages, and the customer data it holds.

The consent ledger is the one holding that an erasure does not delete: the customer's events are
pseudonymised (the customer id becomes `erased:<keyed reference>`, the app's idempotency key is hashed)
and kept three years as evidence of what the customer agreed to (COMPLIANCE.md). Pending corrections
are exported and deleted like any other row.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from lingxi.capability import Capability, NavEntry, Stage, StoreHolding, Subject, tables_of
from lingxi.privacy import consent
from lingxi.privacy.identifiers import keyed_hash
from lingxi.privacy.stages import import_consents, reapply_corrections
from lingxi.privacy.tables import (
    CONSENT_EVIDENCE_RETENTION,
    ERASED_PREFIX,
    ConsentEventRow,
    Correction,
    DsrRequest,
    ErasedIdentifier,
    Erasure,
)


def export_consent(store: Engine, who: Subject) -> dict[str, Any]:
    """The ledger's events of the customer, oldest first, and the consent state they give today."""
    return {
        "events": [asdict(e) for e in consent.history(store, who.customer_id)],
        "current": [asdict(e) for e in consent.current_consent(store, who.customer_id).latest],
    }


def pseudonymise_consent(conn: Connection, who: Subject, at: datetime) -> dict[str, Any]:
    """Replace the customer id (and the idempotency key, which may embed it) by keyed references.

    Keys are unique per customer (migration 0006), and each erased customer has their own `erased:<ref>`,
    so two erased customers who sent the same key keep distinct rows.
    """
    keys = conn.execute(
        select(ConsentEventRow.seq, ConsentEventRow.idempotency_key).where(
            ConsentEventRow.customer_id == who.customer_id
        )
    ).all()
    for seq, key in keys:
        conn.execute(
            update(ConsentEventRow)
            .where(ConsentEventRow.seq == seq)
            .values(customer_id=ERASED_PREFIX + who.ref, idempotency_key=ERASED_PREFIX + keyed_hash(key, who.hash_key))
        )
    kept_until = (at + CONSENT_EVIDENCE_RETENTION).date().isoformat()
    return {"events_pseudonymised": len(keys), "evidence_kept_until": kept_until}


CAPABILITY = Capability(
    name="privacy",
    description="Consent ledger, personalisation opt-out, data-subject requests, PI inventory and masking.",
    stages=(
        Stage(
            "corrections", "re-apply customers' corrections to reloaded datasets", reapply_corrections, after=("load",)
        ),
        Stage(
            "consent",
            "import consent history from the lake into the consent ledger",
            import_consents,
            after=("corrections",),
        ),
    ),
    nav=(NavEntry("nav.privacy", "/privacy/inventory", "govern", match="/privacy/"),),  # no customer data: any role
    tables=tables_of(ConsentEventRow, Erasure, ErasedIdentifier, DsrRequest, Correction),
    store_holdings=(
        StoreHolding(
            "lx_consent_event",
            erase="custom",
            why="consent evidence is kept, pseudonymised, for three years after erasure",
            export=export_consent,
            eraser=pseudonymise_consent,
            section="consent",
            receipt_key="consent_ledger",
        ),
        StoreHolding("lx_correction"),
    ),
)
