"""The tier snapshot runs unchanged on every engine and agrees with `tier_of`, the Python oracle.

A tiny table set (customers, products, holdings on two dates in CNY, USD and HKD, rates on business days)
is registered on DuckDB and, under `-m spark`, on a local Spark session; `compile_tier_snapshot` must give
the rows the oracle computes, with `aum` as DECIMAL(20, 2) in CNY on both. The latest holdings date is a
Saturday: its amounts convert at Friday's rate, never at a later one, and never at 1. A Hypothesis test
checks `tier_case` against `tier_of` on DuckDB for random tier definitions and amounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from lingxi.engine import Engine
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.engine.sql import col, table
from lingxi.segments import ASSET_TYPES, DEFAULT_TIERS, TierSpec, compile_tier_snapshot, tier_case, tier_of
from lingxi.segments.compile import unpriced_holdings

from .conftest import ENGINES

OLD, LATEST = date(2025, 4, 30), date(2025, 5, 31)  # LATEST is a Saturday: no rate is published on it
PRODUCTS = {"D1": "deposit", "T1": "time_deposit", "W1": "wealth", "F1": "fund", "L1": "loan", "C1": "credit_card"}
CUSTOMERS = ["C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C09", "C10", "C11"]
HOLDINGS = [  # (date, customer, product, balance, currency)
    (OLD, "C01", "D1", "9000000.00", "CNY"),  # old date: does not count
    (LATEST, "C01", "D1", "49999.99", "CNY"),
    (LATEST, "C02", "D1", "20000.00", "CNY"),
    (LATEST, "C02", "W1", "30000.00", None),  # 50,000.00: base (lower bound inclusive); no currency: CNY
    (LATEST, "C03", "F1", "499999.99", "CNY"),
    (LATEST, "C03", "L1", "800000.00", "CNY"),  # a loan is not an asset
    (LATEST, "C04", "T1", "6000000.00", "CNY"),  # private
    (LATEST, "C05", "C1", "-1200.50", "CNY"),  # card debt only: 0
    (OLD, "C06", "D1", "70000.00", "CNY"),  # holdings on an old date only: 0
    (LATEST, "C07", "W1", "5999999.99", "CNY"),
    (LATEST, "C07", "D1", "0.01", "CNY"),  # 6,000,000.00: private
    (LATEST, "C09", "D1", "10000.00", "USD"),  # x 7.2100 (Friday's) = 72,100.00: base (at 1: long tail)
    (LATEST, "C09", "D1", "1000.00", "CNY"),
    (OLD, "C10", "D1", "600000.00", "USD"),  # old date: does not count
    (LATEST, "C10", "W1", "600000.00", "HKD"),  # x 0.9200 = 552,000.00: wealth
    (LATEST, "C11", "L1", "10000.00", "USD"),  # a USD loan: not an asset
]  # C08: no holdings at all
RATES = [  # (date, currency, rate): business days only
    (date(2025, 4, 30), "USD", "7.2000"),
    (date(2025, 5, 29), "USD", "7.2050"),
    (date(2025, 5, 30), "USD", "7.2100"),  # Friday: the rate of Saturday the 31st
    (date(2025, 6, 2), "USD", "9.9999"),  # after the date: never used for it
    (date(2025, 5, 16), "HKD", "0.9200"),  # the latest HKD rate on or before the 31st, two weeks old
    (date(2025, 5, 30), "EUR", "7.8000"),  # held by no one
    (date(2025, 5, 30), "CNY", "7.0000"),  # CNY is 1 whatever a row says
]


def tables(holdings: list[tuple[Any, ...]] = HOLDINGS) -> dict[str, pa.Table]:
    return {
        "customers": pa.table({"customer_id": CUSTOMERS, "branch_id": ["B1"] * len(CUSTOMERS)}),
        "products": pa.table({"product_id": list(PRODUCTS), "type": list(PRODUCTS.values())}),
        "holdings": pa.table(
            {
                "snapshot_date": pa.array([h[0] for h in holdings], pa.date32()),
                "customer_id": pa.array([h[1] for h in holdings], pa.string()),
                "product_id": pa.array([h[2] for h in holdings], pa.string()),
                "balance": pa.array([Decimal(h[3]) for h in holdings], pa.decimal128(18, 2)),
                "currency": pa.array([h[4] for h in holdings], pa.string()),
            }
        ),
        "fx_rates": pa.table(
            {
                "rate_date": pa.array([r[0] for r in RATES], pa.date32()),
                "currency": [r[1] for r in RATES],
                "rate": pa.array([Decimal(r[2]) for r in RATES], pa.decimal128(18, 6)),
            }
        ),
    }


def rate_on(currency: str | None, on: date) -> Decimal:
    """The oracle's rate: 1 for CNY, else the latest rate of the currency on or before `on`."""
    if currency in (None, "CNY"):
        return Decimal(1)
    return max((d, Decimal(r)) for d, c, r in RATES if c == currency and d <= on)[1]


def oracle(spec: TierSpec = DEFAULT_TIERS) -> list[tuple[Any, ...]]:
    aum = {c: Decimal(0) for c in CUSTOMERS}
    for on, customer, product, balance, currency in HOLDINGS:
        if on == LATEST and PRODUCTS[product] in ASSET_TYPES:
            cny = (Decimal(balance) * rate_on(currency, on)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            aum[customer] += cny
    return sorted((c, LATEST, aum[c], tier_of(aum[c], spec)) for c in CUSTOMERS)


@pytest.fixture(params=ENGINES)
def tier_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "duckdb":
        engine: Engine = DuckDBEngine(memory_limit="256MB", threads=1)
    else:
        from lingxi.engine.spark import SparkEngine

        engine = SparkEngine(request.getfixturevalue("spark_session"))
    for name, data in tables().items():
        engine.register_arrow(name, data)
    yield engine
    engine.close()


def rows(result: pa.Table) -> list[tuple[Any, ...]]:
    return sorted(tuple(r.values()) for r in result.to_pylist())


def test_tier_snapshot_on_every_engine(tier_engine: Engine) -> None:
    result = tier_engine.run(compile_tier_snapshot(), label="tier snapshot")
    assert result.column_names == ["customer_id", "snapshot_date", "aum", "tier"]
    assert result.schema.field("aum").type == pa.decimal128(20, 2)
    assert rows(result) == oracle()
    assert dict((r[0], r[3]) for r in rows(result)) == {
        "C01": "long_tail",
        "C02": "base",
        "C03": "base",
        "C04": "private",
        "C05": "long_tail",
        "C06": "long_tail",
        "C07": "private",
        "C08": "long_tail",
        "C09": "base",
        "C10": "wealth",
        "C11": "long_tail",
    }
    aum = {r[0]: r[2] for r in rows(result)}
    assert (aum["C09"], aum["C10"]) == (Decimal("73100.00"), Decimal("552000.00"))  # Friday's USD, the older HKD


def test_amounts_without_a_rate_are_named_before_tiers_are_computed(tier_engine: Engine) -> None:
    assert tier_engine.run(unpriced_holdings(), label="unpriced").num_rows == 0
    extra = [
        (LATEST, "C08", "D1", "500.00", "GBP"),  # no GBP rate at all
        (LATEST, "C08", "F1", "500.00", "JPY"),  # the first JPY rate comes after the date
        (LATEST, "C08", "L1", "500.00", "AUD"),  # a loan: not in AUM, so no rate needed
    ]
    data = tables([*HOLDINGS, *extra])
    late = pa.table(
        {
            "rate_date": pa.array([date(2025, 6, 2)], pa.date32()),
            "currency": ["JPY"],
            "rate": pa.array([Decimal("0.05")], pa.decimal128(18, 6)),
        }
    )
    tier_engine.register_arrow("holdings", data["holdings"])
    tier_engine.register_arrow("fx_rates", pa.concat_tables([data["fx_rates"], late]))
    got = sorted(tuple(r.values()) for r in tier_engine.run(unpriced_holdings(), label="unpriced").to_pylist())
    assert got == [("GBP", LATEST), ("JPY", LATEST)]


def test_tier_snapshot_before_rates_are_published(tier_engine: Engine) -> None:
    cny_only = [h for h in HOLDINGS if h[4] in (None, "CNY")]
    tier_engine.register_arrow("holdings", tables(cny_only)["holdings"])
    result = rows(tier_engine.run(compile_tier_snapshot(rates=False), label="tier snapshot without fx_rates"))
    expected = {c: aum for c, _, aum, _ in oracle() if c not in ("C09", "C10")}
    assert {r[0]: r[2] for r in result if r[0] in expected} == expected


def test_tier_snapshot_with_other_tiers_and_assets(tier_engine: Engine) -> None:
    spec = TierSpec(tiers=[{"code": "small", "lower": 0}, {"code": "large", "lower": "49999.99"}])
    query = compile_tier_snapshot(spec, asset_types=("deposit",))
    got = {r[0]: (r[2], r[3]) for r in rows(tier_engine.run(query, label="tier snapshot"))}
    assert got["C01"] == (Decimal("49999.99"), "large")
    assert got["C02"] == (Decimal("20000.00"), "small")
    assert got["C07"] == (Decimal("0.01"), "small")


def test_tier_snapshot_without_holdings(tier_engine: Engine) -> None:
    empty = tables()["holdings"].slice(0, 0)
    tier_engine.register_arrow("holdings", empty)
    got = rows(tier_engine.run(compile_tier_snapshot(), label="tier snapshot"))
    assert got == [(c, None, Decimal("0.00"), "long_tail") for c in sorted(CUSTOMERS)]


# --- tier_case against tier_of on DuckDB --------------------------------------------------------------

amounts = st.decimals(min_value=-1_000, max_value=10**10, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def tier_specs(draw: st.DrawFn) -> TierSpec:
    bounds = draw(st.lists(st.decimals(min_value=Decimal("0.01"), max_value=10**9, places=2), max_size=5, unique=True))
    lowers = [Decimal(0), *sorted(bounds)]
    return TierSpec(tiers=[{"code": f"t{i}", "lower": lower} for i, lower in enumerate(lowers)])


@pytest.fixture(scope="module")
def duck() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(memory_limit="256MB", threads=1)
    yield engine
    engine.close()


@settings(max_examples=60, deadline=None)
@given(spec=tier_specs(), values=st.lists(st.one_of(st.none(), amounts), min_size=1, max_size=20))
def test_tier_case_agrees_with_tier_of(duck: DuckDBEngine, spec: TierSpec, values: list[Decimal | None]) -> None:
    duck.register_arrow("lx_amounts", pa.table({"aum": pa.array(values, pa.decimal128(20, 2))}))
    query = exp.select(col("aum"), tier_case(spec, col("aum")).as_("tier")).from_(table("lx_amounts"))
    got = [(r["aum"], r["tier"]) for r in duck.run(query, label="tiers").to_pylist()]
    assert sorted(got, key=repr) == sorted(((v, tier_of(v, spec)) for v in values), key=repr)
