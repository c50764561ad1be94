"""Masking per role in every API response, unmasking with a reason, and the audit entries for both.

The identifier sweep is COMPLIANCE.md R24's test: no full 11-digit mobile, 18-character ID number or
13–19-digit card number in any body any role receives.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI

from lingxi.auth import audit

from .conftest import USERS, Bank

MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
ID_NO = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
CARD = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
MASKED_NAME = re.compile(r"^[\u3400-\u9fff]{1,2}\*\*$")


def no_identifiers(text: str) -> None:
    for pattern in (MOBILE, ID_NO, CARD):
        assert not pattern.search(text), (pattern.pattern, pattern.search(text))


@pytest.mark.parametrize("user", sorted(USERS))
def test_no_full_identifier_in_any_response_of_any_role(user: str, bank: Bank, clients: dict[str, Any]) -> None:
    client, csrf = clients[user]
    h = {"X-CSRF-Token": csrf}
    bodies = [
        client.get(f"/api/v1/customers/{bank.cust_a}").text,
        client.post("/api/v1/customers/search", json={"query": "C", "limit": 100}, headers=h).text,
        client.post("/api/v1/customers/search", json={"query": bank.phone_a}, headers=h).text,
        client.get("/api/v1/dashboard").text,
        client.get(f"/customers/{bank.cust_a}").text,
        client.get("/api/v1/audit").text,
    ]
    for body in bodies:
        no_identifiers(body)


@pytest.mark.parametrize("user", ["strategist1", "analyst1", "approver1", "rm_a", "remote1"])
def test_profile_is_masked_for_every_reading_role(user: str, bank: Bank, clients: dict[str, Any]) -> None:
    body = clients[user][0].get(f"/api/v1/customers/{bank.cust_a}").json()
    profile = body["profile"]
    assert MASKED_NAME.match(profile["name"]), profile["name"]
    assert profile["address"].endswith("****")
    assert "phone_hash" not in profile and "id_no_hash" not in profile
    assert all(re.fullmatch(r"\*{4,}\d{4}", a["account_no_last4"]) for a in body["accounts"] if a["account_no_last4"])
    assert body["unmasked"] == []


def entries(app: FastAPI, **filters: Any) -> list[audit.Entry]:
    return audit.search(app.state.lingxi.store, audit.AuditQuery(limit=50, **filters))


def test_a_customer_read_is_audited_with_the_field_names_and_no_values(
    app: FastAPI, bank: Bank, clients: dict[str, Any]
) -> None:
    client, _ = clients["approver1"]
    client.get(f"/api/v1/customers/{bank.cust_a2}")
    read = entries(app, actor="approver1", target=bank.cust_a2, action=audit.Action.CUSTOMER_READ)[0]
    assert read.role == "approver" and "name" in read.fields and "address" in read.fields
    assert read.result == "ok"


def test_branch_rm_unmasks_the_name_with_a_reason_and_it_is_audited(
    app: FastAPI, bank: Bank, clients: dict[str, Any]
) -> None:
    client, csrf = clients["rm_a"]
    body = {"fields": ["name"], "reason": "COMPLAINT_HANDLING"}
    r = client.post(f"/api/v1/customers/{bank.cust_a}/unmask", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    shown = r.json()
    assert shown["unmasked"] == ["name"] and not shown["profile"]["name"].endswith("**")
    assert shown["profile"]["address"].endswith("****")  # only what was asked for
    entry = entries(app, actor="rm_a", target=bank.cust_a, action=audit.Action.UNMASK)[0]
    assert entry.fields == ("name",) and entry.reason == "COMPLAINT_HANDLING"
    assert shown["profile"]["name"] not in (entry.detail or "")


@pytest.mark.parametrize(
    ("user", "body"),
    [
        ("strategist1", {"fields": ["name"], "reason": "CUSTOMER_CONTACT"}),  # role may not unmask
        ("rm_a", {"fields": ["address"], "reason": "CUSTOMER_CONTACT"}),  # nobody unmasks addresses by default
    ],
)
def test_unmasking_without_the_permission_is_refused_and_audited(
    user: str, body: dict[str, Any], app: FastAPI, bank: Bank, clients: dict[str, Any]
) -> None:
    client, csrf = clients[user]
    r = client.post(f"/api/v1/customers/{bank.cust_a2}/unmask", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
    denied = entries(app, actor=user, target=bank.cust_a2, action=audit.Action.ACCESS_DENIED)[0]
    assert denied.result == "unmask_refused" and denied.fields == tuple(body["fields"])


def test_unmasking_needs_a_known_reason(bank: Bank, clients: dict[str, Any]) -> None:
    client, csrf = clients["rm_a"]
    r = client.post(
        f"/api/v1/customers/{bank.cust_a}/unmask",
        json={"fields": ["name"], "reason": "CURIOUS"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 422


def test_cross_branch_attempts_and_missing_permissions_are_audited(
    app: FastAPI, bank: Bank, clients: dict[str, Any]
) -> None:
    clients["rm_a"][0].get(f"/api/v1/customers/{bank.cust_b}")
    denied = entries(app, actor="rm_a", target=bank.cust_b, action=audit.Action.ACCESS_DENIED)[0]
    assert denied.result == "out_of_scope"
    clients["admin1"][0].get("/api/v1/dashboard")
    refused = entries(app, actor="admin1", action=audit.Action.ACCESS_DENIED)[0]
    assert refused.result == "missing_permission" and refused.target == "GET /api/v1/dashboard"


def test_search_is_audited_without_the_query(app: FastAPI, bank: Bank, clients: dict[str, Any]) -> None:
    client, csrf = clients["rm_a"]
    client.post("/api/v1/customers/search", json={"query": bank.phone_a}, headers={"X-CSRF-Token": csrf})
    entry = entries(app, actor="rm_a", target="search")[0]
    assert entry.detail == "search by phone: 1 customer(s) listed"
    assert bank.phone_a not in str(entry.as_dict())


def test_the_auditor_reads_the_log_and_the_read_is_itself_audited(app: FastAPI, clients: dict[str, Any]) -> None:
    client, _ = clients["auditor1"]
    page = client.get("/api/v1/audit", params={"action": "login", "limit": 5}).json()
    assert page["count"] == 5 and {e["action"] for e in page["data"]} == {"login"}
    assert page["next_before_seq"] is not None
    older = client.get("/api/v1/audit", params={"action": "login", "before_seq": page["next_before_seq"]}).json()
    assert all(e["seq"] < page["next_before_seq"] for e in older["data"])
    assert entries(app, actor="auditor1", action=audit.Action.AUDIT_READ)
    html = client.get("/audit", params={"action": "unmask"}).text
    assert "unmask" in html and "<table" in html
    assert audit.verify(app.state.lingxi.store).ok


def test_the_360_shows_consent_from_the_ledger(bank: Bank, clients: dict[str, Any]) -> None:
    from datetime import UTC, datetime

    from lingxi.privacy.consent import record_consent
    from lingxi.store import connect

    store = connect(bank.settings.resolved_database_url)
    try:
        record_consent(
            store,
            customer_id=bank.cust_b,
            purpose="marketing",
            channel="push",
            status="withdrawn",
            source="app",
            occurred_at=datetime.now(UTC),
            idempotency_key="test-360-withdrawal",
            actor=audit.Who("cli:test"),
            hash_key=bank.settings.keyring().hash_key,
        )
    finally:
        store.dispose()
    client, _ = clients["strategist1"]
    consents = client.get(f"/api/v1/customers/{bank.cust_b}").json()["consents"]
    push = [c for c in consents if c["purpose"] == "marketing" and c["channel"] == "push"]
    assert push and push[0]["status"] == "withdrawn" and push[0]["source"] == "app"
