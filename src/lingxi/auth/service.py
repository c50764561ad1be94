"""Signing in and out: authentication with lock-out, console sessions with idle and absolute expiry, CSRF.

This is the module the HTTP layer calls. It re-exports the account functions (lingxi.auth.users) and the
API-token functions (lingxi.auth.tokens) so one import gives the whole surface.

Security properties (COMPLIANCE.md R44, ASVS 2.2, 3.2, 3.3, 7.1):
- a failed sign-in raises the same AuthenticationFailed whatever the cause (unknown user, wrong
  password, disabled, locked) and spends the same argon2 time; the real cause goes to the audit log;
- `AuthPolicy.lockout_threshold` consecutive failures lock the account, for a time that doubles with
  each further lock (15 min, 30 min, then 1 h, the cap, by default) until a successful sign-in; the
  lock is decided in the database in one UPDATE and checked again after the hash, so concurrent
  guesses cannot get past it and a success never clears a lock in force;
- no database connection is held while a password is hashed;
- a failed sign-in for a name that is no account is audited under a keyed hash of the name, never the
  name typed (it may be a password, a mobile or an ID number);
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

from sqlalchemy import ColumnElement, Engine, case, or_, select, update
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
    unlock_user,
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
    "unlock_user",
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


def name_digest(username: str, key: str | bytes | None) -> str:
    """How the audit log names a sign-in attempt for a name that is no account: `unknown:<keyed hash>`.

    A keyed hash (HMAC-SHA256 with the deployment's hash key, or a per-process random key when none is
    given) lets an investigator see that attempts used the same name without the log ever holding what was
    typed: it may be a password typed into the wrong field, a mobile or an ID number (F3).
    """
    secret = _PROCESS_KEY if key is None else (key.encode() if isinstance(key, str) else key)
    digest = hmac.new(secret, username.strip().casefold().encode("utf-8", "replace"), hashlib.sha256).hexdigest()
    return f"unknown:{digest[:24]}"


_PROCESS_KEY = secrets.token_bytes(32)


def _fail(store: Engine, who: audit.Who, result: str, at: datetime, detail: str | None = None) -> AuthenticationFailed:
    audit.record(store, audit.Action.LOGIN_FAILED, who, target=who.actor, result=result, detail=detail, now=at)
    return AuthenticationFailed()


@dataclass(frozen=True)
class _Account:
    """What a sign-in reads before hashing (the connection is given back before the slow hash)."""

    id: int
    username: str
    role: str
    branch_id: str | None
    status: str
    password_hash: str
    locked_until: datetime | None

    @property
    def who(self) -> audit.Who:
        return audit.Who(self.username, self.role, self.branch_id)


def authenticate(
    store: Engine,
    username: str,
    password: str,
    *,
    policy: AuthPolicy = DEFAULT_POLICY,
    now: datetime | None = None,
    name_key: str | bytes | None = None,
) -> NewSession:
    """Check a username and password and open a new session; raises AuthenticationFailed (one message).

    No database connection is held while the password is hashed (argon2 takes tens of milliseconds and
    64 MiB on purpose): the account is read in a short read, the connection goes back to the pool, the
    password is checked, then a short transaction counts the failure or opens the session. Both decide
    on the lock in the UPDATE's WHERE clause, so concurrent guesses are all counted, the account locks
    once per `lockout_threshold` failures, and a success never clears a lock set meanwhile.
    `name_key` keys the hash that stands in the audit log for a name that is no account (see `name_digest`).
    """
    at = utcnow(now)
    try:
        name = normalise_username(username)
    except AccountError:
        burn_verify_time(password, policy)
        raise _fail(store, audit.Who(name_digest(username, name_key)), "unknown_user", at) from None
    with store.connect() as conn:
        row = conn.execute(
            select(
                User.id,
                User.username,
                User.role,
                User.branch_id,
                User.status,
                User.password_hash,
                User.locked_until,
            ).where(User.username == name)
        ).one_or_none()
    account = _Account(*row) if row is not None else None
    if account is None or account.status != ACTIVE:
        burn_verify_time(password, policy)
        who = audit.Who(name_digest(name, name_key)) if account is None else account.who
        raise _fail(store, who, "unknown_user" if account is None else "disabled", at)
    if account.locked_until is not None and at < account.locked_until:
        burn_verify_time(password, policy)
        raise _fail(store, account.who, "locked", at, detail=f"locked until {account.locked_until:%Y-%m-%d %H:%M}Z")
    if not _verify(account.password_hash, password, policy):
        _count_failure(store, account, policy, at)
    rehashed = hash_password(password, policy) if needs_rehash(account.password_hash, policy) else None
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with Session(store, expire_on_commit=False) as s:
        # The lock is checked again in the statement that clears the counters: a lock set while the
        # password was being hashed stays in force, and so does a disable.
        values: dict[str, object] = {"failed_logins": 0, "lock_level": 0, "locked_until": None, "last_login_at": at}
        if rehashed is not None:
            values["password_hash"] = rehashed
        done = s.execute(
            update(User)
            .where(User.id == account.id, User.status == ACTIVE, _not_locked(at))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            s.rollback()
            raise _fail(store, account.who, "locked", at, detail="locked or disabled while the password was checked")
        user = s.get_one(User, account.id)
        row_ = UserSession(id=secret_digest(secret), user_id=user.id, csrf_token=csrf, created_at=at, last_seen_at=at)
        s.add(row_)
        principal = principal_of(s, user)
        audit.append(s.connection(), audit.Action.LOGIN, audit.Who.of(principal), now=at)
        s.commit()
        return NewSession(secret, _info(row_, principal, policy, at))


def _not_locked(at: datetime) -> ColumnElement[bool]:
    return or_(User.locked_until.is_(None), User.locked_until <= at)


def _lock_until(policy: AuthPolicy, at: datetime) -> ColumnElement[datetime]:
    """`locked_until` for the next lock, from the row's current `lock_level`, as one SQL CASE (no read first).

    The lengths double from `lockout_base` and stop growing at `lockout_max`, so the levels above the cap
    share the last branch: a lock never lasts longer than `lockout_max`.
    """
    whens: list[tuple[ColumnElement[bool], datetime]] = []
    level = 0
    while policy.lock_duration(level + 1) < policy.lockout_max:
        whens.append((User.lock_level == level, at + policy.lock_duration(level + 1)))
        level += 1
    return case(*whens, else_=at + policy.lockout_max)


def _count_failure(store: Engine, account: _Account, policy: AuthPolicy, at: datetime) -> NoReturn:
    """Count a wrong password, locking the account when the threshold is reached, in one statement. Raises.

    The UPDATE's WHERE skips an account locked meanwhile (that guess was made against a locked account and
    is answered as such), and its SET decides the lock from the row's own counters, so concurrent failures
    are all counted and reach the threshold exactly once. On SQLite the UPDATE comes first in the
    transaction, so it takes the write lock before anything is read.
    """
    reached = User.failed_logins + 1 >= policy.lockout_threshold
    with Session(store) as s:
        done = s.execute(
            update(User)
            .where(User.id == account.id, _not_locked(at))
            .values(
                failed_logins=case((reached, 0), else_=User.failed_logins + 1),
                lock_level=case((reached, User.lock_level + 1), else_=User.lock_level),
                locked_until=case((reached, _lock_until(policy, at)), else_=User.locked_until),
                updated_at=at,
            )
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            result, detail = "locked", "locked while the password was checked"
        else:
            failed, level, until = s.execute(
                select(User.failed_logins, User.lock_level, User.locked_until).where(User.id == account.id)
            ).one()
            if until is not None and until > at:
                result, detail = "locked_now", f"locked until {until:%Y-%m-%d %H:%M}Z (lock {level})"
            else:
                result, detail = "bad_password", f"failure {failed} of {policy.lockout_threshold}"
        audit.append(
            s.connection(),
            audit.Action.LOGIN_FAILED,
            account.who,
            target=account.username,
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
