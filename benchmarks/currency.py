"""The customer 360's money reads with currencies, against the same reads without them and a rate join in SQL.

    python benchmarks/currency.py [--customers 100000] [--reads 500] [--out benchmarks/out]

Uses the bank of benchmarks/api.py (generated and loaded once, cached under OUT/api-bank-<customers>-30/;
about 1.5% of its customers hold a foreign currency). On one serving reader (the console's: datasets in
DuckDB memory), for random customers, times the 360's three money reads (holdings on the latest date,
latest transactions, AUM trend) as one unit, three ways, interleaved:
  - lingxi: the 360's queries (each amount with its currency), then lingxi.customers.money: rates read only
    for a customer with a foreign amount, each amount converted in Python;
  - baseline: the same reads without a currency, as before issue 11 (every amount taken as CNY);
  - rates joined in SQL: each read joined with its rows' rates (lingxi.schema.fx.rates_for), the way the
    tier snapshot converts, and the design the 360 does not use.
Prints p50, p90 and mean per way and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlglot import exp

from api import build
from lingxi.customers import money, queries
from lingxi.engine.sql import CTEPipeline, col, lit, table
from lingxi.schema.fx import in_cny, needed_rates, rates_for, rates_table
from lingxi.store import Lake, connect
from lingxi.store.serving import LakeReader


def without_currency(query: exp.Select) -> exp.Select:
    """A 360 read as it was before currencies: the same query without its `currency` column."""
    copy = query.copy()
    copy.set("expressions", [e for e in copy.expressions if e.alias_or_name != "currency"])
    return copy


def joined_in_sql(query: exp.Select, amount: str, day: exp.Expr) -> exp.Select:
    """A 360 read with each row's rate joined in SQL: `rows` → their foreign (currency, day) → rates."""
    pipe = CTEPipeline()
    rows = pipe.step("lx_rows", query.copy())
    fx = pipe.step("lx_fx", rates_for(needed_rates(rows, day.copy()), rates_table(True)))
    same = exp.and_(col("currency", "x").eq(col("currency", "r")), col("on_date", "x").eq(day.copy()))
    final = (
        exp.select(exp.Star(), col("rate", "x").as_("fx_rate"))
        .select(in_cny(col(amount, "r"), col("currency", "r"), col("rate", "x")).as_(f"{amount}_cny"))
        .from_(exp.alias_(rows.copy(), "r", table=True))
        .join(exp.alias_(fx.copy(), "x", table=True), on=same, join_type="left")
    )
    return pipe.build(final)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    settings = build(args.out, args.customers, 30)
    store = connect(settings.resolved_database_url)
    reader = LakeReader(Lake(settings.lake_dir, store), refresh_every=3600)
    reader.refresh(force=True)
    on = reader.rows(exp.select(exp.Max(this=col("snapshot_date")).as_("d")).from_(table("holdings")), label="d")
    day = on[0]["d"]
    holdings, recent, trend = queries.holdings_query(), queries.recent_query("transactions"), queries.aum_trend_query()
    day_of_ts = exp.cast(col("ts"), exp.DataType.Type.DATE)
    sql_ways = {
        "baseline": (without_currency(holdings), without_currency(recent), without_currency(trend)),
        "rates joined in SQL": (
            joined_in_sql(holdings, "balance", lit(day)),
            joined_in_sql(recent, "amount", day_of_ts),
            joined_in_sql(trend, "balance", col("snapshot_date")),
        ),
    }

    def lingxi(cid: str) -> None:
        held = reader.rows(holdings, [cid, day], label="holdings")
        txns = reader.rows(recent, [cid], label="transactions")
        rows = reader.rows(trend, [cid], label="trend")
        wanted = [(h["currency"], day) for h in held] + [(t["currency"], money.day_of(t["ts"])) for t in txns]
        book = money.read_rates(reader, [*wanted, *((r["currency"], r["snapshot_date"]) for r in rows)])
        for h in held:
            money.convert(h, "balance", day, book)
        for t in txns:
            money.convert(t, "amount", money.day_of(t["ts"]), book)
        money.aum_by_date(rows, book)

    def in_sql(reads: tuple[exp.Select, ...]) -> Callable[[str], Any]:  # the holdings read binds the date too
        return lambda cid: [reader.rows(q, [cid, day] if i == 0 else [cid], label="read") for i, q in enumerate(reads)]

    ways: dict[str, Callable[[str], Any]] = {"lingxi": lingxi, **{k: in_sql(v) for k, v in sql_ways.items()}}
    ids = [r["customer_id"] for r in reader.rows("SELECT customer_id FROM customers", label="ids")]
    rng = random.Random(7)
    times: dict[str, list[float]] = {k: [] for k in ways}
    for i, cid in enumerate(rng.sample(ids, args.reads + 50)):
        for name, read in ways.items():
            started = time.perf_counter()
            read(cid)
            if i >= 50:  # the first 50 warm up
                times[name].append((time.perf_counter() - started) * 1000)
    base = statistics.median(times["baseline"])
    print(f"the 360's money reads, {args.customers:,} customers, {args.reads} customers read each way (interleaved)")
    print(f"{'':22}{'p50 ms':>9}{'p90 ms':>9}{'mean ms':>9}{'ratio p50':>11}")
    for name, ts in times.items():
        p90 = statistics.quantiles(ts, n=10)[8]
        p50 = statistics.median(ts)
        print(f"{name:22}{p50:>9.2f}{p90:>9.2f}{statistics.fmean(ts):>9.2f}{p50 / base:>10.2f}x")
    reader.close()
    store.dispose()


if __name__ == "__main__":
    main()
