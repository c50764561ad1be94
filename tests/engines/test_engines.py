"""One suite, every engine: the same canonical queries over the same lake give the same answers.

Each query also has a plain-Python oracle computed from the source files, so DuckDB is checked
against something other than itself, and Spark against both.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlglot import exp, select

from lingxi.engine import Engine
from lingxi.errors import EngineError
from lingxi.store import Lake


def normalise(table: pa.Table) -> list[tuple[Any, ...]]:
    """Rows as sorted tuples of comparable Python values (decimals to cents, dates as text)."""

    def value(v: Any) -> Any:
        if isinstance(v, Decimal | float):
            return round(float(v), 2)
        if isinstance(v, datetime | date):
            return v.isoformat()
        return v

    return sorted(tuple(value(v) for v in row.values()) for row in table.to_pylist())


def source_rows(lake: Lake, name: str) -> list[dict[str, str]]:
    path = lake.root.parent / "in" / f"{name}.csv"
    with Path(path).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


QUERIES: dict[str, str] = {
    "rows_per_month_partition": "SELECT txn_month, count(*) AS n FROM transactions GROUP BY txn_month",
    "sum_by_direction": "SELECT direction, sum(amount) AS total, count(*) AS n FROM transactions GROUP BY direction",
    "transactions_per_branch": (
        "SELECT c.branch_id, count(*) AS n FROM transactions t JOIN customers c "
        "ON c.customer_id = t.customer_id GROUP BY c.branch_id"
    ),
    "largest_transaction_per_customer": (
        "SELECT customer_id, amount FROM (SELECT customer_id, amount, row_number() OVER "
        "(PARTITION BY customer_id ORDER BY amount DESC, txn_id) AS rn FROM transactions) WHERE rn = 1"
    ),
    "hour_of_day": "SELECT extract(hour FROM ts) AS h, count(*) AS n FROM transactions GROUP BY 1",
    "month_text": "SELECT strftime(ts, '%Y-%m') AS m, count(*) AS n FROM transactions GROUP BY 1",
    "conditional_counts": (
        "SELECT customer_id, count(*) FILTER (WHERE direction = 'credit') AS credits, "
        "sum(CASE WHEN category IN ('salary') THEN amount ELSE 0 END) AS salary FROM transactions GROUP BY 1"
    ),
    "customers_born_before_1970": "SELECT count(*) AS n FROM customers WHERE birth_date < DATE '1970-01-01'",
}


def oracle(lake: Lake, name: str) -> list[tuple[Any, ...]]:
    """What each query must return, computed in plain Python from the loaded CSV files."""
    txns = source_rows(lake, "transactions")
    customers = {c["customer_id"]: c for c in source_rows(lake, "customers")}
    counts: Counter[Any] = Counter()
    if name in ("rows_per_month_partition", "month_text"):
        counts.update(t["ts"][:7] for t in txns)
        return sorted(counts.items())
    if name == "sum_by_direction":
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for t in txns:
            sums[t["direction"]] += Decimal(t["amount"])
            counts[t["direction"]] += 1
        return sorted((d, round(float(s), 2), counts[d]) for d, s in sums.items())
    if name == "transactions_per_branch":
        counts.update(customers[t["customer_id"]]["branch_id"] for t in txns)
        return sorted(counts.items())
    if name == "largest_transaction_per_customer":
        best: dict[str, Decimal] = {}
        for t in txns:
            best[t["customer_id"]] = max(best.get(t["customer_id"], Decimal(0)), Decimal(t["amount"]))
        return sorted((c, round(float(a), 2)) for c, a in best.items())
    if name == "hour_of_day":
        counts.update(int(t["ts"][11:13]) for t in txns)
        return sorted(counts.items())
    if name == "conditional_counts":
        credits: Counter[str] = Counter()
        salary: dict[str, Decimal] = defaultdict(Decimal)
        for t in txns:
            credits[t["customer_id"]] += t["direction"] == "credit"
            salary[t["customer_id"]] += Decimal(t["amount"]) if t["category"] == "salary" else Decimal(0)
        return sorted((c, credits[c], round(float(salary[c]), 2)) for c in salary)
    if name == "customers_born_before_1970":
        return [(sum(c["birth_date"] < "1970-01-01" for c in customers.values()),)]
    raise KeyError(name)


@pytest.mark.parametrize("name", QUERIES)
def test_same_query_same_answer(engine: Engine, reference: Engine, bank_lake: Lake, name: str) -> None:
    result = normalise(engine.run(QUERIES[name], label=name))
    assert result == oracle(bank_lake, name)
    assert result == normalise(reference.run(QUERIES[name], label=name))


def test_sqlglot_trees_render_per_dialect(engine: Engine) -> None:
    query = (
        select(exp.column("risk_level"), exp.func("count", exp.Star()).as_("n"))
        .from_("customers")
        .where(exp.column("risk_level").isin("C4", "C5"))
        .group_by("risk_level")
    )
    rows = normalise(engine.run(query, label="tree"))
    assert {r[0] for r in rows} <= {"C4", "C5"} and sum(r[1] for r in rows) > 0


def test_arrow_tables_register_as_views(engine: Engine) -> None:
    engine.register_arrow("lx_tmp_ids", pa.table({"customer_id": ["C000001", "C000002", "nobody"]}))
    rows = engine.run(
        "SELECT count(*) AS n FROM lx_tmp_ids i JOIN customers c ON c.customer_id = i.customer_id", label="arrow"
    )
    assert rows.to_pylist() == [{"n": 2}]


def test_engine_errors_carry_the_sql(engine: Engine) -> None:
    with pytest.raises(EngineError) as info:
        engine.run("SELECT no_such_column FROM customers", label="broken query")
    message = str(info.value)
    assert "broken query" in message and "no_such_column" in message and engine.name in message
