"""Out-of-range input is a 422 naming the field, never a 500 (issue 10, F8 and F9)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lingxi.auth import audit

from ..auth.conftest import PASSWORD
from .conftest import Bank
from .test_consent_http import grant

HUGE = "9223372036854775808"  # one past the largest 64-bit integer


@pytest.mark.parametrize("path", ["/audit", "/api/v1/audit"])
def test_an_audit_page_past_64_bits_is_refused(clients: dict[str, tuple[TestClient, str]], path: str) -> None:
    client, _ = clients["auditor1"]
    r = client.get(path, params={"before_seq": HUGE}, headers={"accept": "text/html"})
    assert r.status_code == 422


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00", "1900-05-04T09:00:00+08:00"]
)
def test_consent_times_out_of_range_are_refused(
    bank: Bank, clients: dict[str, tuple[TestClient, str]], when: str
) -> None:
    client, csrf = clients["approver1"]
    r = client.post(
        f"/api/v1/customers/{bank.cust_a}/consents", json=grant(occurred_at=when), headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 422, r.text
    assert "occurred_at" in r.text and "out of range" in r.text


def test_a_body_over_the_limit_is_refused_before_it_is_read(anonymous: TestClient) -> None:
    big = b'{"username": "' + b"a" * (30 * 1024 * 1024) + b'", "password": "x"}'
    r = anonymous.post("/api/v1/auth/login", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["status"] == 413 and "larger than 1,048,576 bytes" in r.json()["error"]

    def chunks():  # no Content-Length: refused once the limit is passed, without reading the rest
        for _ in range(64):
            yield b"a" * (512 * 1024)

    r = anonymous.post("/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    small = anonymous.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong password"})
    assert small.status_code == 401  # bodies under the limit reach the route as before


def test_a_refused_path_is_audited_without_the_identifiers_in_it(
    app: FastAPI, clients: dict[str, tuple[TestClient, str]]
) -> None:
    """F3: the `access_denied` entry names the route, never a mobile or ID number typed into the path."""
    client, _ = clients["auditor1"]  # no customer:read: refused at the permission check, which is audited
    for secret in ("13912345678", "110101199003074518"):
        assert client.get(f"/api/v1/customers/{secret}").status_code in (403, 422)
    entries = audit.search(app.state.lingxi.store, audit.AuditQuery(action=audit.Action.ACCESS_DENIED, limit=50))
    assert entries and not any(
        "13912345678" in (e.target or "") or "110101199003074518" in (e.target or "") for e in entries
    )


def test_https_responses_tell_browsers_to_stay_on_https(anonymous: TestClient) -> None:
    secure = TestClient(anonymous.app, base_url="https://localhost")
    assert "max-age=" in secure.get("/api/v1/health").headers["strict-transport-security"]
    assert "strict-transport-security" not in anonymous.get("/api/v1/health").headers  # plain HTTP on loopback


def test_over_https_the_session_cookie_is_host_prefixed(anonymous: TestClient) -> None:
    """Over HTTPS the cookie is `__Host-lx_session` (Secure, path /, no Domain): a subdomain cannot plant it."""
    secure = TestClient(anonymous.app, base_url="https://localhost")
    r = secure.post("/api/v1/auth/login", json={"username": "strategist1", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-lx_session=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    assert secure.get("/api/v1/auth/me").status_code == 200  # the prefixed cookie signs the browser in
    out = secure.post("/api/v1/auth/logout", headers={"X-CSRF-Token": r.json()["csrf_token"]})
    assert out.status_code == 200 and secure.get("/api/v1/auth/me").status_code == 401
    plain = TestClient(anonymous.app, base_url="http://localhost")
    r = plain.post("/api/v1/auth/login", json={"username": "strategist1", "password": PASSWORD})
    assert r.headers["set-cookie"].startswith("lx_session=")  # plain HTTP on loopback (development)


def test_a_correction_with_a_birth_date_out_of_range_is_refused(
    bank: Bank, clients: dict[str, tuple[TestClient, str]]
) -> None:
    """Year 1 and 9999 are valid dates but no birth date: 422 naming the field, and nothing is corrected."""
    client, csrf = clients["approver1"]
    for when in ("0001-01-01", "9999-12-31"):
        r = client.post(
            f"/api/v1/customers/{bank.cust_b}/dsr/correct",
            json={"changes": {"birth_date": when}},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 422, r.text
        assert "`birth_date`" in r.json()["error"] and "out of range" in r.json()["error"]


@pytest.mark.parametrize(
    "field, request_args",
    [
        ("evidence", ("POST", "/api/v1/customers/{cust_a}/consents", {"json": grant(evidence="app\x00form")})),
        ("notice_version", ("POST", "/api/v1/customers/{cust_a}/consents", {"json": grant(notice_version="v\x003")})),
        ("changes.city", ("POST", "/api/v1/customers/{cust_b}/dsr/correct", {"json": {"changes": {"city": "x\x00"}}})),
        ("actor", ("GET", "/api/v1/audit", {"params": {"actor": "rm\x00"}})),
        ("target", ("GET", "/api/v1/audit", {"params": {"target": "\x00"}})),
        ("target", ("GET", "/audit", {"params": {"target": "\x00"}, "headers": {"accept": "text/html"}})),
    ],
)
def test_a_nul_character_is_refused_naming_the_field(
    bank: Bank, clients: dict[str, tuple[TestClient, str]], field: str, request_args: tuple[str, str, dict[str, Any]]
) -> None:
    """PostgreSQL can neither store nor compare U+0000: on that store these were 500s. Now 422 on every store."""
    client, csrf = clients["approver1"]
    method, path, given = request_args
    kwargs = dict(given)
    url = path.format(cust_a=bank.cust_a, cust_b=bank.cust_b)
    headers = {"X-CSRF-Token": csrf} | kwargs.pop("headers", {})
    r = client.request(method, url, headers=headers, **kwargs)
    assert r.status_code == 422, r.text
    assert f"`{field}`" in r.text and "NUL" in r.text
