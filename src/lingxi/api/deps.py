"""Who is calling, and may they: the one dependency every route declares.

`requires(permission)` resolves the principal from a bearer API token (machine clients) or from the
session cookie (the console), then checks the permission. For a cookie session, every state-changing
request must also carry the session's CSRF token, in the `X-CSRF-Token` header or a `csrf_token` form
field (ASVS 4.2.2, 13.2.3); bearer tokens are not sent by browsers on their own, so they need none.
A refused permission is audited (`access_denied`, F22) and answered 403. `public` marks the few routes
that need no principal, so a test can prove that every route declares one or the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from anyio import to_thread
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from lingxi.api.state import AppState, app_state
from lingxi.auth import audit
from lingxi.auth.errors import AuthenticationFailed
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.auth.service import (
    NewSession,
    SessionInfo,
    authenticate,
    check_csrf,
    validate_session,
    validate_token,
)
from lingxi.redaction import redact_identifiers

SESSION_COOKIE = "lx_session"
#: Over HTTPS the cookie is `__Host-lx_session`: browsers then insist on Secure, path `/` and no Domain, so
#: a sibling subdomain cannot plant or overwrite it.
SECURE_SESSION_COOKIE = "__Host-" + SESSION_COOKIE


def session_cookie_name(secure: bool) -> str:
    return SECURE_SESSION_COOKIE if secure else SESSION_COOKIE


def clear_session_cookie(response: Response) -> None:
    """End the console session in the browser, whichever name the cookie was set under."""
    for name in (SECURE_SESSION_COOKIE, SESSION_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="strict", secure=name == SECURE_SESSION_COOKIE)


CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUTHENTICATED = "authenticated"  # any signed-in principal
PUBLIC = "public"


@dataclass(frozen=True)
class Auth:
    """The resolved caller: the principal, and the console session if it came with a cookie."""

    principal: Principal
    session: SessionInfo | None = None
    secret: str | None = None


async def presented_csrf(request: Request) -> str | None:
    token = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if token is None and content_type.startswith("application/x-www-form-urlencoded"):
        body = (await request.body()).decode("utf-8", errors="replace")  # cached: the route reads it again
        token = parse_qs(body).get(CSRF_FIELD, [None])[0]
    return token


async def resolve(request: Request) -> Auth:
    """The caller of this request; raises AuthenticationFailed (401) or PermissionDenied (403, CSRF)."""
    cached: Auth | None = getattr(request.state, "auth", None)
    if cached is not None:
        return cached
    state = app_state(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthenticationFailed("the Authorization header must be `Bearer <API token>`")
        principal = await run_in_threadpool(validate_token, state.store, value.strip())
        auth = Auth(principal)
    else:
        secret = request.cookies.get(SECURE_SESSION_COOKIE) or request.cookies.get(SESSION_COOKIE)
        if not secret:
            raise AuthenticationFailed("sign in first, or send an API token as `Authorization: Bearer <token>`")
        session = await run_in_threadpool(validate_session, state.store, secret, policy=state.policy)
        if request.method not in SAFE_METHODS:
            check_csrf(session, await presented_csrf(request))
        auth = Auth(session.principal, session, secret)
    request.state.auth = auth
    return auth


Dependency = Callable[[Request], Awaitable[Principal]]


def requires(permission: Permission | str) -> Dependency:
    """A dependency that returns the principal if it holds `permission` (or `AUTHENTICATED`: anyone signed in)."""

    async def dependency(request: Request) -> Principal:
        auth = await resolve(request)
        principal = auth.principal
        if permission != AUTHENTICATED and not principal.can(permission):
            store = app_state(request).store
            await run_in_threadpool(
                audit.record,
                store,
                audit.Action.ACCESS_DENIED,
                principal,
                target=redact_identifiers(f"{request.method} {request.url.path}")[:256],  # a path may hold a mobile
                result="missing_permission",
                detail=str(permission),
            )
            principal.require(permission)
        return principal

    dependency.lx_permission = str(permission)  # type: ignore[attr-defined]
    return dependency


async def public(request: Request) -> None:
    """Declares a route that needs no principal (sign-in, health, static files)."""


public.lx_permission = PUBLIC  # type: ignore[attr-defined]


def declared_permission(call: Any) -> str | None:
    """The permission a dependency declares (for the authorisation matrix test)."""
    value = getattr(call, "lx_permission", None)
    return value if isinstance(value, str) else None


def current_auth(request: Request) -> Auth | None:
    """The Auth resolved earlier in this request by `requires`, if any."""
    auth: Auth | None = getattr(request.state, "auth", None)
    return auth


def client_address(request: Request, trusted_proxies: frozenset[str]) -> str:
    """The client's address: the direct peer, or, when the peer is a trusted proxy, the last address in
    `X-Forwarded-For` that is not itself a trusted proxy (earlier entries are whatever the client wrote)."""
    peer = request.client.host if request.client else "unknown"
    if peer not in trusted_proxies:
        return peer
    forwarded = [a.strip() for h in request.headers.getlist("x-forwarded-for") for a in h.split(",") if a.strip()]
    for address in reversed(forwarded):
        if address not in trusted_proxies:
            return address[:64]
    return peer


async def sign_in(request: Request, state: AppState, username: str, password: str) -> NewSession:
    """Sign in for both faces (API and console): throttle, then `authenticate` in a hashing slot.

    The throttle answers 429 before any hashing or database work. `authenticate` runs on a worker thread
    but only `state.sign_in_slots` at a time, so a flood of sign-ins waits here without taking the worker
    threads and database connections that signed-in users' requests need.
    """
    keys = state.throttle.begin(client_address(request, state.trusted_proxies), username) if state.throttle else None
    new = await to_thread.run_sync(
        lambda: authenticate(state.store, username, password, policy=state.policy, name_key=state.keyring.hash_key),
        limiter=state.sign_in_slots,
    )
    if state.throttle is not None and keys is not None:
        state.throttle.succeeded(keys)
    return new


def set_session_cookie(response: Response, request: Request, state: AppState, new: NewSession) -> None:
    """The session cookie, expiring with the session's absolute limit."""
    secure = state.cookie_secure(request)
    response.set_cookie(
        session_cookie_name(secure),
        new.secret,
        max_age=int(state.policy.session_absolute.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
