"""The consent ledger over HTTP: record, read, idempotent retries, conflicting reuse, scope, tokens, CSRF.

Runs on the shared bank: consent events are appended under fresh keys and only for customers these tests
own (cust_a2 for the console user, cust_a for the machine client), so other tests' assertions are untouched.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lingxi.auth import service
from lingxi.privacy import consent

from .conftest import Bank


def grant(**overrides: Any) -> dict[str, Any]:
    body = {
        "purpose": "marketing",
        "channel": "sms",
        "status": "granted",
        "source": "branch",
        "occurred_at": "2026-01-05T09:30:00+08:00",
        "idempotency_key": f"test-{uuid.uuid4().hex}",
        "notice_version": "v3",
        "evidence": "branch-form-17",
    }
    return body | overrides


def shape(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["ok"] is False and body["status"] == status and body["error"]
    return body


def test_record_retry_conflict_and_read_back(
    app: FastAPI, bank: Bank, clients: dict[str, tuple[TestClient, str]]
) -> None:
    client, csrf = clients["rm_a"]
    h = {"X-CSRF-Token": csrf}
    url = f"/api/v1/customers/{bank.cust_a2}/consents"
    body = grant()
    first = client.post(url, json=body, headers=h)
    assert first.status_code == 201, first.text
    event = first.json()
    assert event["status"] == "granted" and event["occurred_at"].startswith("2026-01-05T01:30:00")  # stored in UTC
    retry = client.post(url, json=body, headers=h)
    assert retry.status_code == 200 and retry.json() == event
    conflict = shape(client.post(url, json=body | {"status": "withdrawn"}, headers=h), 409)
    assert "idempotency key" in conflict["error"]

    state = client.get(url).json()
    assert state["history"] is None
    lib = consent.current_consent(app.state.lingxi.store, bank.cust_a2)  # the simulated bank imported consents too
    assert state["personalisation"]["allowed"] is bool(lib.personalisation())
    assert state["personalisation"]["reason"] == (None if lib.personalisation() else "PERSONALISATION_OPTOUT")
    assert len(state["decisions"]) == len(consent.PURPOSES) * len(consent.CONCRETE_CHANNELS)
    sms = next(d for d in state["decisions"] if d["purpose"] == "marketing" and d["channel"] == "sms")
    assert sms == {
        "purpose": "marketing",
        "channel": "sms",
        "allowed": True,
        "reason": None,
        "event_id": event["event_id"],
    }

    withdrawal = grant(status="withdrawn", occurred_at="2026-01-06T10:00:00+08:00")
    del withdrawal["notice_version"], withdrawal["evidence"]  # withdrawing is as easy as granting (R4)
    key = withdrawal.pop("idempotency_key")
    r = client.post(url, json=withdrawal, headers=h | {"Idempotency-Key": key})
    assert r.status_code == 201 and r.json()["idempotency_key"] == key
    after = client.get(url, params={"history": "true"}).json()
    assert [e["event_id"] for e in after["history"]][-2:] == [event["event_id"], r.json()["event_id"]]
    sms = next(d for d in after["decisions"] if d["purpose"] == "marketing" and d["channel"] == "sms")
    assert sms["allowed"] is False and sms["reason"] == "CONSENT_WITHDRAWN"


def test_invalid_events_are_422_in_the_one_shape(bank: Bank, clients: dict[str, tuple[TestClient, str]]) -> None:
    client, csrf = clients["rm_a"]
    h = {"X-CSRF-Token": csrf}
    url = f"/api/v1/customers/{bank.cust_a2}/consents"
    body = grant()
    key = body.pop("idempotency_key")
    shape(client.post(url, json=body, headers=h), 422)  # no key at all
    shape(client.post(url, json=body | {"idempotency_key": key}, headers=h | {"Idempotency-Key": "other"}), 422)
    shape(client.post(url, json=grant(occurred_at="2026-01-05T09:30:00"), headers=h), 422)  # no time zone
    shape(client.post(url, json=grant(occurred_at="2999-01-01T00:00:00+08:00"), headers=h), 422)  # future
    no_notice = grant()
    del no_notice["notice_version"]
    assert "notice_version" in str(shape(client.post(url, json=no_notice, headers=h), 422))
    shape(client.post(url, json=grant(purpose="profiling"), headers=h), 422)
    assert client.post(url, json=grant()).status_code == 403  # a cookie session needs the CSRF token


def test_no_cross_branch_write_or_read(app: FastAPI, bank: Bank, clients: dict[str, tuple[TestClient, str]]) -> None:
    client, csrf = clients["rm_a"]
    body = grant()
    r = client.post(f"/api/v1/customers/{bank.cust_b}/consents", json=body, headers={"X-CSRF-Token": csrf})
    shape(r, 404)
    store = app.state.lingxi.store
    assert all(e.idempotency_key != body["idempotency_key"] for e in consent.history(store, bank.cust_b))
    shape(client.get(f"/api/v1/customers/{bank.cust_b}/consents"), 404)
    shape(clients["remote1"][0].get(f"/api/v1/customers/{bank.cust_a2}/consents"), 404)  # not in the book
    shape(clients["auditor1"][0].get(f"/api/v1/customers/{bank.cust_a}/consents"), 403)


def test_the_banks_app_records_with_a_bearer_token_and_needs_scope(app: FastAPI, bank: Bank) -> None:
    store = app.state.lingxi.store
    scopes = ["consent:write", "customer:read", "customer:read_all_branches"]
    token = service.issue_token(store, "approver1", scopes, by="cli:test", name="mobile-app").secret
    api = TestClient(app, base_url="http://localhost")
    h = {"Authorization": f"Bearer {token}"}
    r = api.post(f"/api/v1/customers/{bank.cust_a}/consents", json=grant(source="app"), headers=h)
    assert r.status_code == 201 and r.json()["actor"].startswith("approver1")  # no CSRF for bearer tokens
    write_only = service.issue_token(store, "approver1", ["consent:write"], by="cli:test").secret
    r = api.post(
        f"/api/v1/customers/{bank.cust_a}/consents", json=grant(), headers={"Authorization": f"Bearer {write_only}"}
    )
    shape(r, 404)  # without customer:read no customer is in scope (docs/privacy.md)


def test_an_idempotency_key_reveals_nothing_about_another_customer(app: FastAPI, bank: Bank) -> None:
    """Security finding: the same key for another customer is a new event (201), not a 409 that confirms it exists."""
    scopes = ["consent:write", "customer:read", "customer:read_all_branches"]
    token = service.issue_token(app.state.lingxi.store, "approver1", scopes, by="cli:test", name="app-k").secret
    api = TestClient(app, base_url="http://localhost", headers={"Authorization": f"Bearer {token}"})
    body = grant(purpose="third_party_sharing", channel="call", occurred_at="2020-06-01T09:00:00+08:00")
    url_a, url_b = (f"/api/v1/customers/{c}/consents" for c in (bank.cust_a, bank.cust_a2))
    first = api.post(url_a, json=body)
    assert first.status_code == 201, first.text
    other = api.post(url_b, json=body | {"status": "withdrawn"})  # even with different content: B's own event
    assert other.status_code == 201, other.text
    assert other.json()["customer_id"] == bank.cust_a2 and other.json()["event_id"] != first.json()["event_id"]
    retry = api.post(url_a, json=body)
    assert retry.status_code == 200 and retry.json() == first.json()
    header = {"Idempotency-Key": body["idempotency_key"]}
    assert api.post(url_b, json=body | {"idempotency_key": None, "status": "withdrawn"}, headers=header).json() == (
        other.json()
    )
    assert "idempotency key" in shape(api.post(url_a, json=body | {"status": "withdrawn"}), 409)["error"]
