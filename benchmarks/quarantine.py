"""What reading the quarantine back costs: the load summary's top values and `lingxi quarantine show`.

    python benchmarks/quarantine.py [--rows 1000000] [--bad 0.01,0.1] [--out benchmarks/out]

For each bad share, writes a transactions extract of `--rows` rows in which that share has a wrong
`direction` code (three distinct codes) and a tenth of those also a wrong amount, loads it with
`--max-bad 1` (so every load publishes), then times, on the load's quarantine:
  - top values: the group-by the loader runs after a load with quarantined rows (ingest/review.py);
  - show: `review_load` as `lingxi quarantine show TABLE --reason not_allowed` runs it (top values of
    every reason, plus 20 sample rows).
The baseline is the load itself (without the top-values step, which is timed apart): the ratio says
what share of a load the summary adds. Each figure is the fastest of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from lingxi.engine.duckdb import DuckDBEngine
from lingxi.ingest.load import LoadOptions, load
from lingxi.ingest.masked import View
from lingxi.ingest.review import review_load, summarise_quarantine
from lingxi.schema import get_table
from lingxi.store import Lake, connect, migrate

N_CUSTOMERS = 100_000


def generate(out: Path, rows: int, bad: float) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    customers, txns = out / "q-customers.csv", out / f"q-transactions-{rows}-{bad}.csv"
    con = duckdb.connect()
    if not customers.exists():
        con.execute(
            f"""COPY (SELECT printf('C%09d', i) AS customer_id, printf('BR%02d', i % 40) AS branch_id
                 FROM range({N_CUSTOMERS}) t(i)) TO '{customers}' (HEADER)"""
        )
    every = max(1, round(1 / bad))
    if not txns.exists():
        con.execute(
            f"""COPY (SELECT printf('T%012d', i) AS txn_id, printf('C%09d', hash(i) % {N_CUSTOMERS}) AS customer_id,
                   TIMESTAMP '2026-01-01' + to_seconds((hash(i * 7) % (300 * 86400))::BIGINT) AS ts,
                   CASE WHEN i % {every * 10} = 0 THEN 'n/a'
                        ELSE round(((hash(i * 13) % 5000000) / 100.0 + 0.01), 2)::VARCHAR END AS amount,
                   CASE WHEN i % {every} = 0 THEN ['VYBER', 'PRIJEM', 'X'][1 + (i // {every}) % 3]
                        WHEN hash(i * 3) % 2 = 0 THEN 'credit' ELSE 'debit' END AS direction
                 FROM range({rows}) t(i)) TO '{txns}' (HEADER)"""
        )
    con.close()
    return customers, txns


def run(customers: Path, txns: Path) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="lingxi-quarantine-bench-"))
    store = connect(f"sqlite:///{work / 'lingxi.db'}")
    migrate(store)
    lake = Lake(work / "lake", store)
    engine = DuckDBEngine(memory_limit="1GB", temp_directory=work / "tmp")
    try:
        load(lake, engine, LoadOptions(table="customers", path=customers))
        start = time.perf_counter()
        report = load(lake, engine, LoadOptions(table="transactions", path=txns, max_bad=1.0))
        total = time.perf_counter() - start
        assert report.status == "published" and report.quarantine_path, report
        table = get_table("transactions")
        start = time.perf_counter()
        summarise_quarantine(engine, Path(report.quarantine_path), table, None)
        top = time.perf_counter() - start
        start = time.perf_counter()
        review_load(lake, engine, "transactions", View.raw, reason="not_allowed")
        show = time.perf_counter() - start
        return {"quarantined": report.rows_quarantined, "load": total - top, "top": top, "show": show}
    finally:
        engine.close()
        store.dispose()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad", default="0.01,0.1", help="comma-separated shares of bad rows")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    header = (
        f"{'rows':>10} {'quarantined':>11} {'load s':>7} {'top values s':>12} {'top/load':>8} {'show s':>7} "
        f"{'show/load':>9}"
    )
    print(header)
    print("-" * len(header))
    for bad in (float(b) for b in args.bad.split(",")):
        customers, txns = generate(args.out, args.rows, bad)
        runs = [run(customers, txns) for _ in range(args.repeat)]
        best = {k: min(r[k] for r in runs) for k in ("load", "top", "show")}
        print(
            f"{args.rows:>10,} {int(runs[0]['quarantined']):>11,} {best['load']:>7.2f} {best['top']:>12.3f} "
            f"{best['top'] / best['load']:>8.1%} {best['show']:>7.3f} {best['show'] / best['load']:>9.1%}"
        )


if __name__ == "__main__":
    main()
