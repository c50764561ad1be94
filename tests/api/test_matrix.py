"""Role x route x branch: every route's answer for every role, on customers of the caller's branch and others.

Proves COMPLIANCE.md R45 / F19 / F20 for what exists: no role reads a customer outside its scope through
any route (360, unmask, search by id or mobile, dashboard counts), out-of-scope and unknown ids answer the
same 404, and a route missing from tests/api/matrix.py fails the suite.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from lingxi.api.app import flat_routes
from lingxi.api.deps import declared_permission
from lingxi.auth.roles import Permission, permissions_of

from .conftest import USERS, Bank, login
from .matrix import AUTHENTICATED, MATRIX, PUBLIC, RouteCase, call

UNKNOWN = "C999999999"


def route_keys(app: FastAPI) -> dict[tuple[str, str], object]:
    keys: dict[tuple[str, str], object] = {}
    for route in flat_routes(app):
        if isinstance(route, Mount):
            keys[("MOUNT", route.path)] = route
        elif isinstance(route, APIRoute | Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                keys[(method, route.path)] = route
    return keys


def test_every_route_is_in_the_matrix_and_declares_its_permission(app: FastAPI) -> None:
    keys = route_keys(app)
    assert set(keys) == set(MATRIX), {"not in matrix": set(keys) - set(MATRIX), "gone": set(MATRIX) - set(keys)}
    for key, route in keys.items():
        if not isinstance(route, APIRoute):
            assert MATRIX[key].permission == PUBLIC, key  # FastAPI's own openapi/docs routes, static files
            continue
        declared = [p for d in route.dependant.dependencies if (p := declared_permission(d.call))]
        assert declared == [MATRIX[key].permission], (key, declared)


def in_scope(user: str, customer: str, bank: Bank) -> bool:
    role, branch = USERS[user]
    if Permission.CUSTOMER_READ_ALL_BRANCHES in permissions_of(role):
        return customer != UNKNOWN
    if role == "remote_rm":
        return customer == bank.cust_a
    mine = bank.branch_a if branch == "A" else bank.branch_b
    return (
        customer in {bank.cust_a, bank.cust_a2}
        and mine == bank.branch_a
        or customer == bank.cust_b
        and mine == bank.branch_b
    )


def expected(user: str, key: tuple[str, str], case: RouteCase, customer: str, bank: Bank) -> int:
    if case.permission == PUBLIC:
        return case.ok
    perms = permissions_of(USERS[user][0])
    if case.permission != AUTHENTICATED and case.permission not in perms:
        return 403
    if case.kind == "customer":
        if not in_scope(user, customer, bank):
            return 404
        if key[1].endswith("/unmask") and Permission.UNMASK_NAME not in perms:
            return 403
    return case.ok


@pytest.mark.parametrize("user", sorted(USERS))
def test_each_role_gets_exactly_its_cells_on_every_route_and_branch(
    user: str, app: FastAPI, bank: Bank, clients: dict[str, tuple[TestClient, str]]
) -> None:
    failures = []
    for key, case in MATRIX.items():
        for customer in (bank.cust_a, bank.cust_a2, bank.cust_b, UNKNOWN):
            client, csrf = clients[user]
            if case.kind == "session":  # sign-in and sign-out get their own session, not the shared one
                client, csrf = (
                    login(app, user)
                    if key[1].endswith("logout")
                    else (TestClient(app, base_url="http://localhost"), "")
                )
                if key == ("POST", "/api/v1/auth/login"):
                    r = client.post(key[1], json={"username": user, "password": "correct horse battery"})
                elif key == ("POST", "/login"):
                    r = client.post(
                        key[1], data={"username": user, "password": "correct horse battery"}, follow_redirects=False
                    )
                else:
                    r = call(client, csrf, *key)
            else:
                r = call(client, csrf, *key, customer=customer, query=customer)
            want = expected(user, key, case, customer, bank)
            if r.status_code != want:
                failures.append(f"{key} on {customer}: {r.status_code} (expected {want}) {r.text[:120]}")
            if case.kind != "customer":
                break  # the same answer whatever customer; one call is enough
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("key", [k for k, c in MATRIX.items() if c.permission != PUBLIC], ids=str)
def test_anonymous_callers_get_401_on_every_protected_route(key: tuple[str, str], anonymous: TestClient) -> None:
    r = call(anonymous, "", *key)
    assert r.status_code == 401, r.text
    assert r.json()["ok"] is False and r.json()["status"] == 401


def test_out_of_scope_and_unknown_customers_are_indistinguishable(
    bank: Bank, clients: dict[str, tuple[TestClient, str]]
) -> None:
    client, _ = clients["rm_a"]
    other = client.get(f"/api/v1/customers/{bank.cust_b}")
    unknown = client.get(f"/api/v1/customers/{UNKNOWN}")
    assert other.status_code == unknown.status_code == 404
    assert other.json() == {**unknown.json(), "error": unknown.json()["error"].replace(UNKNOWN, bank.cust_b)}


@pytest.mark.parametrize("user", ["rm_a", "rm_b", "remote1", "strategist1"])
def test_search_lists_only_customers_in_scope(
    user: str, bank: Bank, clients: dict[str, tuple[TestClient, str]]
) -> None:
    client, csrf = clients[user]
    h = {"X-CSRF-Token": csrf}
    listed = client.post("/api/v1/customers/search", json={"query": "C", "limit": 100}, headers=h).json()["data"]
    role, branch = USERS[user]
    if role == "branch_rm":
        assert listed and {r["branch_id"] for r in listed} == {bank.branch_a if branch == "A" else bank.branch_b}
    elif role == "remote_rm":
        assert [r["customer_id"] for r in listed] == [bank.cust_a]
    else:
        assert len(listed) == 100 and len({r["branch_id"] for r in listed}) > 10
    exact_b = client.post("/api/v1/customers/search", json={"query": bank.cust_b}, headers=h).json()
    assert (exact_b["count"] == 1) == in_scope(user, bank.cust_b, bank)
    by_phone = client.post("/api/v1/customers/search", json={"query": bank.phone_a}, headers=h).json()
    assert by_phone["by"] == "phone"
    assert [c["customer_id"] for c in by_phone["data"]] == (
        [bank.phone_a_customer] if in_scope(user, bank.phone_a_customer, bank) else []
    )
    form = {"query": bank.cust_b, "csrf_token": csrf}
    page = client.post("/customers/search", data=form, headers={"HX-Request": "true"}).text  # the results only
    assert (bank.cust_b in page) == in_scope(user, bank.cust_b, bank)


def test_dashboard_counts_only_the_branch_of_a_branch_rm(
    bank: Bank, clients: dict[str, tuple[TestClient, str]]
) -> None:
    mine = clients["rm_a"][0].get("/api/v1/dashboard").json()["customers"]
    assert mine["total"] == bank.count_a
    assert [b["key"] for b in mine["by_branch"]] == [bank.branch_a]
    everyone = clients["strategist1"][0].get("/api/v1/dashboard").json()["customers"]
    assert everyone["total"] == 800 and len(everyone["by_branch"]) > 10
    book = clients["remote1"][0].get("/api/v1/dashboard").json()["customers"]
    assert book["total"] == 1


def test_csrf_is_required_for_cookie_sessions_but_not_for_bearer_tokens(app: FastAPI, bank: Bank) -> None:
    from lingxi.auth import service

    client, csrf = login(app, "rm_a")
    assert client.post("/api/v1/customers/search", json={"query": "C"}).status_code == 403
    assert (
        client.post("/api/v1/customers/search", json={"query": "C"}, headers={"X-CSRF-Token": "x" + csrf}).status_code
        == 403
    )
    assert client.post("/customers/search", data={"query": "C"}).status_code == 403
    issued = service.issue_token(app.state.lingxi.store, "rm_a", ["customer:read"], by="cli:test")
    bearer = TestClient(app, base_url="http://localhost")
    r = bearer.post(
        "/api/v1/customers/search", json={"query": "C"}, headers={"Authorization": f"Bearer {issued.secret}"}
    )
    assert r.status_code == 200 and all(c["branch_id"] == bank.branch_a for c in r.json()["data"])
    assert bearer.get("/api/v1/dashboard", headers={"Authorization": "Bearer lxt_nope"}).status_code == 401
    assert bearer.get("/api/v1/dashboard", headers={"Authorization": "Basic abc"}).status_code == 401
