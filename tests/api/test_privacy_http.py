"""Data-subject requests over HTTP on a bank of their own (erasure is destructive), and the PI inventory.

The DSR tests build a second small bank for this module so that deleting a customer cannot change what
the shared session bank shows the other tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lingxi.api.app import create_app
from lingxi.auth import audit

from ..auth.conftest import FAST
from .conftest import USERS, Bank, build_bank, login


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, Bank]]:
    bank = build_bank(Path(tmp_path_factory.mktemp("dsrbank")))
    application = create_app(bank.settings, policy=FAST)
    with TestClient(application, base_url="http://localhost"):  # runs the lifespan (serving copies)
        yield application, bank
    application.state.lingxi.reader.close()


def test_export_correct_delete_and_receipts(own: tuple[FastAPI, Bank]) -> None:
    app, bank = own
    client, csrf = login(app, "approver1")
    h = {"X-CSRF-Token": csrf}
    cid = bank.cust_a2
    assert client.post(f"/api/v1/customers/{cid}/dsr/export").status_code == 403  # CSRF for cookie sessions

    export = client.post(f"/api/v1/customers/{cid}/dsr/export", headers=h)
    assert export.status_code == 200, export.text
    doc, receipt = export.json()["document"], export.json()["receipt"]
    assert doc["format"] == "lingxi.dsr.export/1" and doc["customer_id"] == cid
    assert [r["customer_id"] for r in doc["lake"]["customers"]] == [cid]
    assert receipt["kind"] == "export" and receipt["request_id"] == doc["request_id"]
    exports = audit.search(app.state.lingxi.store, audit.AuditQuery(action=audit.Action.EXPORT, limit=10))
    assert any(receipt["request_id"] in (e.detail or "") for e in exports)

    fixed = client.post(f"/api/v1/customers/{cid}/dsr/correct", json={"changes": {"city": "绍兴"}}, headers=h)
    assert fixed.status_code == 200 and fixed.json()["kind"] == "correction", fixed.text
    assert client.get(f"/api/v1/customers/{cid}").json()["profile"]["city"] == "绍兴"

    unconfirmed = client.post(f"/api/v1/customers/{cid}/dsr/delete", json={"confirm_customer_id": "C1"}, headers=h)
    assert unconfirmed.status_code == 422 and client.get(f"/api/v1/customers/{cid}").status_code == 200
    gone = client.post(f"/api/v1/customers/{cid}/dsr/delete", json={"confirm_customer_id": cid}, headers=h)
    assert gone.status_code == 200 and gone.json()["kind"] == "deletion", gone.text
    assert cid not in gone.text  # the receipt names the customer only by keyed reference
    for user in USERS:
        other, _ = login(app, user)
        assert other.get(f"/api/v1/customers/{cid}").status_code == (403 if user in {"admin1", "auditor1"} else 404)
    listed = client.get("/api/v1/dsr/receipts", params={"customer_id": cid}).json()
    assert [r["kind"] for r in listed["data"]] == ["deletion", "correction", "export"]
    assert listed["data"][0]["request_id"] == gone.json()["request_id"]
    assert gone.json()["request_id"] in {r["request_id"] for r in client.get("/api/v1/dsr/receipts").json()["data"]}
    again = client.post(f"/api/v1/customers/{cid}/dsr/delete", json={"confirm_customer_id": cid}, headers=h)
    assert again.status_code == 404 and again.json()["ok"] is False


def test_correction_is_limited_to_correctable_fields(own: tuple[FastAPI, Bank]) -> None:
    """F6: scope, risk and keys are refused with the field named and the correctable ones listed."""
    app, bank = own
    client, csrf = login(app, "approver1")
    h = {"X-CSRF-Token": csrf}
    cid = bank.cust_a
    before = client.get(f"/api/v1/customers/{cid}").json()["profile"]
    for field, value in (("branch_id", "BR9999"), ("risk_level", "C5"), ("customer_id", "C999"), ("status", "closed")):
        refused = client.post(f"/api/v1/customers/{cid}/dsr/correct", json={"changes": {field: value}}, headers=h)
        assert refused.status_code == 422, (field, refused.text)
        assert f"`{field}`" in refused.text and "correctable: name" in refused.text and "address" in refused.text
    after = client.get(f"/api/v1/customers/{cid}").json()["profile"]
    assert (after["branch_id"], after["risk_level"]) == (before["branch_id"], before["risk_level"])
    fixed = client.post(f"/api/v1/customers/{cid}/dsr/correct", json={"changes": {"address": "新地址 1 号"}}, headers=h)
    assert fixed.status_code == 200, fixed.text
    assert client.get(f"/api/v1/customers/{cid}").status_code == 200


def test_dsr_needs_compliance_and_scope(own: tuple[FastAPI, Bank]) -> None:
    app, bank = own
    for user in ("rm_a", "strategist1", "analyst1", "auditor1", "admin1"):
        client, csrf = login(app, user)
        r = client.post(f"/api/v1/customers/{bank.cust_a}/dsr/export", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403 and r.json()["status"] == 403, user
        assert client.get("/api/v1/dsr/receipts").status_code == 403


def test_console_panel_export_download_and_delete(own: tuple[FastAPI, Bank]) -> None:
    app, bank = own
    client, csrf = login(app, "approver1")
    page = client.get(f"/customers/{bank.cust_b}").text
    assert 'data-testid="dsr-panel"' in page and f'action="/customers/{bank.cust_b}/dsr/delete"' in page
    assert 'data-testid="dsr-panel"' not in login(app, "rm_b")[0].get(f"/customers/{bank.cust_b}").text
    download = client.post(f"/customers/{bank.cust_b}/dsr/export", data={"csrf_token": csrf})
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert bank.cust_b not in download.headers["content-disposition"]
    assert download.json()["document"]["customer_id"] == bank.cust_b
    form = {"csrf_token": csrf, "confirm_customer_id": bank.cust_b}
    receipt = client.post(f"/customers/{bank.cust_b}/dsr/delete", data=form, headers={"Accept": "text/html"})
    assert receipt.status_code == 200 and 'data-testid="dsr-receipt"' in receipt.text
    assert client.get(f"/api/v1/customers/{bank.cust_b}").status_code == 404


def test_inventory_and_sharing_json_and_pages(app: FastAPI, clients: dict[str, tuple[TestClient, str]]) -> None:
    for user in USERS:  # no customer data: every signed-in role may read them
        client, _ = clients[user]
        inv = client.get("/api/v1/privacy/inventory").json()
        assert inv["count"] == len(inv["data"]) > 5 and set(inv["classes"]) == {"C1", "C2", "C3"}
        assert {("customers", "name"), ("customers", "phone_hash")} <= {(i["table"], i["column"]) for i in inv["data"]}
        assert all(i["personal"] for i in inv["data"])
        assert client.get("/api/v1/privacy/sharing").json() == {"data": [], "count": 0, "shares": False}
    client, _ = login(app, "rm_a")  # its own client: a shared one may carry another test's language cookie
    zh = client.get("/privacy/inventory").text
    assert "个人信息清单" in zh and 'data-testid="inventory"' in zh and 'href="/privacy/inventory"' in zh
    client.cookies.set("lx_lang", "en")
    assert "Lingxi provides personal information to no third party." in client.get("/privacy/sharing").text
