"""`lingxi pipeline run`: stages in order over a folder of extracts, idempotent, failures named."""

from __future__ import annotations

from pathlib import Path

import pytest

from lingxi.engine.duckdb import DuckDBEngine
from lingxi.errors import DataQualityError, InputError
from lingxi.pipeline import StageContext, StageFailed, run_pipeline
from lingxi.store import Lake

from .. import factories


def extracts(folder: Path, bad_transactions: int = 0) -> Path:
    customers = factories.customers(25)
    factories.write_csv(folder / "customers.csv", customers)
    factories.write_csv(folder / "products" / "part-0.csv", factories.products())
    txns = factories.transactions(60, [c["customer_id"] for c in customers])
    for row in txns[:bad_transactions]:
        row["amount"] = "lots"
    factories.write_csv(folder / "transactions.csv", txns)
    return folder


def test_pipeline_loads_every_table_in_reference_order_and_reruns_unchanged(lake: Lake, tmp_path: Path) -> None:
    with DuckDBEngine() as engine:
        ctx = StageContext(lake=lake, engine=engine, loader=engine, extracts=extracts(tmp_path / "x"))
        seen = []
        results = run_pipeline(ctx, on_stage=seen.append)
        stages = ["load", "corrections", "compact", "consent", "tiers"]
        assert [r.name for r in results] == stages == [r.name for r in seen]
        assert "skipped" in results[-1].summary and lake.snapshot("aum_tiers") is None  # no holdings loaded
        assert [r.table for r in ctx.loads] == ["customers", "products", "transactions"]
        assert "transactions 60" in results[0].summary
        again = StageContext(lake=lake, engine=engine, loader=engine, extracts=tmp_path / "x")
        run_pipeline(again)
        assert {r.status for r in again.loads} == {"unchanged"}
    snap = lake.snapshot("transactions")
    assert snap is not None and snap.version == 1 and snap.row_count == 60


def test_a_rejected_table_stops_the_pipeline_and_names_the_stage(lake: Lake, tmp_path: Path) -> None:
    with DuckDBEngine() as engine:
        ctx = StageContext(
            lake=lake, engine=engine, loader=engine, extracts=extracts(tmp_path / "x", bad_transactions=10)
        )
        with pytest.raises(StageFailed, match="pipeline stage `load` failed: `transactions` was rejected") as info:
            run_pipeline(ctx)
        assert info.value.stage == "load" and isinstance(info.value.__cause__, DataQualityError)
        with pytest.raises(InputError, match="unknown stage"):
            run_pipeline(ctx, only=["lod"])


def test_the_synthetic_bank_loads_whole_through_the_pipeline(lake: Lake, tmp_path: Path) -> None:
    from lingxi.sim import SimConfig, generate

    out = tmp_path / "bank"
    generate(out, SimConfig(customers=1500, days=45, seed=3))
    with DuckDBEngine() as engine:
        ctx = StageContext(lake=lake, engine=engine, loader=engine, extracts=out)
        run_pipeline(ctx)
    loaded = {r.table: r for r in ctx.loads}
    assert set(loaded) == {
        "customers", "products", "accounts", "fx_rates", "holdings", "transactions", "events", "identities",
        "consent_events",
    }  # fmt: skip
    assert all(r.status == "published" and r.rows_quarantined == 0 for r in loaded.values())
    assert loaded["customers"].rows_valid == 1500
    from lingxi.privacy.consent import history

    some_customer = next(iter(_consenting_customers(out)))
    assert history(lake.store, some_customer), "the consent stage fills the ledger from the lake"
    assert lake.snapshot("truth") is None  # the ground truth never enters the lake


def _consenting_customers(out: Path) -> set[str]:
    import pyarrow.parquet as pq

    return set(pq.read_table(out / "consent_events", columns=["customer_id"]).column(0).to_pylist())
