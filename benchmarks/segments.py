"""The AUM tier snapshot (the pipeline's `tiers` stage) against DuckDB running the same query into a table.

    python benchmarks/segments.py [--customers 1000000] [--repeat 3] [--out benchmarks/out] [--spark]

Generates and loads the synthetic bank once (cached under OUT/segments-bank-<customers>/), then times, best
of `--repeat`, in one process on one DuckDB engine:
  - lingxi: `publish_tier_snapshot`: the compiled tree rendered for the engine, written as sorted Parquet
    into a new lake folder (COPY), published by one pointer update;
  - baseline: the same SQL text run by DuckDB as `CREATE TABLE ... AS` (no files, no sort, no publish).
With `--spark` it also times the stage on a local Spark session (2 cores: a correctness run more than a
speed one; Spark is for clusters). Prints rows, seconds and the ratio lingxi / baseline.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from lingxi.engine import Engine
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.engine.sql import render
from lingxi.pipeline import StageContext, run_pipeline
from lingxi.schema.fx import RATES
from lingxi.segments import compile_tier_snapshot
from lingxi.segments.service import SOURCES, publish_tier_snapshot
from lingxi.store import Lake, connect, migrate


def build(out: Path, customers: int) -> Lake:
    """The bank's lake, generated and loaded once (only what the tier snapshot reads), then reused."""
    from lingxi.sim import SimConfig, generate

    root = out / f"segments-bank-{customers}"
    store = connect(f"sqlite:///{(root / 'lingxi.db').resolve()}")
    lake = Lake(root / "lake", store)
    if not (root / "loaded").exists():
        started = time.perf_counter()
        generate(root / "extracts", SimConfig(customers=customers, days=7, seed=7))
        migrate(store)
        for name in ("transactions", "events", "identities", "consent_events", "accounts"):  # not read here
            shutil.rmtree(root / "extracts" / name, ignore_errors=True)
        with DuckDBEngine(memory_limit="2GB") as engine:
            run_pipeline(
                StageContext(lake=lake, engine=engine, loader=engine, extracts=root / "extracts"), only=["load"]
            )
        (root / "loaded").write_text("ok")
        print(f"generated and loaded {customers:,} customers in {time.perf_counter() - started:.0f} s")
    return lake


def best(repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - started)
    return min(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--spark", action="store_true", help="also time the stage on a local Spark session")
    args = parser.parse_args()
    lake = build(args.out, args.customers)
    sql = render(compile_tier_snapshot(), "duckdb")
    results: list[tuple[str, float, int]] = []
    with DuckDBEngine(memory_limit="2GB") as engine:
        lake.register(engine, (*SOURCES, RATES))  # the baseline's SQL converts foreign holdings too

        def lingxi() -> int:
            snapshot = publish_tier_snapshot(lake, engine)
            assert snapshot is not None
            return snapshot.row_count

        def baseline() -> int:
            engine.con.execute(f"CREATE OR REPLACE TABLE bench_tiers AS {sql}")
            return int(engine.con.execute("SELECT count(*) FROM bench_tiers").fetchall()[0][0])

        for _ in range(2):  # interleaved, best of each
            results.append(("lingxi tier snapshot (duckdb)", *best(args.repeat, lingxi)))
            results.append(("baseline CREATE TABLE AS (duckdb)", *best(args.repeat, baseline)))
    if args.spark:
        from lingxi.engine.spark import SparkEngine

        spark: Engine = SparkEngine(master="local[2]")
        results.append(("lingxi tier snapshot (spark local[2])", *best(1, lambda: _spark_rows(lake, spark))))
    by_name: dict[str, tuple[float, int]] = {}
    for name, seconds, rows in results:
        if name not in by_name or seconds < by_name[name][0]:
            by_name[name] = (seconds, rows)
    base = by_name["baseline CREATE TABLE AS (duckdb)"][0]
    print(f"AUM tier snapshot, {args.customers:,} customers, best of {args.repeat} (x2 interleaved)")
    print(f"{'':40}{'rows':>12}{'seconds':>10}{'ratio':>8}")
    for name, (seconds, rows) in by_name.items():
        print(f"{name:40}{rows:>12,}{seconds:>10.2f}{seconds / base:>7.2f}x")


def _spark_rows(lake: Lake, engine: Engine) -> int:
    snapshot = publish_tier_snapshot(lake, engine)
    assert snapshot is not None
    return snapshot.row_count


if __name__ == "__main__":
    main()
