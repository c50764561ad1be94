"""Hostile strings through every HTTP request path that reaches SQL: never a 500, nothing beyond scope, data intact.

Each string goes through customer search (API and console), the customer 360 and unmasking (path ids,
API and console), consent read and write, data-subject requests (export, correct, delete, receipts)
and the audit filters (API and console). Values that arrive with a request are bound parameters or
rejected by validation, so every answer is 2xx or 4xx; a search answers only customers of the caller's
scope; and the lake, the users, the consent ledger and the audit chain are the same afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from lingxi.auth import audit

from .conftest import Bank
from .test_consent_http import grant

HOSTILE = [
    "'",
    '"',
    "''",
    "'; DROP TABLE customers; --",
    "C0000' OR '1'='1",
    "') OR TRUE --",
    '"; DROP TABLE "holdings"; --',
    "\\",
    "\\'; SELECT 1; --",
    "\x00",
    "C0\x00' OR 1=1",
    "\x01\x07\x1b[31m\r\n\t\x7f",
    "A" * 10_000,
    "C" + "0" * 40,
    "客户'；删除表",
    "😀' --",
    "%",
    "_",
    "C%",
    "C_",
    "c0%' --",
    "?",
    "$1",
    "? OR 1=1",
    "$1; DROP TABLE lx_user",
    "/../../etc/passwd",
    " ",
    "13800138000' OR '1'='1",
    "+86 138-0013-8000; --",
    # valid as customer numbers, so they reach the SQL as bound values
    "_",
    "-",
    "--",
    "C0000_",
    "c000000000",
    "C000000000--",
    "C0-0_0",
]
TABLES = ("lx_dataset_version", "lx_user", "lx_user_customer", "lx_consent_event", "lx_dsr_request", "lx_erasure")


def fingerprint(app: FastAPI) -> dict[str, Any]:
    """What must not change: published snapshots, customer rows, users and privacy tables, the audit chain."""
    state = app.state.lingxi
    reader = state.reader
    reader.refresh(force=True)
    sql = "SELECT count(*) AS n, count(DISTINCT customer_id) AS ids, count(DISTINCT branch_id) AS b FROM customers"
    counts = reader.rows(sql, label="fingerprint")[0]
    with state.store.connect() as conn:
        rows = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
    report = audit.verify(state.store)
    versions = sorted((s.dataset, s.version, s.row_count) for s in reader.lake.snapshots())
    return {"customers": counts, "tables": rows, "audit_ok": report.ok, "versions": versions}


@pytest.fixture
def intact(app: FastAPI) -> Iterator[None]:
    before = fingerprint(app)
    yield
    assert fingerprint(app) == before


def segment(value: str) -> str:
    return quote(value, safe="")


def no_error(response: Any, *allowed: int) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if allowed:
        assert response.status_code in allowed, (response.status_code, response.text[:500])


def test_customer_search_api(clients: dict[str, tuple[TestClient, str]], bank: Bank, intact: None) -> None:
    for user in ("rm_a", "remote1", "strategist1"):
        client, csrf = clients[user]
        for value in HOSTILE:
            r = client.post("/api/v1/customers/search", json={"query": value}, headers={"X-CSRF-Token": csrf})
            no_error(r, 200, 422)
            if r.status_code != 200:
                continue
            found = r.json()["data"]
            assert all(c["customer_id"].startswith(value.strip().upper()) for c in found), value
            if user == "rm_a":
                assert all(c["branch_id"] == bank.branch_a for c in found)
            if user == "remote1":
                assert {c["customer_id"] for c in found} <= {bank.cust_a}
            if value.strip() in ("C_", "_", "C0000_", "C0-0_0"):  # a literal prefix, never a LIKE wildcard
                assert found == []


def test_customer_search_console(clients: dict[str, tuple[TestClient, str]], bank: Bank, intact: None) -> None:
    client, csrf = clients["rm_a"]
    for value in HOSTILE:
        r = client.post("/customers/search", data={"query": value, "csrf_token": csrf})
        no_error(r, 200)
        assert bank.cust_b not in r.text  # another branch's customer never shows


def test_customer_path_ids(clients: dict[str, tuple[TestClient, str]], intact: None) -> None:
    client, csrf = clients["strategist1"]
    h = {"X-CSRF-Token": csrf}
    unmask = {"fields": ["name"], "reason": "customer_request"}
    for value in HOSTILE:
        cid = segment(value)
        no_error(client.get(f"/api/v1/customers/{cid}"), 404, 405, 422)
        no_error(client.post(f"/api/v1/customers/{cid}/unmask", json=unmask, headers=h), 404, 405, 422)
        no_error(client.get(f"/customers/{cid}"), 404, 405, 422)
        form = {"fields": "name", "reason": "customer_request", "csrf_token": csrf}
        no_error(client.post(f"/customers/{cid}/unmask", data=form), 404, 405, 422)


def test_consent_path_ids(clients: dict[str, tuple[TestClient, str]], intact: None) -> None:
    client, csrf = clients["approver1"]
    for i, value in enumerate(HOSTILE):
        cid = segment(value)
        no_error(client.get(f"/api/v1/customers/{cid}/consents"), 404, 405, 422)
        no_error(client.get(f"/api/v1/customers/{cid}/consents?history=true"), 404, 405, 422)
        keyed = grant(idempotency_key=f"hostile-{i}")
        r = client.post(f"/api/v1/customers/{cid}/consents", json=keyed, headers={"X-CSRF-Token": csrf})
        no_error(r, 404, 405, 422)


def test_dsr_path_ids(clients: dict[str, tuple[TestClient, str]], intact: None) -> None:
    client, csrf = clients["approver1"]
    h = {"X-CSRF-Token": csrf}
    for value in HOSTILE:
        cid = segment(value)
        no_error(client.post(f"/api/v1/customers/{cid}/dsr/export", headers=h), 404, 405, 422)
        fix = {"changes": {"city": value[:256]}}
        no_error(client.post(f"/api/v1/customers/{cid}/dsr/correct", json=fix, headers=h), 404, 405, 422)
        confirm = {"confirm_customer_id": value[:32] or "x"}
        no_error(client.post(f"/api/v1/customers/{cid}/dsr/delete", json=confirm, headers=h), 404, 405, 422)
        no_error(client.post(f"/customers/{cid}/dsr/export", data={"csrf_token": csrf}), 404, 405, 422)
        form = {"confirm_customer_id": value[:32], "csrf_token": csrf}
        no_error(client.post(f"/customers/{cid}/dsr/delete", data=form), 404, 405, 422)
        no_error(client.get("/api/v1/dsr/receipts", params={"customer_id": value}), 200, 422)


def test_audit_filters(clients: dict[str, tuple[TestClient, str]], intact: None) -> None:
    client, _ = clients["auditor1"]
    for value in HOSTILE:
        for key in ("actor", "target", "action", "before_seq", "limit"):
            r = client.get("/api/v1/audit", params={key: value})
            no_error(r, 200, 422)
            if r.status_code == 200 and key in ("actor", "target"):
                assert all(e[key] == value for e in r.json()["data"])
        page = client.get("/audit", params={"actor": value, "target": value, "action": value})
        no_error(page, 200, 422)


#: Hostile text a field may hold: stored and shown back exactly, never run (the rows above that the schema
#: would refuse anyway, NUL and over-long text, are left out).
STORED = [v for v in HOSTILE if "\x00" not in v and len(v) <= 64 and v.strip() and not any(c.isdigit() for c in v)]


def test_hostile_field_values_for_a_real_customer_are_stored_verbatim(
    bank: Bank, clients: dict[str, tuple[TestClient, str]]
) -> None:
    """Values reach the ledger and the lake as data: a consent's evidence and a corrected city come back as sent.

    The customer is one no other test reads (the last of branch B), so changing its city is harmless.
    """
    client, csrf = clients["approver1"]
    h = {"X-CSRF-Token": csrf}
    reader = client.app.state.lingxi.reader  # type: ignore[attr-defined]
    rows = reader.rows(
        "SELECT customer_id FROM customers WHERE branch_id = ? ORDER BY customer_id DESC", [bank.branch_b], label="t"
    )
    cid = rows[0]["customer_id"]
    for i, value in enumerate(STORED):
        body = grant(idempotency_key=f"stored-{i}", evidence=value, notice_version=value)
        r = client.post(f"/api/v1/customers/{cid}/consents", json=body, headers=h)
        assert r.status_code == 201, (value, r.text)
        assert (r.json()["evidence"], r.json()["notice_version"]) == (value, value)
    history = client.get(f"/api/v1/customers/{cid}/consents?history=true").json()["history"]
    assert [e["evidence"] for e in history][-len(STORED) :] == STORED
    for value in STORED[:5]:
        fixed = client.post(f"/api/v1/customers/{cid}/dsr/correct", json={"changes": {"city": value}}, headers=h)
        assert fixed.status_code == 200, (value, fixed.text)
        assert client.get(f"/api/v1/customers/{cid}").json()["profile"]["city"] == value
