"""Signing in and out: authentication with lock-out, console sessions with idle and absolute expiry, CSRF.

This is the module the HTTP layer calls. It re-exports the account functions (lingxi.auth.users) and the
API-token functions (lingxi.auth.tokens) so one import gives the whole surface.

Security properties (COMPLIANCE.md R44, ASVS 2.2, 3.2, 3.3, 7.1):
- a failed sign-in raises the same AuthenticationFailed whatever the cause (unknown user, wrong
  password, disabled, locked) and spends the same argon2 time; the real cause goes to the audit log;
- `AuthPolicy.lockout_threshold` consecutive failures lock the account, for a time that doubles with
  each further lock (15 min, 30 min, 1 h... up to 24 h by default) until a successful sign-in;
- every sign-in creates a new random session secret (no fixation); only its SHA-256 is stored;
- a session ends after `session_idle` without use or `session_absolute` after sign-in, on logout,
  on password reset and when the user is disabled; the user's role, branch and book are read again on
  every validation, so changes apply at once;
- each session carries a CSRF token; the HTTP layer puts it in forms and headers and calls `check_csrf`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from lingxi.auth import audit
from lingxi.auth.errors import AccountError, AuthenticationFailed, PermissionDenied, SessionExpired
from lingxi.auth.passwords import DEFAULT_POLICY, AuthPolicy, burn_verify_time, hash_password, needs_rehash
from lingxi.auth.passwords import verify_password as _verify
from lingxi.auth.scope import Principal
from lingxi.auth.tables import User, UserSession
from lingxi.auth.tokens import IssuedToken, TokenInfo, issue_token, list_tokens, revoke_token, validate_token
from lingxi.auth.users import (
    ACTIVE,
    UserInfo,
    assign_customers,
    create_user,
    disable_user,
    enable_user,
    get_user,
    list_users,
    normalise_username,
    principal_of,
    reset_password,
    utcnow,
)

__all__ = [
    "IssuedToken",
    "NewSession",
    "SessionInfo",
    "TokenInfo",
    "UserInfo",
    "assign_customers",
    "authenticate",
    "check_csrf",
    "create_user",
    "disable_user",
    "enable_user",
    "get_user",
    "issue_token",
    "list_tokens",
    "list_users",
    "logout",
    "reset_password",
    "revoke_token",
    "validate_session",
    "validate_token",
]

#: last_seen_at is written at most this often, so validating a session is a read on most requests.
TOUCH_EVERY = timedelta(seconds=60)


def secret_digest(secret: str) -> str:
    """SHA-256 hex of a random secret: enough for 256-bit secrets, and lets the store look them up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    """A valid session: who it is, its CSRF token, and when it will end if nothing else happens."""

    session_id: str  # the stored digest, safe to log
    principal: Principal
    csrf_token: str
    created_at: datetime
    expires_at: datetime  # the earlier of the idle and the absolute limit, from now


@dataclass(frozen=True)
class NewSession:
    """A session just created by `authenticate`; `secret` goes into the cookie and is never stored."""

    secret: str
    info: SessionInfo


def _fail(store: Engine, actor: str, result: str, at: datetime, detail: str | None = None) -> AuthenticationFailed:
    audit.record(store, audit.Action.LOGIN_FAILED, audit.Who(actor), target=actor, result=result, detail=detail, now=at)
    return AuthenticationFailed()


def authenticate(
    store: Engine, username: str, password: str, *, policy: AuthPolicy = DEFAULT_POLICY, now: datetime | None = None
) -> NewSession:
    """Check a username and password and open a new session; raises AuthenticationFailed (one message)."""
    at = utcnow(now)
    try:
        name = normalise_username(username)
    except AccountError:
        burn_verify_time(password, policy)
        raise _fail(store, username[:64], "unknown_user", at) from None
    with Session(store, expire_on_commit=False) as s:
        user = s.scalar(select(User).where(User.username == name))
        if user is None or user.status != ACTIVE:
            burn_verify_time(password, policy)
            raise _fail(store, name, "unknown_user" if user is None else "disabled", at)
        if user.locked_until is not None and at < user.locked_until:
            burn_verify_time(password, policy)
            raise _fail(store, name, "locked", at, detail=f"locked until {user.locked_until:%Y-%m-%d %H:%M}Z")
        if not _verify(user.password_hash, password, policy):
            _count_failure(s, user, policy, at)
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        s.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=0, lock_level=0, locked_until=None, last_login_at=at)
        )
        if needs_rehash(user.password_hash, policy):
            s.execute(update(User).where(User.id == user.id).values(password_hash=hash_password(password, policy)))
        row = UserSession(id=secret_digest(secret), user_id=user.id, csrf_token=csrf, created_at=at, last_seen_at=at)
        s.add(row)
        principal = principal_of(s, user)
        audit.append(s.connection(), audit.Action.LOGIN, audit.Who.of(principal), now=at)
        s.commit()
        return NewSession(secret, _info(row, principal, policy, at))


def _count_failure(s: Session, user: User, policy: AuthPolicy, at: datetime) -> NoReturn:
    """Count a wrong password; lock the account when the threshold is reached. Always raises."""
    # An SQL increment, so concurrent failures are all counted (no read-modify-write in Python).
    s.execute(update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1, updated_at=at))
    failed, level = s.execute(select(User.failed_logins, User.lock_level).where(User.id == user.id)).one()
    result, detail = "bad_password", f"failure {failed} of {policy.lockout_threshold}"
    if failed >= policy.lockout_threshold:
        until = at + policy.lock_duration(level + 1)
        s.execute(
            update(User).where(User.id == user.id).values(failed_logins=0, lock_level=level + 1, locked_until=until)
        )
        result, detail = "locked_now", f"locked until {until:%Y-%m-%d %H:%M}Z (lock {level + 1})"
    audit.append(
        s.connection(),
        audit.Action.LOGIN_FAILED,
        audit.Who(user.username, user.role, user.branch_id),
        target=user.username,
        result=result,
        detail=detail,
        now=at,
    )
    s.commit()
    raise AuthenticationFailed()


def _info(row: UserSession, principal: Principal, policy: AuthPolicy, at: datetime) -> SessionInfo:
    expires = min(row.created_at + policy.session_absolute, at + policy.session_idle)
    return SessionInfo(row.id, principal, row.csrf_token, row.created_at, expires)


def validate_session(
    store: Engine, secret: str, *, policy: AuthPolicy = DEFAULT_POLICY, now: datetime | None = None
) -> SessionInfo:
    """The session for a cookie's `secret`, with a freshly built principal; raises SessionExpired."""
    at = utcnow(now)
    with Session(store, expire_on_commit=False) as s:
        row = s.get(UserSession, secret_digest(secret)) if secret else None
        if row is None or row.ended_at is not None:
            raise SessionExpired()
        user = s.get(User, row.user_id)
        reason = None
        if at >= row.created_at + policy.session_absolute:
            reason = "absolute_timeout"
        elif at >= row.last_seen_at + policy.session_idle:
            reason = "idle_timeout"
        elif user is None or user.status != ACTIVE:
            reason = "user_disabled"
        if reason is not None or user is None:
            row.ended_at, row.end_reason = at, reason
            name = user.username if user else str(row.user_id)
            who = audit.Who(name, user.role if user else None, user.branch_id if user else None)
            audit.append(s.connection(), audit.Action.LOGOUT, who, result=reason or "ended", now=at)
            s.commit()
            raise SessionExpired()
        principal = principal_of(s, user)
        if at - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = at
            s.commit()
        return _info(row, principal, policy, at)


def check_csrf(session: SessionInfo, presented: str | None) -> None:
    """Raise PermissionDenied unless `presented` is the session's CSRF token (constant-time comparison)."""
    if not presented or not hmac.compare_digest(presented.encode(), session.csrf_token.encode()):
        raise PermissionDenied("the request's CSRF token is missing or wrong", hint="reload the page and try again")


def logout(store: Engine, secret: str, *, now: datetime | None = None) -> None:
    """End the session for `secret`; unknown or ended sessions are ignored (logging out twice is fine)."""
    at = utcnow(now)
    with Session(store) as s, s.begin():
        row = s.get(UserSession, secret_digest(secret)) if secret else None
        if row is None or row.ended_at is not None:
            return
        row.ended_at, row.end_reason = at, "logout"
        user = s.get(User, row.user_id)
        who = audit.Who(user.username, user.role, user.branch_id) if user else audit.Who(str(row.user_id))
        audit.append(s.connection(), audit.Action.LOGOUT, who, now=at)
