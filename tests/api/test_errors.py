"""One error shape on every route: anonymous (401), wrong method (405), bad ids (422), unknown paths (404).

Console routes answer the same JSON shape to a client that does not ask for HTML; a browser gets the
page form of it (or the sign-in page on 401). A forced 500 shows no stack trace and no SQL (R49).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lingxi.auth.roles import permissions_of

from .conftest import Bank
from .matrix import MATRIX, PUBLIC, call


def assert_shape(body: Any, status: int) -> None:
    assert set(body) == {"ok", "error", "errors", "status"}, body
    assert body["ok"] is False and body["status"] == status and isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list)


@pytest.mark.parametrize("key", list(MATRIX), ids=str)
def test_every_route_answers_errors_in_the_one_shape(key: tuple[str, str], anonymous: TestClient) -> None:
    method, path = key
    if MATRIX[key].permission != PUBLIC:
        r = call(anonymous, "", method, path)
        assert r.status_code == 401
        assert_shape(r.json(), 401)
    wrong = "DELETE" if method != "DELETE" else "PUT"
    url = (path if method != "MOUNT" else "/static/app.css").replace("{customer_id}", "C1").replace("{code}", "en")
    r = anonymous.request(wrong, url)
    assert r.status_code == 405
    assert_shape(r.json(), 405)


@pytest.mark.parametrize("key", [k for k in MATRIX if "{customer_id}" in k[1]], ids=str)
def test_malformed_customer_ids_are_422_in_the_shape(key: tuple[str, str], clients: dict[str, Any]) -> None:
    user = "rm_a" if MATRIX[key].permission in permissions_of("branch_rm") else "approver1"  # DSR: compliance
    client, csrf = clients[user]
    r = call(client, csrf, *key, customer="C1%27%20OR%201=1")
    assert r.status_code == 422
    assert_shape(r.json(), 422)


def test_validation_unknown_paths_and_content_types(clients: dict[str, Any], anonymous: TestClient) -> None:
    client, csrf = clients["rm_a"]
    h = {"X-CSRF-Token": csrf}
    r = client.post("/api/v1/customers/search", json={"query": ""}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"][-1] == "query"
    r = client.post("/api/v1/customers/search", json={"query": "张三"}, headers=h)  # names are not searchable
    assert_shape(r.json(), 422)
    r = client.post("/api/v1/customers/search", content=b"query=C", headers={**h, "Content-Type": "text/plain"})
    assert_shape(r.json(), 415)
    assert_shape(anonymous.get("/api/v1/nothing-here").json(), 404)
    r = anonymous.post("/api/v1/auth/login", json={"username": "rm_a", "password": "wrong password!"})
    assert_shape(r.json(), 401)
    assert "rm_a" not in r.json()["error"]


def test_browsers_get_pages_for_errors_and_the_sign_in_page_for_401(
    clients: dict[str, Any], anonymous: TestClient, bank: Bank
) -> None:
    html = {"Accept": "text/html"}
    r = anonymous.get("/customers", headers=html, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    client, _ = clients["auditor1"]
    r = client.get("/customers", headers=html)
    assert r.status_code == 403 and "<html" in r.text
    client, _ = clients["rm_a"]
    r = client.get(f"/customers/{bank.cust_b}", headers=html)
    assert r.status_code == 404 and "<html" in r.text and bank.branch_b not in r.text


def test_an_internal_error_is_a_generic_500_without_sql_or_trace(
    app: FastAPI, clients: dict[str, Any], bank: Bank
) -> None:
    client = TestClient(app, base_url="http://localhost", raise_server_exceptions=False)
    client.cookies = clients["strategist1"][0].cookies
    reader = app.state.lingxi.reader
    original = reader.rows

    def broken(sql: str, params: Any = (), *, label: str) -> Any:
        raise RuntimeError("SELECT secret FROM customers -- boom")

    reader.rows = broken
    try:
        r = client.get(f"/api/v1/customers/{bank.cust_a}")
    finally:
        reader.rows = original
    assert_shape(r.json(), 500)
    assert "SELECT" not in r.text and "Traceback" not in r.text and "correlation id" in r.json()["error"]
