"""Running segment definitions on an engine: the AUM tier snapshot, written to the lake by the pipeline.

`publish_tier_snapshot` compiles a TierSpec (lingxi.segments.compile) and has the engine passed in — DuckDB
or Spark, whichever LINGXI_ENGINE names — write the result as the next version of the `aum_tiers` dataset
(Lake.publish_query: on Spark the executors write the Parquet, nothing large passes through the driver).
AUM is in CNY (lingxi.schema.fx): before it computes, the snapshot checks that every currency held on the
holdings date has a rate on or before it, and fails naming the currency otherwise (MissingRate), rather
than publishing tiers from amounts taken at 1. The version records the business date it was computed for,
and every row carries the holdings date its AUM comes from, so the dashboard and the customer 360 read tiers
from one dated snapshot instead of recomputing AUM on every request, and yesterday's tiers stay readable as
an older version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlglot import exp

from lingxi.capability import StageContext
from lingxi.engine import Engine
from lingxi.engine.sql import asc, col, table
from lingxi.schema.fx import RATES, missing_rate_error
from lingxi.segments.compile import compile_tier_snapshot, unpriced_holdings
from lingxi.segments.library import ASSET_TYPES, DEFAULT_TIERS
from lingxi.segments.spec import TierSpec
from lingxi.store import Lake, Snapshot

#: The lake dataset of the tier snapshot: customer_id, snapshot_date, aum DECIMAL(20, 2), tier.
TIER_DATASET = "aum_tiers"
#: The datasets the tier snapshot reads.
SOURCES = ("customers", "holdings", "products")


def publish_tier_snapshot(
    lake: Lake,
    engine: Engine,
    *,
    spec: TierSpec = DEFAULT_TIERS,
    asset_types: Sequence[str] = ASSET_TYPES,
    as_of: date | None = None,
) -> Snapshot | None:
    """Compute every customer's AUM tier on `engine` and publish it as the next `aum_tiers` version.

    Returns None, publishing nothing, while one of the source datasets is not published yet; raises
    MissingRate when a currency held on the holdings date has no rate on or before it in `fx_rates`.
    """
    registered = lake.register(engine, (*SOURCES, RATES))
    if set(SOURCES) - set(registered):
        return None
    rates = RATES in registered
    missing = engine.run(unpriced_holdings(asset_types, rates=rates), label="segments: FX rates of the holdings")
    if missing.num_rows:
        raise missing_rate_error("`holdings` (AUM tiers)", missing.to_pylist())
    query = compile_tier_snapshot(spec, asset_types=asset_types, rates=rates)
    return lake.publish_query(engine, TIER_DATASET, query, label="segments: AUM tier snapshot", as_of=as_of)


def tier_counts(lake: Lake, engine: Engine, spec: TierSpec = DEFAULT_TIERS) -> dict[str, int]:
    """Customers per tier in the published snapshot, in the spec's order (tiers without customers: 0)."""
    if not lake.register(engine, [TIER_DATASET]):
        return {}
    query = (
        exp.select(col("tier"), exp.Count(this=exp.Star()).as_("n"))
        .from_(table(TIER_DATASET))
        .group_by(col("tier"))
        .order_by(asc(col("tier")))
    )
    found = {r["tier"]: int(r["n"]) for r in engine.run(query, label="segments: customers per tier").to_pylist()}
    return {code: found.get(code, 0) for code in spec.codes}


def tier_stage(ctx: StageContext) -> str:
    """The pipeline stage: the day's tier snapshot, on the analytic engine; says how many customers per tier."""
    snapshot = publish_tier_snapshot(ctx.lake, ctx.engine, as_of=ctx.as_of)
    if snapshot is None:
        return f"{', '.join(SOURCES)} not all published yet; skipped"
    counts = tier_counts(ctx.lake, ctx.engine)
    shown = ", ".join(f"{code} {n:,}" for code, n in counts.items())
    return f"{snapshot.row_count:,} customers on {ctx.engine.name} (version {snapshot.version}): {shown}"
