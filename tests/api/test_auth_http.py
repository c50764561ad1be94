"""Signing in and out over HTTP: cookie flags, logout ends the session, headers on every response."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lingxi.api.app import create_app

from ..auth.conftest import FAST, PASSWORD
from .conftest import Bank, login


def test_login_sets_a_strict_httponly_cookie_secure_off_loopback(app: FastAPI, bank: Bank) -> None:
    local = TestClient(app, base_url="http://127.0.0.1:8000")
    cookie = local.post("/api/v1/auth/login", json={"username": "rm_a", "password": PASSWORD}).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    remote = TestClient(app, base_url="http://lingxi.bank.example")
    cookie = remote.post("/api/v1/auth/login", json={"username": "rm_a", "password": PASSWORD}).headers["set-cookie"]
    assert "Secure" in cookie
    forced = create_app(bank.settings, policy=FAST, secure_cookies=True)
    cookie = (
        TestClient(forced, base_url="http://localhost")
        .post("/api/v1/auth/login", json={"username": "rm_a", "password": PASSWORD})
        .headers["set-cookie"]
    )
    assert "Secure" in cookie
    forced.state.lingxi.reader.close()


def test_logout_ends_the_session_in_the_store(app: FastAPI) -> None:
    client, csrf = login(app, "analyst1")
    stolen = dict(client.cookies)
    me = client.get("/api/v1/auth/me").json()
    assert me["role"] == "analyst" and me["csrf_token"] == csrf and me["via"] == "session"
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    replay = TestClient(app, base_url="http://localhost", cookies=stolen)
    assert replay.get("/api/v1/auth/me").status_code == 401


def test_console_sign_in_and_out_with_forms(app: FastAPI) -> None:
    client = TestClient(app, base_url="http://localhost")
    bad = client.post("/login", data={"username": "rm_a", "password": "nope nope nope"})
    assert bad.status_code == 401 and 'data-testid="login-error"' in bad.text
    r = client.post("/login", data={"username": "rm_a", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "rm_a" in home.text
    cross = client.post(
        "/login", data={"username": "rm_a", "password": PASSWORD}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403


def test_security_headers_and_no_caching_of_personal_data(clients: dict[str, Any], bank: Bank) -> None:
    client, _ = clients["rm_a"]
    r = client.get(f"/api/v1/customers/{bank.cust_a}")
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_language_switch_sets_a_cookie_and_pages_follow_it(app: FastAPI) -> None:
    client, _ = login(app, "strategist1")
    assert "经营概览" in client.get("/").text
    r = client.get("/lang/en", headers={"Referer": "http://localhost/customers"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/customers"
    assert "Customer search" in client.get("/customers").text
    assert client.get("/lang/xx", follow_redirects=False).headers["location"] == "/"
    assert 'lang="en"' in client.get("/").text
