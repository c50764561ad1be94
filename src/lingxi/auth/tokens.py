"""API tokens for machine clients (the bank's app recording consents, batch jobs): scoped, expiring, revocable.

A token acts for a user with a subset of that user's permissions (its scopes). The secret is shown once
when the token is issued; the store keeps only its SHA-256 (a 256-bit random secret needs no slow hash,
and a digest can be looked up). On every use the scopes are intersected with the user's *current* role,
and a disabled user's tokens stop working, so a token never outlives the privilege it was cut from.
Every token has an expiry (at most `AuthPolicy.token_max_lifetime`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lingxi.auth import audit
from lingxi.auth.errors import AccountError, SessionExpired
from lingxi.auth.passwords import DEFAULT_POLICY, AuthPolicy
from lingxi.auth.roles import parse_permissions, permissions_of
from lingxi.auth.scope import Principal
from lingxi.auth.tables import ApiToken, User
from lingxi.auth.users import ACTIVE, Actor, actor_columns, load_user, principal_of, utcnow
from lingxi.errors import NotFound

TOKEN_PREFIX = "lxt_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed (never its secret or digest)."""

    id: str
    username: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: `secret` is shown to the operator once and cannot be recovered."""

    secret: str
    info: TokenInfo


def _info(t: ApiToken, username: str) -> TokenInfo:
    return TokenInfo(t.id, username, t.name, tuple(t.scopes), t.created_at, t.expires_at, t.last_used_at, t.revoked_at)


def issue_token(
    store: Engine,
    username: str,
    scopes: Iterable[str],
    *,
    by: Actor,
    name: str = "api",
    expires_in: timedelta = timedelta(days=90),
    policy: AuthPolicy = DEFAULT_POLICY,
    now: datetime | None = None,
) -> IssuedToken:
    """Issue a token for `username` limited to `scopes`, which must be permissions the user's role holds."""
    who = actor_columns(by)
    try:
        wanted = parse_permissions(tuple(scopes))
    except ValueError as e:
        raise AccountError(str(e)) from None
    if not wanted:
        raise AccountError("a token needs at least one scope", hint="pass `--scope PERMISSION` (repeatable)")
    if not timedelta(0) < expires_in <= policy.token_max_lifetime:
        raise AccountError(
            f"a token must expire within {policy.token_max_lifetime.days} days",
            hint="pass a shorter `--expires-days`",
        )
    at = utcnow(now)
    with Session(store, expire_on_commit=False) as s, s.begin():
        user = load_user(s, username)
        if user.status != ACTIVE:
            raise AccountError(f"user `{user.username}` is disabled", hint="enable the user first")
        beyond = sorted(wanted - permissions_of(user.role))
        if beyond:
            raise AccountError(
                f"`{user.username}` ({user.role}) does not hold {', '.join(f'`{p}`' for p in beyond)}",
                hint="a token's scopes must be a subset of its user's permissions",
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            id=secrets.token_hex(6),
            token_hash=_digest(secret),
            user_id=user.id,
            name=name[:128],
            scopes=sorted(str(p) for p in wanted),
            created_at=at,
            expires_at=at + expires_in,
        )
        s.add(token)
        detail = f"issued {token.id} scopes={','.join(token.scopes)} expires={token.expires_at:%Y-%m-%d}"
        audit.append(s.connection(), audit.Action.TOKEN_CHANGE, who, target=user.username, detail=detail, now=at)
        return IssuedToken(secret, _info(token, user.username))


def revoke_token(store: Engine, token_id: str, *, by: Actor, now: datetime | None = None) -> TokenInfo:
    """Revoke a token by its public id; revoking twice is allowed and keeps the first time."""
    who = actor_columns(by)
    at = utcnow(now)
    with Session(store, expire_on_commit=False) as s, s.begin():
        token = s.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"no API token `{token_id}`", hint="`lingxi token list` shows the tokens")
        user = s.get(User, token.user_id)
        username = user.username if user else "?"
        if token.revoked_at is None:
            token.revoked_at = at
            audit.append(
                s.connection(), audit.Action.TOKEN_CHANGE, who, target=username, detail=f"revoked {token.id}", now=at
            )
        return _info(token, username)


def list_tokens(store: Engine, username: str | None = None) -> list[TokenInfo]:
    with Session(store) as s:
        stmt = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.created_at)
        if username is not None:
            stmt = stmt.where(User.id == load_user(s, username).id)
        return [_info(t, name) for t, name in s.execute(stmt).all()]


def validate_token(store: Engine, secret: str, *, now: datetime | None = None) -> Principal:
    """The principal for a bearer `secret`; raises SessionExpired if unknown, expired, revoked or disabled."""
    at = utcnow(now)
    if not secret.startswith(TOKEN_PREFIX):
        raise SessionExpired()
    with Session(store, expire_on_commit=False) as s:
        token = s.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
        if token is None or token.revoked_at is not None or at >= token.expires_at:
            raise SessionExpired()
        user = s.get(User, token.user_id)
        if user is None or user.status != ACTIVE:
            raise SessionExpired()
        principal = principal_of(s, user, scopes=token.scopes, token_id=token.id)
        if token.last_used_at is None or at - token.last_used_at >= timedelta(minutes=1):
            token.last_used_at = at
            s.commit()
        return principal
