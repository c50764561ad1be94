"""The quarantine over HTTP: who may read it, what each role sees of the rows, and the audit of each read."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from lingxi.auth import audit
from lingxi.store import connect

from .conftest import Bank, Quarantined, quarantine_customers

MASKED_NAME = re.compile(r"^[\u3400-\u9fff]{1,2}\*\*$")


@pytest.fixture(scope="module")
def quarantined(bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> Quarantined:
    return quarantine_customers(bank, tmp_path_factory.mktemp("quarantine"))


def entries(bank: Bank, actor: str) -> list[audit.Entry]:
    store = connect(bank.settings.resolved_database_url)
    try:
        return audit.search(store, audit.AuditQuery(actor=actor, action="quarantine_read"))
    finally:
        store.dispose()


@pytest.mark.parametrize("user", ["admin1", "analyst1", "strategist1", "rm_a", "auditor1"])
def test_only_the_admin_and_the_analyst_read_the_quarantine(
    user: str, clients: dict[str, tuple[TestClient, str]], quarantined: Quarantined
) -> None:
    client, _ = clients[user]
    listed = client.get("/api/v1/quarantine")
    shown = client.get(f"/api/v1/quarantine/customers?load_id={quarantined.load_id}")
    if user not in ("admin1", "analyst1"):
        assert (listed.status_code, shown.status_code) == (403, 403)
        assert "ingest:quarantine" in listed.json()["error"]
        return
    assert listed.status_code == 200
    mine = [q for q in listed.json()["data"] if q["load_id"] == quarantined.load_id]
    assert mine and mine[0]["status"] == "rejected" and mine[0]["table"] == "customers"
    assert mine[0]["reasons"] == {"gender: not_allowed": 5, "birth_date: bad_type": 2}
    assert shown.status_code == 200 and shown.json()["load"]["load_id"] == quarantined.load_id


def test_the_analyst_sees_rows_as_the_customer_360_shows_them_and_each_read_is_audited(
    bank: Bank, clients: dict[str, tuple[TestClient, str]], quarantined: Quarantined
) -> None:
    client, _ = clients["analyst1"]
    before = len(entries(bank, "analyst1"))
    body = client.get(f"/api/v1/quarantine/customers?load_id={quarantined.load_id}&reason=not_allowed").json()
    reasons = {(r["field"], r["code"]): r for r in body["reasons"]}
    gender = reasons[("gender", "not_allowed")]
    assert gender["rows"] == 5 and gender["top"] == [{"value": "9", "rows": 5}]
    assert [(m["section"], m["line"], m["text"].strip()) for m in gender["mapping"]] == [
        ("columns", 7, "gender: XB"),
        ("values", 9, 'gender: {"1": M, "2": F}'),
    ]
    assert reasons[("birth_date", "bad_type")]["top"] == [{"value": "19781302", "rows": 2}]
    assert body["mapping_file"].endswith("customers.yaml")
    samples = body["samples"]
    assert [(s["row"], s["field"], s["value"]) for s in samples] == [(i, "gender", "9") for i in range(1, 6)]
    assert all(MASKED_NAME.match(s["record"]["name"]) for s in samples)  # names masked, as on the 360
    assert all(s["record"]["customer_id"].startswith("Q") for s in samples)  # head office reads every branch
    assert not any(name in str(body) for name in quarantined.names)
    new = entries(bank, "analyst1")[: len(entries(bank, "analyst1")) - before]
    assert [(e.target, e.fields, e.role) for e in new] == [("customers", ("birth_date", "gender"), "analyst")]
    assert quarantined.load_id in (new[0].detail or "") and "not_allowed" in (new[0].detail or "")


def test_the_admin_sees_every_personal_value_masked(
    clients: dict[str, tuple[TestClient, str]], quarantined: Quarantined
) -> None:
    client, _ = clients["admin1"]
    body = client.get(f"/api/v1/quarantine/customers?load_id={quarantined.load_id}").json()
    tops = {r["field"]: r["top"] for r in body["reasons"]}
    assert tops == {"gender": [{"value": "*", "rows": 5}], "birth_date": [{"value": "99999999", "rows": 2}]}
    assert len(body["samples"]) == 7
    for sample in body["samples"]:
        record = sample["record"]
        assert re.fullmatch(r"Q\*{6}", record["customer_id"])  # the admin reads no customer: the number is hidden
        assert MASKED_NAME.match(record["name"]) and set(record["birth_date"]) <= {"9"}
        assert record["gender"] == "*" and sample["value"] in ("*", "99999999")
    assert "19781302" not in str(body) and not any(name in str(body) for name in quarantined.names)


def test_bad_parameters_are_refused_with_the_fix(
    clients: dict[str, tuple[TestClient, str]], quarantined: Quarantined
) -> None:
    client, _ = clients["analyst1"]
    wrong = client.get("/api/v1/quarantine/customers?reason=not_alowed")
    assert wrong.status_code == 422 and "did you mean `not_allowed`" in wrong.json()["errors"][0]["hint"]
    assert client.get("/api/v1/quarantine/customers?load_id=../../x").status_code == 422
    assert client.get("/api/v1/quarantine/customers?limit=0").status_code == 422
    unknown = client.get("/api/v1/quarantine/txns")
    assert unknown.status_code == 404 and "unknown table `txns`" in unknown.json()["error"]
    other = client.get(f"/api/v1/quarantine/transactions?load_id={quarantined.load_id}")
    assert other.status_code == 404  # a load of another table
