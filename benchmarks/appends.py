"""Daily appends at scale: the customer 360's transaction read and a full scan, before and after compaction.

    python benchmarks/appends.py [--customers 1000000] [--days 90] [--rate 0.3] [--reads 500] [--out benchmarks/out]

Writes `--days` daily transaction appends for `--customers` customers (`--rate` transactions per customer
per day on average, so 1M customers x 90 days x 0.3 = 27M rows) straight into a lake as the loader lays
them out: one folder per load, a file per month partition, sorted by customer, published as an append
version each. The rows are generated with numpy/pyarrow (the loader's own speed is benchmarks/load.py).
Then three layouts of the same rows are read through the console's serving reader (`LakeReader`, with
the dataset kept as Parquet views, as it is past `serve_rows`):

  - appended:  the 90 per-load folders as published;
  - compacted: after `lingxi lake compact` (each month partition merged into one file sorted by customer, ts);
  - single:    the baseline, the same rows written once as one file sorted by customer, ts (same writer settings).

For each: the 360's transaction query (a customer's latest 20 transactions) for `--reads` random customers
(p50, p99), and a full scan (sum and count of amounts, best of 3). Prints a table with the ratios to the
single-file layout. Target (issue 11): compacted p99 within 1.5x of single.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from lingxi.customers.queries import recent_query
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.ingest.compact import compact, merge_files
from lingxi.ingest.parts import ROW_GROUP_ROWS, conform, lake_file_writer
from lingxi.privacy.erased import ErasureRegistry
from lingxi.schema.contract import COUNTERPARTY_TYPES, TRANSACTIONS, TXN_CATEGORIES, TXN_CHANNELS
from lingxi.store import Lake, connect, migrate
from lingxi.store.serving import LakeReader

START = date(2026, 9, 1)


def customer_ids(numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise("C", pc.utf8_lpad(pa.array(numbers).cast(pa.string()), 9, "0"), "")


def codes(rng: np.random.Generator, values: tuple[str, ...], n: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, len(values), n, dtype=np.int32)), pa.array(values))


def day_of_transactions(rng: np.random.Generator, day: int, customers: int, rate: float) -> pa.Table:
    """One day's transactions, sorted by customer as the loader writes them (all in one month)."""
    n = int(customers * rate)
    who = np.sort(rng.integers(0, customers, n))
    midnight = datetime.combine(START + timedelta(days=day), datetime.min.time())
    seconds = rng.integers(0, 86_400, n)
    ts = pa.array(np.datetime64(midnight, "us") + seconds.astype("timedelta64[s]"), pa.timestamp("us"))
    txn = pc.binary_join_element_wise(f"T{day:03d}", pc.utf8_lpad(pa.array(np.arange(n)).cast(pa.string()), 9, "0"), "")
    cents = rng.lognormal(9.0, 1.5, n).round()
    amount = pa.array(cents / 100).cast(pa.decimal128(18, 2), safe=False)
    rows = pa.table(
        {
            "txn_id": txn,
            "customer_id": customer_ids(who),
            "account_id": pc.binary_join_element_wise(
                "A", pc.utf8_lpad(pa.array(who * 2).cast(pa.string()), 10, "0"), ""
            ),
            "ts": ts,
            "amount": amount,
            "direction": codes(rng, ("credit", "debit"), n),
            "channel": codes(rng, TXN_CHANNELS, n),
            "category": codes(rng, TXN_CATEGORIES, n),
            "counterparty_type": codes(rng, COUNTERPARTY_TYPES, n),
        }
    )
    return conform(TRANSACTIONS.arrow_schema(), rows)


def append_days(lake: Lake, customers: int, days: int, rate: float, seed: int) -> int:
    rng = np.random.default_rng(seed)
    total = 0
    for day in range(days):
        rows = day_of_transactions(rng, day, customers, rate)
        folder = lake.new_folder("transactions")
        month = (START + timedelta(days=day)).strftime("%Y-%m")
        target = folder / f"txn_month={month}" / "part-00000.parquet"
        target.parent.mkdir(parents=True)
        with lake_file_writer(TRANSACTIONS, target, rows.schema) as writer:
            writer.write_table(rows, row_group_size=ROW_GROUP_ROWS)
        lake.publish("transactions", folder, mode="append", row_count=rows.num_rows, contract_version=1)
        total += rows.num_rows
    return total


def measure(lake: Lake, ids: list[str]) -> dict[str, float]:
    """p50/p99 of the 360's transaction query over `ids`, and the best of 3 full scans, through LakeReader."""
    reader = LakeReader(lake, serve_rows=0, memory_limit="2GB")  # Parquet views, as past `serve_rows`
    query = recent_query("transactions")
    for cid in ids[:20]:  # warm the file system cache and the views
        reader.rows(query, [cid], label="warm-up")
    times = []
    for cid in ids:
        started = time.perf_counter()
        reader.rows(query, [cid], label="360 transactions")
        times.append((time.perf_counter() - started) * 1000)
    scan = exp.select(exp.Sum(this=exp.column("amount")).as_("total"), exp.Count(this=exp.Star()).as_("n")).from_(
        "transactions"
    )
    scans = []
    for _ in range(3):
        started = time.perf_counter()
        reader.rows(scan, label="full scan")
        scans.append(time.perf_counter() - started)
    reader.close()
    snap = lake.snapshot("transactions")
    files = sum(1 for p in snap.paths for _ in p.rglob("*.parquet")) if snap else 0
    q = statistics.quantiles(times, n=100)
    return {"p50": statistics.median(times), "p99": q[98], "scan": min(scans), "files": files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--rate", type=float, default=0.3, help="transactions per customer per day")
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()

    root = args.out / f"appends-{args.customers}-{args.days}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    store = connect(f"sqlite:///{(root / 'lingxi.db').resolve()}")
    migrate(store)
    lake = Lake(root / "lake", store)
    started = time.perf_counter()
    rows = append_days(lake, args.customers, args.days, args.rate, args.seed)
    print(
        f"{args.days} daily appends, {rows:,} rows, {args.customers:,} customers: {time.perf_counter() - started:.0f} s"
    )

    ids = [f"C{i:09d}" for i in random.Random(args.seed).sample(range(args.customers), args.reads)]
    results = {"appended": measure(lake, ids)}

    # the baseline: the same rows, written once as one file sorted like a compacted partition
    single_store = connect(f"sqlite:///{(root / 'single.db').resolve()}")
    migrate(single_store)
    single = Lake(root / "single", single_store)
    snap = lake.snapshot("transactions")
    assert snap is not None
    files = [f for p in snap.paths for f in sorted(p.rglob("*.parquet"))]
    with DuckDBEngine(memory_limit="4GB", temp_directory=root / "tmp") as engine:
        started = time.perf_counter()
        folder = single.new_folder("transactions")
        written, _ = merge_files(
            engine, TRANSACTIONS, files, folder / "part-00000.parquet", ErasureRegistry(frozenset(), frozenset(), "")
        )
        single.publish("transactions", folder, mode="replace", row_count=written, contract_version=1)
        single_seconds = time.perf_counter() - started
        started = time.perf_counter()
        report = compact(lake, engine, "transactions", hash_key="", min_files=2)
        compact_seconds = time.perf_counter() - started
    assert written == rows == report.rows, "the layouts hold the same rows"
    print(
        f"compaction: {report.files_in} files -> {report.files_out} in {compact_seconds:.0f} s; "
        f"single sorted file written in {single_seconds:.0f} s"
    )
    results["compacted"] = measure(lake, ids)
    results["single"] = measure(single, ids)

    base = results["single"]
    print(f"\n360 transaction query over {args.reads} customers, full scan best of 3 ({rows:,} rows)")
    header = ("layout", "files", "p50 ms", "p99 ms", "p99 / single", "scan s", "scan / single")
    print(f"{header[0]:<10}", *(f"{h:>{w}}" for h, w in zip(header[1:], (6, 8, 8, 13, 8, 14), strict=True)))
    for name, r in results.items():
        print(
            f"{name:<10} {r['files']:>6.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['p99'] / base['p99']:>12.2f}x "
            f"{r['scan']:>8.2f} {r['scan'] / base['scan']:>13.2f}x"
        )


if __name__ == "__main__":
    main()
