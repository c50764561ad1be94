"""Signing in and out over HTTP, and who am I.

`POST /api/v1/auth/login` checks the password (lock-out and audit live in lingxi.auth.service) and sets
the session cookie: HttpOnly (scripts cannot read it), SameSite=Strict (no cross-site sends, the first
CSRF defence) and Secure except on plain HTTP to a loopback address. The response carries the session's
CSRF token for state-changing calls. Logout ends the session in the store, not only the cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from lingxi.api.deps import (
    AUTHENTICATED,
    clear_session_cookie,
    current_auth,
    public,
    requires,
    set_session_cookie,
    sign_in,
)
from lingxi.api.schemas import ErrorPublic, LoggedOut, LoginRequest, Me
from lingxi.api.state import AppState, app_state
from lingxi.auth.scope import Principal
from lingxi.auth.service import logout

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def me_of(principal: Principal, request: Request) -> Me:
    auth = current_auth(request)
    session = auth.session if auth else None
    return Me(
        username=principal.username,
        role=principal.role.value,
        branch_id=principal.branch_id,
        permissions=sorted(str(p) for p in principal.permissions),
        via="token" if principal.token_id else "session",
        csrf_token=session.csrf_token if session else None,
        expires_at=session.expires_at if session else None,
    )


@router.post(
    "/login",
    dependencies=[Depends(public)],
    responses={429: {"model": ErrorPublic, "description": "Too many sign-in attempts; see Retry-After."}},
)
async def login(
    body: LoginRequest, request: Request, response: Response, state: Annotated[AppState, Depends(app_state)]
) -> Me:
    """Sign in with a username and password; sets the session cookie. Every failure is the same 401;
    too many attempts from one address or for one account get 429 with `Retry-After`."""
    new = await sign_in(request, state, body.username, body.password)
    set_session_cookie(response, request, state, new)
    principal = new.info.principal
    return Me(
        username=principal.username,
        role=principal.role.value,
        branch_id=principal.branch_id,
        permissions=sorted(str(p) for p in principal.permissions),
        via="session",
        csrf_token=new.info.csrf_token,
        expires_at=new.info.expires_at,
    )


@router.post("/logout")
async def logout_route(
    request: Request,
    response: Response,
    _: Annotated[Principal, Depends(requires(AUTHENTICATED))],
    state: Annotated[AppState, Depends(app_state)],
) -> LoggedOut:
    """End this session (a token caller has nothing to end: revoke tokens with `lingxi token revoke`)."""
    auth = current_auth(request)
    if auth is not None and auth.secret:
        await run_in_threadpool(logout, state.store, auth.secret)
    clear_session_cookie(response)
    return LoggedOut(ok=True)


@router.get("/me")
def me(request: Request, principal: Annotated[Principal, Depends(requires(AUTHENTICATED))]) -> Me:
    """The caller: role, branch, permissions, and the session's CSRF token."""
    return me_of(principal, request)
