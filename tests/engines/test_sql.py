"""engine/sql.py: building blocks, the CTE pipeline, conditions checked against the allow-list, rendering."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from lingxi.engine.duckdb import DuckDBEngine
from lingxi.engine.sql import (
    CTEPipeline,
    check_condition,
    col,
    in_list,
    lit,
    param,
    parse_condition,
    render,
    table,
)
from lingxi.errors import ConfigError, SpecError

from ..golden import GoldenSQL

COLUMNS = ["aum", "avg_balance_90d", "risk_level", "birth_date", "city"]


@pytest.fixture(scope="module")
def duck() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(memory_limit="256MB", threads=1)
    yield engine
    engine.close()


@pytest.mark.parametrize(
    "text",
    [
        "aum >= 50000",
        "aum BETWEEN 1 AND 2 AND NOT risk_level IN ('C4', 'C5')",
        "city IS NULL OR city IS NOT NULL",
        "CASE WHEN aum > 1 THEN 'a' ELSE 'b' END = 'a'",
        "coalesce(avg_balance_90d, 0) > abs(aum) * 2",
        "birth_date < DATE '1970-01-01'",
        "lower(city) LIKE 'shang%'",
        "date_diff('day', birth_date, current_date) > 365",
        "AUM > 1",  # DuckDB identifiers are case-insensitive
    ],
)
def test_allowed_conditions(text: str) -> None:
    tree = parse_condition(text, columns=COLUMNS, where="Segment `ok`")
    assert isinstance(tree, exp.Expr)
    assert parse_condition(render(tree), columns=COLUMNS, where="again") == tree


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("avg_balnce_90d > 1", "unknown column `avg_balnce_90d`; did you mean `avg_balance_90d`?"),
        ("zzz > 1", "unknown column `zzz`"),
        ("aum > (SELECT max(aum) FROM customers)", "subqueries are not allowed in a condition"),
        ("aum IN (SELECT 1)", "subqueries are not allowed in a condition"),
        ("read_csv('/etc/passwd') IS NULL", "function `read_csv` is not allowed in definitions"),
        ("my_udf(aum) > 1", "function `my_udf` is not allowed in definitions"),
        ("DROP TABLE customers", "`DROP` is not allowed in a condition"),
        ("aum > 1; DROP TABLE customers", "a condition is one expression; found 2 statements"),
        ("aum = ?", "parameters (`?`, `$1`) are not allowed in a condition; write the value"),
        ("aum = $1", "parameters (`?`, `$1`) are not allowed in a condition; write the value"),
        ("c.aum > 1", "column `c.aum`: name columns without a table"),
        ("", "a condition is one expression; found 0 statements"),
    ],
)
def test_rejected_conditions(text: str, problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_condition(text, columns=COLUMNS, where="Segment `young_affluent`")
    assert caught.value.subject == "Segment `young_affluent`"
    assert problem in caught.value.problems
    assert str(caught.value).startswith("Segment `young_affluent` is invalid (")


def test_every_problem_is_reported_once() -> None:
    tree, problems = check_condition("avg_balnce_90d > 1 AND read_csv(1) AND read_csv(2)", columns=COLUMNS)
    assert tree is not None
    assert sorted(problems) == [
        "function `read_csv` is not allowed in definitions",
        "unknown column `avg_balnce_90d`; did you mean `avg_balance_90d`?",
    ]


def test_unreadable_condition() -> None:
    _, problems = check_condition("aum >", columns=COLUMNS)
    assert len(problems) == 1 and problems[0].startswith("cannot be read as a SQL condition")


def test_pipeline_names_every_step(golden_sql: GoldenSQL, duck: DuckDBEngine) -> None:
    pipe = CTEPipeline()
    values = exp.Unnest(expressions=[exp.Array(expressions=[lit(1), lit(2), lit(3)])])
    numbers = pipe.step("lx_numbers", exp.select(exp.alias_(values, "n")))
    doubled = pipe.step("lx_doubled", exp.select((col("n") * 2).as_("n")).from_(numbers))
    final = exp.select(exp.Sum(this=col("n")).as_("total")).from_(doubled)
    query = pipe.build(final)
    assert [name for name, _ in pipe.steps] == ["lx_numbers", "lx_doubled"]
    assert duck.run(query, label="pipeline").to_pylist() == [{"total": 12}]
    debug = pipe.step_queries()
    assert [name for name, _ in debug] == ["lx_numbers", "lx_doubled"]
    assert sorted(r["n"] for r in duck.run(debug[1][1], label="step").to_pylist()) == [2, 4, 6]
    golden_sql.check("two_steps", query)
    with pytest.raises(ValueError, match="already"):
        pipe.step("lx_numbers", final)


def test_pipeline_keeps_the_final_querys_own_ctes() -> None:
    pipe = CTEPipeline()
    pipe.step("a", exp.select("1 AS x"))
    final = exp.select("x").from_("b").with_("b", as_=exp.select("x").from_("a"))
    assert render(pipe.build(final)) == "WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT x FROM b"
    assert render(pipe.build()) == "WITH a AS (SELECT 1 AS x) SELECT * FROM a"
    with pytest.raises(ValueError):
        CTEPipeline().build()


def test_building_blocks() -> None:
    assert render(col("aum", "a")) == "a.aum"
    assert render(table("customers", alias="c", db="lake")) == "lake.customers AS c"
    assert render(col("x").eq(param())) == "x = ?"
    assert render(in_list(col("t"), [])) == "FALSE"
    assert render(in_list(col("t"), ["a", "b"])) == "t IN ('a', 'b')"
    assert [render(lit(v)) for v in (None, True, 3, Decimal("1.50"), "o'k")] == ["NULL", "TRUE", "3", "1.50", "'o''k'"]
    assert render(lit(date(2025, 1, 31))) == "CAST('2025-01-31' AS DATE)"
    assert render(lit(datetime(2025, 1, 31, 8, 30)), "spark") == "CAST('2025-01-31 08:30:00' AS TIMESTAMP)"
    with pytest.raises(ConfigError, match="unknown SQL dialect `oracle`"):
        render(col("x"), "oracle")


@settings(max_examples=150, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_string_literals_round_trip_on_duckdb(duck: DuckDBEngine, text: str) -> None:
    """Any text rendered as a literal by sqlglot comes back from DuckDB as it was: nothing escapes it."""
    result = duck.run(exp.select(lit(text).as_("v")), label="literal")
    assert result.to_pylist() == [{"v": text}]
