"""The customer 360 after a wrong day is replaced and after a rollback: it shows the corrected data.

Its own small bank (the session bank of conftest.py is shared by read-only tests): a day of holdings is
replaced by a corrected file, the AUM tier snapshot is marked stale until the pipeline's tiers stage runs
again, then the replacement is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI

from lingxi.api.app import create_app
from lingxi.auth.audit import Who
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.ingest.load import LoadOptions, load
from lingxi.ingest.replace import Period
from lingxi.ingest.rollback import rollback
from lingxi.pipeline import StageContext, run_pipeline
from lingxi.segments.service import TIER_DATASET
from lingxi.store import Lake, connect

from ..auth.conftest import FAST
from .conftest import Bank, build_bank, login


@pytest.fixture(scope="module")
def own_bank(tmp_path_factory: pytest.TempPathFactory) -> Bank:
    return build_bank(tmp_path_factory.mktemp("corrections"))


@pytest.fixture(scope="module")
def own_app(own_bank: Bank) -> Iterator[FastAPI]:
    application = create_app(own_bank.settings, policy=FAST)
    yield application
    application.state.lingxi.reader.close()


def holdings_of(app: FastAPI, customer: str) -> dict[str, Any]:
    app.state.lingxi.reader.refresh(force=True)  # what a serving process does within 2 s on its own
    client, _ = login(app, "analyst1")
    r = client.get(f"/api/v1/customers/{customer}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_360_shows_a_corrected_day_of_holdings_and_the_rollback_of_it(
    own_bank: Bank, own_app: FastAPI, tmp_path: Path
) -> None:
    settings = own_bank.settings
    store = connect(settings.resolved_database_url)
    lake = Lake(settings.lake_dir, store)
    customer = own_bank.cust_a
    before = holdings_of(own_app, customer)
    day = before["profile"]["aum_as_of"]
    assert before["holdings"] and day
    # the bank's holdings of that day, with the customer's balances corrected (the day's file was wrong)
    extract = pq.read_table(settings.data_dir.parent / "extracts" / "holdings")
    extract = extract.select([c for c in extract.column_names if c != "snapshot_month"])
    that_day = extract.filter(pc.equal(pc.cast(extract["snapshot_date"], pa.string()), day))
    theirs = pc.equal(that_day["customer_id"], customer)
    balances = pc.if_else(theirs, pa.scalar(Decimal("1234.00"), that_day["balance"].type), that_day["balance"])
    fixed = that_day.set_column(that_day.column_names.index("balance"), "balance", balances)
    pq.write_table(fixed, tmp_path / "holdings-fixed.parquet")
    with DuckDBEngine(memory_limit="512MB", threads=1) as engine:
        options = LoadOptions("holdings", tmp_path / "holdings-fixed.parquet", replace=Period.parse(day))
        assert load(lake, engine, options).status == "published"
        assert TIER_DATASET in lake.stale()
        after = holdings_of(own_app, customer)
        assert {h["balance"] for h in after["holdings"]} == {1234.0}
        # the tier snapshot is stale: the pipeline has not run yet
        assert after["profile"]["aum"] == before["profile"]["aum"]
        run_pipeline(StageContext(lake=lake, engine=engine, loader=engine), only=["tiers"])
        assert lake.stale() == {}
        renewed = holdings_of(own_app, customer)
        assert renewed["profile"]["aum"] != before["profile"]["aum"]
        assert renewed["profile"]["aum"] <= 1234.0 * len(after["holdings"])
        # undo: the holdings as first loaded, in the 360 too once the tiers are computed again
        rollback(lake, "holdings", actor=Who("cli:ops"), hash_key="")
        assert TIER_DATASET in lake.stale()
        run_pipeline(StageContext(lake=lake, engine=engine, loader=engine), only=["tiers"])
        back = holdings_of(own_app, customer)
    assert back["holdings"] == before["holdings"] and back["profile"] == before["profile"]
    store.dispose()
