"""The tier snapshot in the lake, and the reads that use it: the pipeline's `tiers` stage, the dashboard, the 360.

A small bank with holdings on two dates, made so that every case shows: a customer in each tier on the
latest date, one whose asset holdings ended before it (AUM 0 today: the lowest tier), one with only a loan
(not an asset), and one without holdings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lingxi.auth.roles import Role, permissions_of
from lingxi.auth.scope import Principal
from lingxi.customers import customer_360, customer_counts
from lingxi.customers.queries import dashboard_counts_query
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.pipeline import StageContext, run_pipeline
from lingxi.segments import DEFAULT_TIERS, tier_of
from lingxi.segments.service import TIER_DATASET, publish_tier_snapshot
from lingxi.store import Lake
from lingxi.store.serving import LakeReader

from .. import factories

OLD, LATEST = "2026-09-30", "2026-10-31"
#: customer -> (date, product, balance) rows; P001 is a deposit, P004 a fund (assets); P006 a loan.
HOLDINGS = {
    "C000001": [(LATEST, "P001", "1000.00")],  # long tail
    "C000002": [(LATEST, "P001", "30000.00"), (LATEST, "P004", "40000.00")],  # base (70,000)
    "C000003": [(OLD, "P001", "900000.00"), (LATEST, "P004", "700000.00")],  # wealth
    "C000004": [(LATEST, "P004", "6000000.00")],  # private, exactly at the bound
    "C000005": [(OLD, "P001", "80000.00")],  # ended before the latest date: AUM 0 today
    "C000006": [(LATEST, "P006", "500000.00")],  # a loan is not an asset
}
EXPECTED = {
    "C000001": ("long_tail", "1000.00"),
    "C000002": ("base", "70000.00"),
    "C000003": ("wealth", "700000.00"),
    "C000004": ("private", "6000000.00"),
    "C000005": ("long_tail", "0.00"),
    "C000006": ("long_tail", "0.00"),
    "C000007": ("long_tail", "0.00"),  # no holdings at all
}


def extracts(folder: Path) -> Path:
    customers = factories.customers(7)
    for c in customers:
        c["branch_id"] = "BR01"
    products = [*factories.products(), {"product_id": "P006", "name": "贷款", "type": "loan", "risk_level": "R1"}]
    holdings = [
        {"snapshot_date": d, "customer_id": cid, "product_id": p, "balance": b}
        for cid, rows in HOLDINGS.items()
        for d, p, b in rows
    ]
    factories.write_csv(folder / "customers.csv", customers)
    factories.write_csv(folder / "products.csv", products)
    factories.write_csv(folder / "holdings.csv", holdings)
    return folder


@pytest.fixture
def bank(lake: Lake, tmp_path: Path) -> Lake:
    with DuckDBEngine(threads=1) as engine:
        ctx = StageContext(
            lake=lake, engine=engine, loader=engine, extracts=extracts(tmp_path / "x"), as_of=date(2026, 11, 1)
        )
        results = run_pipeline(ctx, only=["load"])
    assert [r.name for r in results] == ["load"]
    return lake


def head_office() -> Principal:
    return Principal(1, "strategist1", Role.STRATEGIST, None, permissions_of(Role.STRATEGIST))


def snapshot_rows(lake: Lake) -> dict[str, tuple[str, str, date]]:
    snap = lake.snapshot(TIER_DATASET)
    assert snap is not None
    files = [str(f) for p in snap.paths for f in sorted(p.rglob("*.parquet"))]
    table = pq.read_table(files)
    ids = table["customer_id"].to_pylist()
    assert ids == sorted(ids)  # sorted by customer, so one customer's row is found by pruning
    return {r["customer_id"]: (r["tier"], f"{r['aum']:.2f}", r["snapshot_date"]) for r in table.to_pylist()}


def test_the_tiers_stage_publishes_a_dated_snapshot_of_every_customer(bank: Lake) -> None:
    with DuckDBEngine(threads=1) as engine:
        ctx = StageContext(lake=bank, engine=engine, loader=engine, as_of=date(2026, 11, 1))
        (result,) = run_pipeline(ctx, only=["tiers"])
    assert result.summary.startswith("7 customers on duckdb (version 1): long_tail 4, base 1, wealth 1, private 1")
    snap = bank.snapshot(TIER_DATASET)
    assert snap is not None and snap.as_of == date(2026, 11, 1) and snap.row_count == 7
    rows = snapshot_rows(bank)
    assert {cid: (tier, aum) for cid, (tier, aum, _) in rows.items()} == EXPECTED
    assert {on for *_, on in rows.values()} == {date(2026, 10, 31)}
    assert all(tier == tier_of(Decimal(aum), DEFAULT_TIERS) for tier, aum, _ in rows.values())  # SQL == Python


def test_dashboard_and_360_read_the_snapshot_and_agree_with_the_holdings(bank: Lake) -> None:
    reader = LakeReader(bank, refresh_every=0)
    principal = head_office()
    before = customer_counts(reader, principal)  # computed from the holdings: no snapshot yet
    computed_360 = customer_360(reader, bank.store, principal, "C000005")["profile"]
    assert computed_360["aum_tier"] == "base"  # its last AUM, from September: the old, inconsistent answer
    with DuckDBEngine(threads=1) as engine:
        assert publish_tier_snapshot(bank, engine, as_of=date(2026, 11, 1)) is not None
    reader.refresh(force=True)
    assert reader.has(TIER_DATASET)
    after = customer_counts(reader, principal)
    assert after["by_tier"] == before["by_tier"] and after["aum_as_of"] == before["aum_as_of"] == date(2026, 10, 31)
    rows = reader.rows(dashboard_counts_query(principal, with_aum=False, from_snapshot=True), label="counts")
    assert {(r["dim"], r["key"]): r["n"] for r in rows if r["dim"] == "tier"} == {
        ("tier", "long_tail"): 4,
        ("tier", "base"): 1,
        ("tier", "wealth"): 1,
        ("tier", "private"): 1,
    }
    for cid, (tier, aum) in EXPECTED.items():
        page = customer_360(reader, bank.store, principal, cid)
        profile = page["profile"]
        assert (profile["aum_tier"], f"{profile['aum']:.2f}") == (tier, aum), cid
        assert profile["aum_as_of"] == date(2026, 10, 31)
        assets = [h for h in page["holdings"] if h["product_type"] != "loan"]
        assert f"{sum(h['balance'] for h in assets):.2f}" == aum, cid  # the holdings shown make up the AUM shown
    reader.close()


def test_holdings_loaded_after_the_snapshot_are_not_hidden_by_it(bank: Lake, tmp_path: Path) -> None:
    with DuckDBEngine(threads=1) as engine:
        assert publish_tier_snapshot(bank, engine) is not None
        later = [{"snapshot_date": "2026-11-30", "customer_id": "C000001", "product_id": "P004", "balance": "90000.00"}]
        path = factories.write_csv(tmp_path / "h" / "holdings.csv", later)
        ctx = StageContext(lake=bank, engine=engine, loader=engine, extracts=path.parent)
        run_pipeline(ctx, only=["load"])  # `lingxi load holdings` alone: the tiers stage has not run
    reader = LakeReader(bank, refresh_every=0)
    principal = head_office()
    profile = customer_360(reader, bank.store, principal, "C000001")["profile"]
    assert (profile["aum_tier"], profile["aum"], profile["aum_as_of"]) == ("base", 90000.0, date(2026, 11, 30))
    counts = customer_counts(reader, principal)
    assert counts["aum_as_of"] == date(2026, 11, 30)
    assert {t["key"]: t["count"] for t in counts["by_tier"]}["base"] == 1  # only C000001 holds on Nov 30
    reader.close()


def test_no_snapshot_without_holdings(lake: Lake, tmp_path: Path) -> None:
    factories.write_csv(tmp_path / "y" / "customers.csv", factories.customers(3))
    with DuckDBEngine(threads=1) as engine:
        ctx = StageContext(lake=lake, engine=engine, loader=engine, extracts=tmp_path / "y")
        results = run_pipeline(ctx, only=["load", "tiers"])
    assert results[-1].summary == "customers, holdings, products not all published yet; skipped"
    assert lake.snapshot(TIER_DATASET) is None
