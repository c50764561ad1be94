"""compile.py: the tier queries as golden SQL per dialect (tests/snapshots/), pure and repeatable."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lingxi.engine.sql import DIALECTS, col, render
from lingxi.segments import DEFAULT_TIERS, TierSpec, compile_tier_snapshot, tier_case
from lingxi.segments.compile import asset_holdings, aum_per_customer, latest_holdings_date, unpriced_holdings

from ..golden import GoldenSQL

CUSTOM = TierSpec(
    name="three",
    tiers=[
        {"code": "low", "lower": 0},
        {"code": "mid", "lower": Decimal("10000.50")},
        {"code": "high", "lower": 1_000_000},
    ],
)
ONE = TierSpec(tiers=[{"code": "everyone", "lower": 0}])


def test_tier_snapshot(golden_sql: GoldenSQL) -> None:
    golden_sql.check("default", compile_tier_snapshot())
    golden_sql.check("custom_tiers", compile_tier_snapshot(CUSTOM))
    golden_sql.check("one_tier", compile_tier_snapshot(ONE))
    golden_sql.check("deposits_only", compile_tier_snapshot(asset_types=("deposit", "time_deposit")))
    golden_sql.check("without_rates", compile_tier_snapshot(rates=False))  # before `fx_rates` is published


def test_tier_parts(golden_sql: GoldenSQL) -> None:
    golden_sql.check("tier_case", tier_case(DEFAULT_TIERS, col("aum", "a")))
    golden_sql.check("asset_holdings", asset_holdings())
    golden_sql.check("latest_holdings_date", latest_holdings_date())
    golden_sql.check("aum_per_customer", aum_per_customer())
    golden_sql.check("unpriced_holdings", unpriced_holdings())


@pytest.mark.parametrize("dialect", DIALECTS)
def test_compiling_twice_gives_the_same_sql(dialect: str) -> None:
    assert render(compile_tier_snapshot(), dialect) == render(compile_tier_snapshot(), dialect)


def test_definition_literals_are_rendered_by_sqlglot() -> None:
    sql = render(compile_tier_snapshot(asset_types=("o'brien", "x\\y")), "duckdb")
    assert "'o''brien'" in sql
    assert "'x\\y'" in sql


def test_tier_case_matches_spec_order() -> None:
    sql = render(tier_case(CUSTOM, col("aum")))
    assert sql == (
        "CASE WHEN COALESCE(aum, 0) < 10000.50 THEN 'low' WHEN COALESCE(aum, 0) < 1000000 THEN 'mid' ELSE 'high' END"
    )
