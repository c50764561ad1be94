"""User accounts: create, list, disable, reset, books of customers; and turning a user into a Principal.

Account changes are made either by a principal holding `user:manage` (the API) or by an operator at
the command line (`by="cli:<os user>"`; whoever runs the CLI can reach the database anyway). Every
change is written to the audit log in the same transaction as the change itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from lingxi.auth import audit
from lingxi.auth.errors import AccountError
from lingxi.auth.passwords import DEFAULT_POLICY, AuthPolicy, check_password_policy, hash_password
from lingxi.auth.roles import BRANCH_ROLES, Permission, Role, parse_role, permissions_of
from lingxi.auth.scope import Principal
from lingxi.auth.tables import ApiToken, User, UserCustomer, UserSession
from lingxi.errors import NotFound

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
ACTIVE, DISABLED = "active", "disabled"

Actor = Principal | str


def utcnow(now: datetime | None = None) -> datetime:
    """`now` (default: the clock) as a naive UTC datetime, the form the store keeps."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def normalise_username(username: str) -> str:
    """Usernames are compared in lower case; raises AccountError when the form is not allowed."""
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise AccountError(
            f"`{username}` is not a valid username",
            hint="use 3–64 characters: lower-case letters, digits, `.`, `_` or `-`, starting with a letter or digit",
        )
    return name


@dataclass(frozen=True)
class UserInfo:
    """A user as shown to administrators (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    branch_id: str | None
    book_only: bool
    status: str
    locked_until: datetime | None
    password_changed_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, u: User) -> UserInfo:
        return cls(
            u.id,
            u.username,
            u.display_name,
            Role(u.role),
            u.branch_id,
            u.book_only,
            u.status,
            u.locked_until,
            u.password_changed_at,
            u.last_login_at,
        )


def actor_columns(by: Actor) -> audit.Who:
    """Who is changing accounts: a principal must hold `user:manage`; a string is a trusted CLI operator."""
    if isinstance(by, Principal):
        by.require(Permission.USER_MANAGE)
        return audit.Who.of(by)
    return audit.Who(by)


def load_user(s: Session, username: str) -> User:
    user = s.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise NotFound(f"no user `{username}`", hint="`lingxi user list` shows the users")
    return user


def create_user(
    store: Engine,
    username: str,
    password: str,
    role: Role | str,
    *,
    by: Actor,
    branch_id: str | None = None,
    display_name: str | None = None,
    book_only: bool = False,
    policy: AuthPolicy = DEFAULT_POLICY,
    now: datetime | None = None,
) -> UserInfo:
    """Create an active user. A branch RM needs a branch unless limited to a book of assigned customers."""
    who = actor_columns(by)
    name = normalise_username(username)
    try:
        the_role = parse_role(str(role))
    except ValueError as e:
        raise AccountError(str(e)) from None
    if the_role in BRANCH_ROLES and not branch_id and not book_only:
        raise AccountError(f"a {the_role.value} needs a branch", hint="pass `--branch BRANCH_ID`")
    check_password_policy(password, name)
    at = utcnow(now)
    with Session(store, expire_on_commit=False) as s, s.begin():
        if s.scalar(select(User.id).where(User.username == name)) is not None:
            raise AccountError(f"user `{name}` already exists", hint="choose another username")
        user = User(
            username=name,
            display_name=display_name or name,
            role=the_role.value,
            branch_id=branch_id or None,
            book_only=book_only or the_role is Role.REMOTE_RM,
            status=ACTIVE,
            password_hash=hash_password(password, policy),
            failed_logins=0,
            lock_level=0,
            password_changed_at=at,
            created_at=at,
            updated_at=at,
        )
        s.add(user)
        s.flush()
        detail = f"created role={the_role.value} branch={branch_id or '-'}"
        audit.append(s.connection(), audit.Action.USER_CHANGE, who, target=name, detail=detail, now=at)
        return UserInfo.of(user)


def list_users(store: Engine) -> list[UserInfo]:
    with Session(store) as s:
        return [UserInfo.of(u) for u in s.scalars(select(User).order_by(User.username))]


def get_user(store: Engine, username: str) -> UserInfo:
    with Session(store) as s:
        return UserInfo.of(load_user(s, username))


def _end_access(s: Session, user_id: int, at: datetime, reason: str, *, revoke_tokens: bool) -> None:
    s.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=at, end_reason=reason)
    )
    if revoke_tokens:
        s.execute(
            update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)).values(revoked_at=at)
        )


def disable_user(store: Engine, username: str, *, by: Actor, now: datetime | None = None) -> UserInfo:
    """Disable a user: their sessions end and their API tokens are revoked at once."""
    who = actor_columns(by)
    at = utcnow(now)
    with Session(store, expire_on_commit=False) as s, s.begin():
        user = load_user(s, username)
        user.status, user.updated_at = DISABLED, at
        _end_access(s, user.id, at, "disabled", revoke_tokens=True)
        audit.append(s.connection(), audit.Action.USER_CHANGE, who, target=user.username, detail="disabled", now=at)
        return UserInfo.of(user)


def enable_user(store: Engine, username: str, *, by: Actor, now: datetime | None = None) -> UserInfo:
    """Enable a disabled user again (their old tokens stay revoked)."""
    who = actor_columns(by)
    at = utcnow(now)
    with Session(store, expire_on_commit=False) as s, s.begin():
        user = load_user(s, username)
        user.status, user.updated_at = ACTIVE, at
        audit.append(s.connection(), audit.Action.USER_CHANGE, who, target=user.username, detail="enabled", now=at)
        return UserInfo.of(user)


def unlock_user(store: Engine, username: str, *, by: Actor, now: datetime | None = None) -> UserInfo:
    """End a lock-out now and reset its back-off (the password and the sessions are unchanged)."""
    who = actor_columns(by)
    at = utcnow(now)
    with Session(store, expire_on_commit=False) as s, s.begin():
        user = load_user(s, username)
        was = user.locked_until
        user.failed_logins, user.lock_level, user.locked_until, user.updated_at = 0, 0, None, at
        detail = "unlocked" if was is not None and was > at else "unlocked (was not locked)"
        audit.append(s.connection(), audit.Action.USER_CHANGE, who, target=user.username, detail=detail, now=at)
        return UserInfo.of(user)


def reset_password(
    store: Engine,
    username: str,
    new_password: str,
    *,
    by: Actor,
    policy: AuthPolicy = DEFAULT_POLICY,
    now: datetime | None = None,
) -> UserInfo:
    """Set a new password, clear any lock-out and end the user's sessions (tokens are kept)."""
    who = actor_columns(by)
    at = utcnow(now)
    with Session(store, expire_on_commit=False) as s, s.begin():
        user = load_user(s, username)
        check_password_policy(new_password, user.username)
        user.password_hash = hash_password(new_password, policy)
        user.password_changed_at = user.updated_at = at
        user.failed_logins, user.lock_level, user.locked_until = 0, 0, None
        _end_access(s, user.id, at, "password_reset", revoke_tokens=False)
        audit.append(
            s.connection(), audit.Action.USER_CHANGE, who, target=user.username, detail="password reset", now=at
        )
        return UserInfo.of(user)


def assign_customers(
    store: Engine, username: str, customer_ids: Iterable[str], *, by: Actor, now: datetime | None = None
) -> int:
    """Replace the user's book of assigned customers; returns its size."""
    who = actor_columns(by)
    ids = sorted({c.strip() for c in customer_ids if c.strip()})
    at = utcnow(now)
    with Session(store) as s, s.begin():
        user = load_user(s, username)
        s.execute(delete(UserCustomer).where(UserCustomer.user_id == user.id))
        s.add_all(UserCustomer(user_id=user.id, customer_id=c) for c in ids)
        audit.append(
            s.connection(), audit.Action.USER_CHANGE, who, target=user.username, detail=f"book of {len(ids)}", now=at
        )
    return len(ids)


def principal_of(
    s: Session, user: User, *, scopes: Iterable[str] | None = None, token_id: str | None = None
) -> Principal:
    """The Principal for `user` as the store has it now; with `scopes`, only those of its permissions."""
    permissions = permissions_of(user.role)
    if scopes is not None:
        granted = set(scopes)
        permissions = frozenset(p for p in permissions if p in granted)
    book = None
    if user.book_only:
        book = frozenset(s.scalars(select(UserCustomer.customer_id).where(UserCustomer.user_id == user.id)))
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        branch_id=user.branch_id,
        permissions=permissions,
        assigned_customer_ids=book,
        token_id=token_id,
        kind="user" if token_id is None else "token",
    )
