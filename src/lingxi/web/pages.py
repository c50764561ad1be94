"""Console pages: sign-in, overview, customer search, customer 360, audit log, language switch.

Each page declares its permission with the same `requires` dependency as the API and reads data through
lingxi.customers (scope, masking and audit live there), so the console cannot show more than the API.
Forms carry the session's CSRF token in a hidden field; HTMX posts send the same field. Without a
session a page redirects to /login (see lingxi.api.errors).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
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
from lingxi.api.schemas import NO_NUL, CustomerId
from lingxi.api.state import AppState, app_state
from lingxi.auth import audit
from lingxi.auth.errors import AuthenticationFailed, PermissionDenied
from lingxi.auth.roles import Permission
from lingxi.auth.scope import AllBranches, Book, Principal, scope_filter
from lingxi.auth.service import logout
from lingxi.customers import customer_360, freshness, quarantine, search, summary
from lingxi.errors import InputError
from lingxi.privacy.masking import UnmaskReason
from lingxi.web.i18n import LANG_COOKIE, LANGUAGES
from lingxi.web.nav import navigation
from lingxi.web.render import render

router = APIRouter(include_in_schema=False)
State = Annotated[AppState, Depends(app_state)]
Reader = Annotated[Principal, Depends(requires(Permission.CUSTOMER_READ))]
UNMASKABLE = ("name", "address")


async def form_of(request: Request) -> dict[str, str]:
    """An url-encoded form body as a dict (first value of each field); no multipart needed."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def chrome(request: Request, principal: Principal, title: str) -> dict[str, Any]:
    """What every signed-in page shows: navigation, the user, the CSRF token for forms."""
    auth = current_auth(request)
    return {
        "principal": principal,
        "nav": navigation(principal, request.url.path),
        "csrf": auth.session.csrf_token if auth and auth.session else "",
        "title": title,
    }


@router.get("/login", dependencies=[Depends(public)])
def login_page(request: Request) -> Response:
    return render(request, "login.html", failed=False, title="auth.title")


def _same_origin(request: Request) -> bool:
    """Login CSRF defence: a browser's Origin, when sent, must be this site."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


@router.post("/login", dependencies=[Depends(public)])
async def login_submit(request: Request, state: State) -> Response:
    form = await form_of(request)
    if not _same_origin(request):
        raise PermissionDenied("cross-site sign-in refused")
    try:
        new = await sign_in(request, state, form.get("username", ""), form.get("password", ""))
    except AuthenticationFailed:
        name = form.get("username", "")[:64]
        return render(request, "login.html", status_code=401, failed=True, username=name, title="auth.title")
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, request, state, new)
    return response


@router.post("/logout")
async def logout_submit(
    request: Request, _: Annotated[Principal, Depends(requires(AUTHENTICATED))], state: State
) -> Response:
    auth = current_auth(request)
    if auth is not None and auth.secret:
        await run_in_threadpool(logout, state.store, auth.secret)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/lang/{code}", dependencies=[Depends(public)])
def switch_language(code: str, request: Request) -> Response:
    """Set the console language; goes back to the page it came from (same site only)."""
    referer = urlsplit(request.headers.get("referer", ""))
    back = referer.path if referer.netloc == request.headers.get("host") and referer.path.startswith("/") else "/"
    response = RedirectResponse(back if not back.startswith("//") else "/", status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, path="/", samesite="lax")
    return response


def _scope_key(principal: Principal) -> str:
    scope = scope_filter(principal)
    if isinstance(scope, AllBranches):
        return "home.scope_all"
    return "home.scope_book" if isinstance(scope, Book) else "home.scope_branch"


@router.get("/")
def home(request: Request, principal: Annotated[Principal, Depends(requires(AUTHENTICATED))], state: State) -> Response:
    context = chrome(request, principal, "home.title")
    if principal.can(Permission.CUSTOMER_READ):
        data = summary(state.reader, state.store, principal)
        context |= {"data": data, "scope_key": _scope_key(principal)}
    else:
        context |= {"data": None, "freshness": freshness(state.reader), "quarantine": quarantine(state.store)}
    return render(request, "home.html", **context)


@router.get("/customers")
def customers_page(request: Request, principal: Reader) -> Response:
    return render(request, "customers.html", **chrome(request, principal, "search.title"), results=None, query="")


@router.post("/customers/search")
async def customers_search(request: Request, principal: Reader, state: State) -> Response:
    query = (await form_of(request)).get("query", "")[:64]
    try:
        found = await run_in_threadpool(
            search, state.reader, state.store, principal, query, hash_key=state.keyring.hash
        )
        results: dict[str, Any] = {"rows": found.customers, "by": found.by, "invalid": False}
    except InputError:
        results = {"rows": [], "by": None, "invalid": True}
    if request.headers.get("hx-request"):
        return render(request, "_results.html", results=results)
    shown = query if results["by"] != "phone" else ""  # never echo a mobile number back into the page
    return render(request, "customers.html", **chrome(request, principal, "search.title"), results=results, query=shown)


def _unmask_options(principal: Principal) -> list[str]:
    return [f for f in UNMASKABLE if principal.can(f"pii:unmask:{f}")]


@router.get("/customers/{customer_id}")
def customer_page(customer_id: CustomerId, request: Request, principal: Reader, state: State) -> Response:
    data = customer_360(state.reader, state.store, principal, customer_id)
    return render(
        request,
        "customer.html",
        **chrome(request, principal, "nav.customers"),
        c=data,
        unmask_options=_unmask_options(principal),
        reasons=[r.value for r in UnmaskReason],
    )


@router.post("/customers/{customer_id}/unmask")
async def customer_unmask(customer_id: CustomerId, request: Request, principal: Reader, state: State) -> Response:
    form = await form_of(request)
    fields = [f for f in UNMASKABLE if form.get(f"field_{f}")] or [f for f in form.get("fields", "").split(",") if f]
    data = await run_in_threadpool(
        customer_360, state.reader, state.store, principal, customer_id, unmask=fields, reason=form.get("reason")
    )
    context: dict[str, Any] = {
        "c": data,
        "unmask_options": _unmask_options(principal),
        "reasons": [r.value for r in UnmaskReason],
    }
    if request.headers.get("hx-request"):
        return render(request, "_profile.html", **context, csrf=chrome(request, principal, "")["csrf"])
    return render(request, "customer.html", **chrome(request, principal, "nav.customers"), **context)


@router.get("/audit")
def audit_page(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.AUDIT_READ))],
    state: State,
    actor: Annotated[str | None, NO_NUL] = None,
    action: str | None = None,
    target: Annotated[str | None, NO_NUL] = None,
    before_seq: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    actions = audit.known_actions()
    chosen = action if action in actions else None
    q = audit.AuditQuery(
        actor=(actor or "")[:128] or None,
        action=chosen,
        target=(target or "")[:256] or None,
        before_seq=before_seq if before_seq and before_seq > 0 else None,
        limit=50,
    )
    found = audit.read_page(state.store, principal, q)
    page = {"data": found.entries, "next_before_seq": found.next_before_seq}
    filters = {"actor": actor or "", "action": chosen or "", "target": target or ""}
    return render(
        request,
        "audit.html",
        **chrome(request, principal, "audit.title"),
        page=page,
        filters=filters,
        actions=actions,
    )
