"""The authorisation matrix: every route of the app, the permission it declares, and how to call it.

tests/api/test_matrix.py fails when a route exists that is not listed here, so a new route cannot ship
without an authorisation decision and a test of it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

PUBLIC, AUTHENTICATED = "public", "authenticated"


@dataclass(frozen=True)
class RouteCase:
    permission: str
    kind: str  # "plain", "customer" (path names a customer), "search", "dashboard", "session"
    ok: int = 200  # the status when allowed


MATRIX: dict[tuple[str, str], RouteCase] = {
    ("GET", "/api/v1/openapi.json"): RouteCase(PUBLIC, "plain"),
    ("GET", "/api/docs"): RouteCase(PUBLIC, "plain"),
    ("MOUNT", "/static"): RouteCase(PUBLIC, "plain"),
    ("GET", "/api/v1/health"): RouteCase(PUBLIC, "plain"),
    ("GET", "/api/v1/datasets"): RouteCase(AUTHENTICATED, "plain"),
    ("POST", "/api/v1/auth/login"): RouteCase(PUBLIC, "session"),
    ("POST", "/api/v1/auth/logout"): RouteCase(AUTHENTICATED, "session"),
    ("GET", "/api/v1/auth/me"): RouteCase(AUTHENTICATED, "plain"),
    ("POST", "/api/v1/customers/search"): RouteCase("customer:read", "search"),
    ("GET", "/api/v1/customers/{customer_id}"): RouteCase("customer:read", "customer"),
    ("POST", "/api/v1/customers/{customer_id}/unmask"): RouteCase("customer:read", "customer"),
    ("GET", "/api/v1/dashboard"): RouteCase("customer:read", "dashboard"),
    ("GET", "/api/v1/audit"): RouteCase("audit:read", "plain"),
    ("GET", "/login"): RouteCase(PUBLIC, "plain"),
    ("POST", "/login"): RouteCase(PUBLIC, "session", ok=303),
    ("POST", "/logout"): RouteCase(AUTHENTICATED, "session", ok=303),
    ("GET", "/lang/{code}"): RouteCase(PUBLIC, "plain", ok=303),
    ("GET", "/"): RouteCase(AUTHENTICATED, "dashboard"),
    ("GET", "/customers"): RouteCase("customer:read", "plain"),
    ("POST", "/customers/search"): RouteCase("customer:read", "search"),
    ("GET", "/customers/{customer_id}"): RouteCase("customer:read", "customer"),
    ("POST", "/customers/{customer_id}/unmask"): RouteCase("customer:read", "customer"),
    ("GET", "/audit"): RouteCase("audit:read", "plain"),
    # consent ledger: recording needs consent:write, reading customer:read; both inside the branch scope
    ("POST", "/api/v1/customers/{customer_id}/consents"): RouteCase("consent:write", "customer", ok=201),
    ("GET", "/api/v1/customers/{customer_id}/consents"): RouteCase("customer:read", "customer"),
    # data-subject requests: compliance only (approval:decide). Correction and deletion are called with a
    # body the library refuses (422) after the permission and scope checks, so the matrix writes nothing;
    # tests/api/test_privacy_http.py performs real ones on a bank of its own.
    ("POST", "/api/v1/customers/{customer_id}/dsr/export"): RouteCase("approval:decide", "customer"),
    ("POST", "/api/v1/customers/{customer_id}/dsr/correct"): RouteCase("approval:decide", "customer", ok=422),
    ("POST", "/api/v1/customers/{customer_id}/dsr/delete"): RouteCase("approval:decide", "customer", ok=422),
    ("GET", "/api/v1/dsr/receipts"): RouteCase("approval:decide", "plain"),
    ("GET", "/api/v1/privacy/inventory"): RouteCase(AUTHENTICATED, "plain"),
    ("GET", "/api/v1/privacy/sharing"): RouteCase(AUTHENTICATED, "plain"),
    ("GET", "/privacy/inventory"): RouteCase(AUTHENTICATED, "plain"),
    ("GET", "/privacy/sharing"): RouteCase(AUTHENTICATED, "plain"),
    ("POST", "/customers/{customer_id}/dsr/export"): RouteCase("approval:decide", "customer"),
    ("POST", "/customers/{customer_id}/dsr/delete"): RouteCase("approval:decide", "customer", ok=422),
    # the quarantine (lingxi.ingest.review): counts, and sample rows masked for the role
    ("GET", "/api/v1/quarantine"): RouteCase("ingest:quarantine", "plain"),
    ("GET", "/api/v1/quarantine/{table}"): RouteCase("ingest:quarantine", "plain"),
    ("GET", "/quarantine"): RouteCase("ingest:quarantine", "plain"),
    ("GET", "/quarantine/{table}"): RouteCase("ingest:quarantine", "plain"),
}

#: The unmask a branch RM may do; other roles get 403 for it even on a customer they may read.
UNMASK_BODY = {"fields": ["name"], "reason": "CUSTOMER_CONTACT"}
#: A correction the library refuses (the customer number is not correctable) and an unconfirmed deletion.
REFUSED_CORRECTION = {"changes": {"customer_id": "X1"}}
UNCONFIRMED_DELETION = {"confirm_customer_id": "not-the-customer"}


def consent_body() -> dict[str, Any]:
    """A valid grant with a fresh idempotency key, so every matrix call records a new event (201)."""
    return {
        "purpose": "marketing",
        "channel": "sms",
        "status": "granted",
        "source": "app",
        "occurred_at": "2026-01-05T09:30:00+08:00",
        "idempotency_key": f"matrix-{uuid.uuid4().hex}",
        "notice_version": "v3",
        "evidence": "app:consent-toggle",
    }


def call(
    client: TestClient, csrf: str, method: str, path: str, *, customer: str = "C000000000", query: str = "C"
) -> Response:
    """Call route (method, path) the way the console or an API client would, with the CSRF token."""
    url = path.replace("{customer_id}", customer).replace("{code}", "en").replace("{table}", "transactions")
    if method == "MOUNT":
        return client.get("/static/app.css")
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    if method == "GET":
        return client.get(url, follow_redirects=False)
    json: Any = None
    data: Any = None
    if url == "/api/v1/customers/search":
        json = {"query": query}
    elif url.startswith("/api/v1/customers/"):
        json = {
            "consents": consent_body(),
            "export": None,
            "correct": REFUSED_CORRECTION,
            "delete": UNCONFIRMED_DELETION,
        }.get(url.rsplit("/", 1)[1], UNMASK_BODY)
    elif url == "/customers/search":
        data = {"query": query, "csrf_token": csrf}
    elif url.startswith("/customers/") and "/dsr/" in url:
        data = {"confirm_customer_id": "not-the-customer", "csrf_token": csrf}
    elif url.startswith("/customers/"):
        data = {"field_name": "1", "reason": "CUSTOMER_CONTACT", "csrf_token": csrf}
    elif url == "/logout":
        data = {"csrf_token": csrf}
    return client.request(method, url, json=json, data=data, headers=headers, follow_redirects=False)
