"""Money in CNY where it is summed and shown: the tiers stage, the customer 360 and the dashboard.

A bank in three currencies (CNY, USD, HKD). Its latest holdings date, 2026-10-31, is a Saturday: no rate is
published on it, so its foreign amounts convert at Friday's rate. A holding in a currency without any rate
stops the tiers stage, naming it, instead of counting it at 1.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lingxi import registry
from lingxi.auth.roles import Role, permissions_of
from lingxi.auth.scope import Principal
from lingxi.customers import customer_360, customer_counts
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.pipeline import StageContext, StageFailed, run_pipeline
from lingxi.schema import get_table
from lingxi.store import Lake
from lingxi.store.serving import LakeReader

from .. import factories

THURSDAY, FRIDAY, SATURDAY = date(2026, 10, 29), date(2026, 10, 30), date(2026, 10, 31)
RATES = [  # business days only: nothing on the weekend
    {"rate_date": "2026-10-29", "currency": "USD", "rate": "7.1200"},
    {"rate_date": "2026-10-30", "currency": "USD", "rate": "7.1234"},
    {"rate_date": "2026-10-30", "currency": "HKD", "rate": "0.9156"},
    {"rate_date": "2026-11-02", "currency": "USD", "rate": "9.9999"},  # Monday: after the date, never used for it
]
#: customer -> (product, balance) on Saturday the 31st; PUSD/PHKD are deposits in USD and HKD.
HOLDINGS = {
    "C000001": [("PUSD", "10000.00")],  # 71,234.00: base (at 1 it would be the long tail)
    "C000002": [("P001", "1000.00"), ("PUSD", "1000.00"), ("PHKD", "600000.00")],  # 1,000 + 7,123.40 + 549,360.00
    "C000003": [("P001", "40000.00")],  # CNY only: long tail
}


def extracts(folder: Path) -> Path:
    customers = factories.customers(3)
    for c in customers:
        c["branch_id"] = "BR01"
    products = [
        *factories.products(),
        {"product_id": "PUSD", "name": "美元活期", "type": "deposit", "risk_level": "R1", "currency": "USD"},
        {"product_id": "PHKD", "name": "港币活期", "type": "deposit", "risk_level": "R1", "currency": "HKD"},
    ]
    holdings = [
        {"snapshot_date": SATURDAY.isoformat(), "customer_id": cid, "product_id": p, "balance": b}
        for cid, rows in HOLDINGS.items()
        for p, b in rows
    ]
    accounts = [
        {"account_id": "A1", "customer_id": "C000002", "type": "savings", "currency": "USD"},
        {"account_id": "A2", "customer_id": "C000002", "type": "debit_card", "currency": "CNY"},
    ]
    transactions = [
        {"txn_id": "T1", "account_id": "A1", "ts": "2026-11-01 09:00:00", "amount": "100.00"},  # Sunday: Friday's
        {"txn_id": "T2", "account_id": "A1", "ts": "2026-10-29 09:00:00", "amount": "100.00"},  # Thursday's own
        {"txn_id": "T3", "account_id": "A2", "ts": "2026-10-31 09:00:00", "amount": "88.00"},
    ]
    for t in transactions:
        t |= {"customer_id": "C000002", "direction": "debit", "channel": "pos", "category": "consumption"}
    for name, rows in {
        "customers": customers,
        "products": products,
        "accounts": accounts,
        "fx_rates": RATES,
        "holdings": holdings,
        "transactions": transactions,
    }.items():
        factories.write_csv(folder / f"{name}.csv", rows)
    return folder


@pytest.fixture
def bank(lake: Lake, tmp_path: Path) -> Lake:
    with DuckDBEngine(threads=1) as engine:
        monday = date(2026, 11, 2)  # the extracts' day: Monday's rate is loaded, the holdings are Saturday's
        ctx = StageContext(lake=lake, engine=engine, loader=engine, extracts=extracts(tmp_path / "x"), as_of=monday)
        run_pipeline(ctx, only=["load"])
    return lake


def head_office() -> Principal:
    return Principal(1, "strategist1", Role.STRATEGIST, None, permissions_of(Role.STRATEGIST))


def tiers(lake: Lake) -> str:
    with DuckDBEngine(threads=1) as engine:
        (result,) = run_pipeline(StageContext(lake=lake, engine=engine, loader=engine, as_of=SATURDAY), only=["tiers"])
    return result.summary


def test_tiers_are_decided_in_cny_at_fridays_rate(bank: Lake) -> None:
    assert tiers(bank).startswith("3 customers on duckdb (version 1): long_tail 1, base 1, wealth 1, private 0")
    reader = LakeReader(bank, refresh_every=0)
    got = {cid: (customer_360(reader, bank.store, head_office(), cid)["profile"]["aum"]) for cid in HOLDINGS}
    assert got == {"C000001": 71234.00, "C000002": 557483.40, "C000003": 40000.00}
    reader.close()


def test_the_360_shows_each_amount_in_cny_with_its_rate(bank: Lake) -> None:
    for snapshot in (False, True):  # AUM computed from the holdings, then read from the tier snapshot
        if snapshot:
            tiers(bank)
        reader = LakeReader(bank, refresh_every=0)
        page = customer_360(reader, bank.store, head_office(), "C000002")
        holdings = {h["product_id"]: h for h in page["holdings"]}
        assert [h["product_id"] for h in page["holdings"]] == ["PHKD", "PUSD", "P001"]  # largest in CNY first
        usd = holdings["PUSD"]
        assert (usd["currency"], usd["balance"], usd["fx_rate"], usd["fx_rate_date"], usd["balance_cny"]) == (
            "USD",
            Decimal("1000.00"),
            Decimal("7.123400"),
            FRIDAY,
            Decimal("7123.40"),
        )
        assert holdings["P001"]["fx_rate"] is None and holdings["P001"]["balance_cny"] == Decimal("1000.00")
        assert page["profile"]["aum"] == float(sum(h["balance_cny"] for h in page["holdings"])) == 557483.40
        assert page["aum_rates"] == [
            {"currency": "HKD", "rate": Decimal("0.915600"), "rate_date": FRIDAY},
            {"currency": "USD", "rate": Decimal("7.123400"), "rate_date": FRIDAY},
        ]
        assert page["aum_trend"] == [{"snapshot_date": SATURDAY, "aum": 557483.40}]
        txns = {t["txn_id"]: (t["currency"], t["fx_rate_date"], t["amount_cny"]) for t in page["transactions"]}
        assert txns == {
            "T1": ("USD", FRIDAY, Decimal("712.34")),  # the currency came from the account
            "T2": ("USD", THURSDAY, Decimal("712.00")),
            "T3": ("CNY", None, Decimal("88.00")),
        }
        reader.close()


def test_the_dashboard_lists_the_rates_of_the_aum_date(bank: Lake) -> None:
    reader = LakeReader(bank, refresh_every=0)
    counts = customer_counts(reader, head_office())
    assert counts["aum_as_of"] == SATURDAY
    assert [(r["currency"], r["rate"], r["rate_date"]) for r in counts["fx_rates"]] == [
        ("HKD", Decimal("0.915600"), FRIDAY),
        ("USD", Decimal("7.123400"), FRIDAY),
    ]
    assert {t["key"]: t["count"] for t in counts["by_tier"]} == {"long_tail": 1, "base": 1, "wealth": 1, "private": 0}
    reader.close()


def test_a_holding_without_a_rate_stops_the_tiers_stage(bank: Lake) -> None:
    # Holdings written by another tool, past the loader's check: 500 GBP, and no GBP rate.
    table = get_table("holdings")
    row = {"snapshot_date": SATURDAY, "customer_id": "C000003", "product_id": "P002", "balance": Decimal("500.00")}
    folder = bank.new_folder("holdings")
    (folder / "snapshot_month=2026-10").mkdir()
    data = pa.Table.from_pylist([row | {"currency": "GBP"}], schema=table.arrow_schema())
    pq.write_table(data, folder / "snapshot_month=2026-10" / "part-00000.parquet")
    bank.publish("holdings", folder, mode="append", row_count=1, contract_version=table.version)
    with pytest.raises(StageFailed) as info:
        tiers(bank)
    message = str(info.value)
    assert "pipeline stage `tiers` failed" in message and "GBP from 2026-10-31" in message
    assert "load `fx_rates` first" in message
    reader = LakeReader(bank, refresh_every=0)
    page = customer_360(reader, bank.store, head_office(), "C000003")
    assert page["profile"]["aum"] is None  # unknown, not 40,000 and not 40,500
    assert [(h["currency"], h["fx_rate"], h["balance_cny"]) for h in page["holdings"] if h["currency"] == "GBP"] == [
        ("GBP", None, None)
    ]
    assert page["aum_rates"] == [{"currency": "GBP", "rate": None, "rate_date": None}]
    reader.close()


def test_a_change_of_rates_makes_the_tiers_stale() -> None:
    assert "aum_tiers" in registry.downstream(["fx_rates"])  # a rollback of fx_rates marks them for the next run
