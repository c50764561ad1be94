"""The audit log for the auditor and compliance (`audit:read`); each read of the log is itself audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from lingxi.api.deps import requires
from lingxi.api.schemas import AuditEntryPublic, AuditPage
from lingxi.api.state import AppState, app_state
from lingxi.auth import audit
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal

router = APIRouter(prefix="/api/v1", tags=["audit"])
Text = Annotated[str | None, Query(max_length=256)]


def read_audit(
    state: AppState,
    principal: Principal,
    *,
    actor: str | None = None,
    action: audit.Action | None = None,
    target: str | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> AuditPage:
    q = audit.AuditQuery(actor=actor or None, action=action, target=target or None, before_seq=before_seq, limit=limit)
    entries = audit.query(state.store, principal, q)
    data = [AuditEntryPublic.model_validate({**_public(e.as_dict()), "at": e.at}) for e in entries]
    next_seq = entries[-1].seq if len(entries) == limit and entries[-1].seq > 1 else None
    return AuditPage(data=data, count=len(data), next_before_seq=next_seq)


def _public(entry: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in entry.items() if k != "prev_hash"}


@router.get("/audit")
def audit_log(
    principal: Annotated[Principal, Depends(requires(Permission.AUDIT_READ))],
    state: Annotated[AppState, Depends(app_state)],
    actor: Text = None,
    action: audit.Action | None = None,
    target: Text = None,
    before_seq: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPage:
    """Audit entries, newest first; page backwards with `before_seq`."""
    return read_audit(state, principal, actor=actor, action=action, target=target, before_seq=before_seq, limit=limit)
