"""Benchmark the synthetic bank: customers/s, events/s and peak memory, against a no-model baseline.

Usage: python benchmarks/sim.py [--customers 1000000] [--days 90] [--out DIR]

The baseline, run in the same process, draws the same number of random rows with numpy and writes
them to Parquet with pyarrow (same compression, no modelling), so the ratio shows what the behaviour
model costs on top of merely producing and writing that many rows.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lingxi.sim import SimConfig, generate


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def baseline(rows: int, out: Path, chunk: int = 4_000_000) -> float:
    """numpy random rows (id, customer, ts, amount, category) written as Parquet; seconds taken."""
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    done, part = 0, 0
    while done < rows:
        n = min(chunk, rows - done)
        table = pa.table(
            {
                "event_id": pa.array(np.arange(done, done + n)).cast(pa.string()),
                "customer_id": pa.array(rng.integers(0, 10**7, n)).cast(pa.string()),
                "ts": pa.array(rng.integers(0, 10**15, n), type=pa.timestamp("us")),
                "amount": pa.array(rng.lognormal(4, 1.8, n)),
                "category": pa.array(rng.integers(0, 12, n)).cast(pa.string()),
            }
        )
        pq.write_table(table, out / f"part-{part:05d}.parquet", compression="zstd", row_group_size=131_072)
        done += n
        part += 1
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--chunk-customers", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=None, help="keep the output here (default: a temp folder)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lingxi-bench-"))
    out = args.out or tmp / "bank"
    try:
        config = SimConfig(customers=args.customers, days=args.days, seed=1, chunk_customers=args.chunk_customers)
        summary = generate(out, config)
        sim_rss = peak_rss_mb()
        rows = summary.events
        base_dir = tmp / "baseline"
        base_dir.mkdir()
        base_s = baseline(rows, base_dir)
        size_mb = sum(p.stat().st_size for p in out.rglob("*.parquet")) / 2**20
        print(f"lingxi sim: {args.customers:,} customers, {args.days} days, chunks of {args.chunk_customers:,}")
        print(f"{'run':<34}{'seconds':>10}{'customers/s':>14}{'events/s':>14}{'peak RSS MB':>14}")
        print(
            f"{'sim (all tables + truth)':<34}{summary.seconds:>10.1f}"
            f"{args.customers / summary.seconds:>14,.0f}{rows / summary.seconds:>14,.0f}{sim_rss:>14,.0f}"
        )
        print(
            f"{'baseline (numpy rows -> parquet)':<34}{base_s:>10.1f}{'':>14}{rows / base_s:>14,.0f}"
            f"{peak_rss_mb():>14,.0f}"
        )
        print(f"ratio sim/baseline time: {summary.seconds / base_s:.2f}x")
        print("rows: " + ", ".join(f"{k} {v:,}" for k, v in summary.rows.items()))
        print(f"events/s counts events + transactions ({rows:,}); output {size_mb:,.0f} MiB of Parquet")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
