"""The audit log for the auditor and compliance (`audit:read`); each read of the log is itself audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from lingxi.api.deps import requires
from lingxi.api.schemas import NO_NUL, AuditEntryPublic, AuditPage
from lingxi.api.state import AppState, app_state
from lingxi.auth import audit
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.errors import InputError

router = APIRouter(prefix="/api/v1", tags=["audit"])
Text = Annotated[str | None, Query(max_length=256), NO_NUL]


def _public(entry: audit.Entry) -> AuditEntryPublic:
    return AuditEntryPublic.model_validate(
        {k: v for k, v in entry.as_dict().items() if k != "prev_hash"} | {"at": entry.at}
    )


@router.get("/audit")
def audit_log(
    principal: Annotated[Principal, Depends(requires(Permission.AUDIT_READ))],
    state: Annotated[AppState, Depends(app_state)],
    actor: Text = None,
    action: Annotated[str | None, Query(max_length=64, json_schema_extra={"enum": audit.known_actions()})] = None,
    target: Text = None,
    before_seq: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPage:
    """Audit entries, newest first; page backwards with `before_seq`."""
    if action is not None and action not in audit.known_actions():
        raise InputError(f"unknown audit action `{action}`", hint=f"actions: {', '.join(audit.known_actions())}")
    q = audit.AuditQuery(actor=actor or None, action=action, target=target or None, before_seq=before_seq, limit=limit)
    page = audit.read_page(state.store, principal, q)
    data = [_public(e) for e in page.entries]
    return AuditPage(data=data, count=len(data), next_before_seq=page.next_before_seq)
