"""Access control's declaration: its tables, the audit page, and the customer data it holds.

Two tables name customers: a user's book (`lx_user_customer`: exported, deleted on erasure) and the audit
log (`lx_audit`: exported; retained on erasure, since it is append-only evidence the bank must keep, and
the privacy capability's own entries name the customer only by keyed reference).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from lingxi.auth.audit import AuditQuery, search
from lingxi.auth.roles import Permission
from lingxi.auth.tables import ApiToken, AuditEntry, AuditHead, User, UserCustomer, UserSession
from lingxi.capability import Capability, NavEntry, StoreHolding, Subject, tables_of


def _targets(who: Subject) -> list[str]:
    return [who.customer_id, f"subject:{who.ref}"] if who.ref else [who.customer_id]


def export_audit(store: Engine, who: Subject) -> list[dict[str, Any]]:
    """Every audit entry about the customer (by number, or by keyed reference), oldest first; paged, never cut."""
    entries = []
    for target in _targets(who):
        before: int | None = None
        while True:
            page = search(store, AuditQuery(target=target, before_seq=before, limit=1000))
            entries += page
            if len(page) < 1000:
                break
            before = page[-1].seq
    return [e.as_dict() for e in sorted(entries, key=lambda e: e.seq)]


def keep_audit(conn: Connection, who: Subject, at: datetime) -> dict[str, Any]:
    """Nothing is changed in the append-only log; the receipt says how many entries name the raw id."""
    named = conn.execute(select(func.count()).where(AuditEntry.target == who.customer_id)).scalar_one()
    return {"entries_naming_raw_id": named, "kept": "append-only, retained as legally required logs"}


CAPABILITY = Capability(
    name="auth",
    description="Users, roles and branch scope, sessions, API tokens and the hash-chained audit log.",
    nav=(NavEntry("nav.audit", "/audit", "govern", Permission.AUDIT_READ),),
    tables=tables_of(User, UserCustomer, UserSession, ApiToken, AuditEntry, AuditHead),
    store_holdings=(
        StoreHolding("lx_user_customer"),
        StoreHolding(
            "lx_audit",
            customer_column="target",
            erase="retain",
            why="the audit log is append-only evidence kept as the law requires (COMPLIANCE.md R25)",
            export=export_audit,
            eraser=keep_audit,
            section="audit",
            receipt_key="audit",
        ),
    ),
)
