"""API tokens: scopes within the user's role, shown once, stored as a digest, expiring, revocable."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy
from sqlalchemy import text

from lingxi.auth import AccountError, SessionExpired, audit, service
from lingxi.auth.roles import Permission
from lingxi.errors import NotFound

from .conftest import FAST, PASSWORD, Clock


@pytest.fixture
def app_user(store: sqlalchemy.Engine) -> sqlalchemy.Engine:
    service.create_user(store, "mobile.app", PASSWORD, "approver", by="test", policy=FAST)
    return store


def test_token_carries_only_its_scopes_and_only_its_digest_is_stored(app_user: sqlalchemy.Engine, clock: Clock) -> None:
    issued = service.issue_token(app_user, "mobile.app", ["consent:write"], by="test", name="app", now=clock())
    p = service.validate_token(app_user, issued.secret, now=clock())
    assert p.kind == "token" and p.token_id == issued.info.id
    assert p.permissions == frozenset({Permission.CONSENT_WRITE})
    assert not p.can(Permission.CUSTOMER_READ)  # the user can, the token cannot
    with app_user.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM lx_api_token")).scalar_one()
    assert issued.secret not in stored and len(stored) == 64
    [entry] = audit.search(app_user, audit.AuditQuery(action=audit.Action.TOKEN_CHANGE))
    assert issued.secret not in str(entry.as_dict())


def test_scopes_must_be_known_and_held_by_the_role(app_user: sqlalchemy.Engine) -> None:
    with pytest.raises(AccountError, match="does not hold `user:manage`"):
        service.issue_token(app_user, "mobile.app", ["user:manage"], by="test")
    with pytest.raises(AccountError, match="unknown permission"):
        service.issue_token(app_user, "mobile.app", ["everything"], by="test")
    with pytest.raises(AccountError, match="at least one scope"):
        service.issue_token(app_user, "mobile.app", [], by="test")
    with pytest.raises(AccountError, match="within 365 days"):
        service.issue_token(app_user, "mobile.app", ["consent:write"], by="test", expires_in=timedelta(days=400))


def test_expiry_revocation_and_disabled_users(app_user: sqlalchemy.Engine, clock: Clock) -> None:
    short = service.issue_token(
        app_user, "mobile.app", ["consent:write"], by="test", expires_in=timedelta(days=1), now=clock()
    )
    other = service.issue_token(app_user, "mobile.app", ["consent:write"], by="test", now=clock())
    service.validate_token(app_user, short.secret, now=clock())
    with pytest.raises(SessionExpired):
        service.validate_token(app_user, short.secret, now=clock.advance(days=1))
    service.revoke_token(app_user, other.info.id, by="test")
    service.revoke_token(app_user, other.info.id, by="test")  # twice is fine
    with pytest.raises(SessionExpired):
        service.validate_token(app_user, other.secret, now=clock())
    third = service.issue_token(app_user, "mobile.app", ["consent:write"], by="test", now=clock())
    service.disable_user(app_user, "mobile.app", by="test")
    with pytest.raises(SessionExpired):
        service.validate_token(app_user, third.secret, now=clock())
    for junk in ("", "lxt_", "Bearer x", third.secret + "x"):
        with pytest.raises(SessionExpired):
            service.validate_token(app_user, junk, now=clock())
    with pytest.raises(NotFound):
        service.revoke_token(app_user, "nope", by="test")
    assert [t.revoked_at is not None for t in service.list_tokens(app_user, "mobile.app")] == [True, True, True]


def test_a_role_change_narrows_existing_tokens(app_user: sqlalchemy.Engine, clock: Clock) -> None:
    issued = service.issue_token(app_user, "mobile.app", ["consent:write", "audit:read"], by="test", now=clock())
    with app_user.begin() as conn:
        conn.execute(text("UPDATE lx_user SET role = 'auditor' WHERE username = 'mobile.app'"))
    p = service.validate_token(app_user, issued.secret, now=clock())
    assert p.permissions == frozenset({Permission.AUDIT_READ})
