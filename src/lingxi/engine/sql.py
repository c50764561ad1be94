"""SQL as sqlglot trees: the helpers every capability builds its queries with.

Capabilities never format SQL text. They build `sqlglot.exp` trees with the helpers here and leave the
rendering to the engine (or to `render` when no engine runs: golden files, `--dialect spark`):

- `col`, `lit`, `table`, `param`: columns, literals rendered by sqlglot (values of a saved definition),
  tables (optionally qualified and aliased), and `?` placeholders for values that arrive with a request
  (those are bound by the driver, never rendered into the SQL);
- `CTEPipeline`: named steps (CTEs) that the final query WITHs, as Splink's `CTEPipeline` does, so a
  debug mode can list the steps or run them one at a time (`step_queries`);
- `parse_condition`: a condition written by a person (in DuckDB SQL, the canonical dialect), checked
  against an allow-list and turned into a tree; every problem is reported at once in a SpecError;
- `render`: SQL text of a tree in one of `DIALECTS`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar, overload

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from lingxi.errors import ConfigError, SpecError

#: The dialects Lingxi renders (sqlglot names); DuckDB is the canonical one people write conditions in.
DIALECTS = ("duckdb", "spark")
CANONICAL = "duckdb"

Value = str | int | float | Decimal | bool | date | datetime | None
Q = TypeVar("Q", bound=exp.Query)

#: Node types a condition may contain besides functions: columns, literals, comparisons, logic, CASE.
ALLOWED_NODES: tuple[type[exp.Expr], ...] = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Tuple,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.And,
    exp.Or,
    exp.Not,
    exp.In,
    exp.Between,
    exp.Is,
    exp.Case,
    exp.If,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.Neg,
    exp.Like,
    exp.ILike,
    exp.Cast,
    exp.DataType,
    exp.Var,
)

#: Functions a condition may call, by the name people write (sqlglot parses each into its own node type).
ALLOWED_FUNCTIONS: dict[str, type[exp.Expr]] = {
    "abs": exp.Abs,
    "round": exp.Round,
    "floor": exp.Floor,
    "ceil": exp.Ceil,
    "coalesce": exp.Coalesce,
    "nullif": exp.Nullif,
    "least": exp.Least,
    "greatest": exp.Greatest,
    "lower": exp.Lower,
    "upper": exp.Upper,
    "length": exp.Length,
    "trim": exp.Trim,
    "starts_with": exp.StartsWith,
    "current_date": exp.CurrentDate,
    "date_diff": exp.DateDiff,
    "year": exp.Year,
    "month": exp.Month,
}

CONDITION_HINT = (
    "a condition may use the source's columns, literals, comparisons, AND/OR/NOT, IN, BETWEEN, IS NULL, "
    "CASE and the functions " + ", ".join(ALLOWED_FUNCTIONS)
)
_FUNCTION_TYPES = tuple(ALLOWED_FUNCTIONS.values())
_STATEMENTS = (exp.Query, exp.Subquery, exp.DDL, exp.DML, exp.Command, exp.Drop, exp.Create, exp.Alter)


# --- building blocks -------------------------------------------------------------------------------


def col(name: str, table: str | None = None) -> exp.Column:
    """A column, optionally qualified by a table alias: `col("aum", "a")` is `a.aum`."""
    return exp.column(name, table=table)


def lit(value: Value) -> exp.Expr:
    """A literal rendered by sqlglot (quotes escaped per dialect); for values of a saved definition.

    Values that arrive with a request are not literals: use `param()` and bind them.
    """
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        raise ValueError(f"{value} cannot be a SQL literal: a definition's numbers must be finite")
    if isinstance(value, int | float | Decimal):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    return exp.Literal.string(value)


def lits(values: Iterable[Value]) -> list[exp.Expr]:
    """Literals for an IN list."""
    return [lit(v) for v in values]


def table(name: str, *, alias: str | None = None, db: str | None = None) -> exp.Table:
    """A table or view, optionally qualified by a schema (`db`) and aliased."""
    return exp.table_(name, db=db, alias=alias)


def param() -> exp.Placeholder:
    """A `?` placeholder: a value bound by the driver when the query runs (request values)."""
    return exp.Placeholder()


def asc(expression: exp.Expr) -> exp.Ordered:
    """Ascending order with DuckDB's NULL placement (last), kept when rendered for another dialect."""
    return exp.Ordered(this=expression, nulls_first=False)


def desc(expression: exp.Expr) -> exp.Ordered:
    """Descending order with DuckDB's NULL placement (last), kept when rendered for another dialect."""
    return exp.Ordered(this=expression, desc=True, nulls_first=False)


def render(query: exp.Expr, dialect: str = CANONICAL, *, pretty: bool = False) -> str:
    """SQL text of `query` in `dialect` (one of DIALECTS)."""
    if dialect not in DIALECTS:
        raise ConfigError(f"unknown SQL dialect `{dialect}`", hint=f"use one of: {', '.join(DIALECTS)}")
    return query.sql(dialect=dialect, pretty=pretty)


# --- named steps -----------------------------------------------------------------------------------


class CTEPipeline:
    """Named query steps, each a CTE that later steps and the final query read by name.

    Examples:
        >>> pipe = CTEPipeline()
        >>> latest = pipe.step("lx_latest", exp.select(exp.Max(this=col("d")).as_("d")).from_("holdings"))
        >>> render(pipe.build(exp.select("d").from_(latest)))
        'WITH lx_latest AS (SELECT MAX(d) AS d FROM holdings) SELECT d FROM lx_latest'
    """

    def __init__(self) -> None:
        self._steps: dict[str, exp.Query] = {}

    @property
    def steps(self) -> list[tuple[str, exp.Query]]:
        """The steps in order, as (name, query)."""
        return list(self._steps.items())

    def step(self, name: str, query: exp.Query) -> exp.Table:
        """Add a step named `name`; returns a table reference to it for later steps."""
        if name in self._steps:
            raise ValueError(f"step `{name}` is already in the pipeline")
        self._steps[name] = query
        return table(name)

    @overload
    def build(self) -> exp.Select: ...

    @overload
    def build(self, final: Q) -> Q: ...

    def build(self, final: exp.Query | None = None) -> exp.Query:
        """The final query WITH every step; without `final`, the last step's rows."""
        if final is None:
            if not self._steps:
                raise ValueError("an empty pipeline has no query")
            final = exp.select("*").from_(next(reversed(self._steps)))
        query = final.copy()
        for name, step in reversed(self._steps.items()):
            _with_first(query, name, step)
        return query

    def step_queries(self) -> list[tuple[str, exp.Select]]:
        """For a debug mode: each step as a query of its own rows, WITH the steps it follows."""
        result = []
        names = list(self._steps)
        for i, name in enumerate(names):
            upto = CTEPipeline()
            for earlier in names[: i + 1]:
                upto.step(earlier, self._steps[earlier])
            result.append((name, upto.build()))
        return result


def _with_first(query: exp.Query, name: str, step: exp.Query) -> None:
    """Add `name AS (step)` in front of the CTEs of `query` (in place)."""
    cte = exp.CTE(this=step.copy(), alias=exp.TableAlias(this=exp.to_identifier(name)))
    existing = query.args.get("with_")
    if existing is None:
        query.set("with_", exp.With(expressions=[cte]))
    else:
        existing.set("expressions", [cte, *existing.expressions])


# --- conditions written by people ------------------------------------------------------------------


def check_condition(text: str, *, columns: Iterable[str]) -> tuple[exp.Expr | None, list[str]]:
    """A condition's tree and its problems (empty when valid); for callers that gather problems of many rules."""
    known = {c.lower(): c for c in columns}
    try:
        statements = [s for s in sqlglot.parse(text, read=CANONICAL) if s is not None]
    except ParseError as e:
        first = e.errors[0]["description"] if e.errors else str(e).splitlines()[0]
        return None, [f"cannot be read as a SQL condition: {first}"]
    if len(statements) != 1:
        return None, [f"a condition is one expression; found {len(statements)} statements"]
    tree = statements[0]
    problems: list[str] = []
    for node in tree.walk(prune=lambda n: isinstance(n, _STATEMENTS)):
        problem = _node_problem(node, known)
        if problem and problem not in problems:
            problems.append(problem)
    return tree, problems


def parse_condition(text: str, *, columns: Iterable[str], where: str) -> exp.Expr:
    """Parse a condition (DuckDB SQL) checked against the allow-list and the `columns` it may use.

    Raises SpecError naming `where` (e.g. "Tag `young_affluent`") and listing every problem: subqueries,
    statements, functions outside ALLOWED_FUNCTIONS, unknown columns (with a "did you mean").

    Examples:
        >>> render(parse_condition("aum >= 50000", columns=["aum"], where="Segment `x`"))
        'aum >= 50000'
    """
    tree, problems = check_condition(text, columns=columns)
    if problems or tree is None:
        raise SpecError(where, problems, hint=CONDITION_HINT)
    return tree


def _node_problem(node: exp.Expr, known: dict[str, str]) -> str | None:
    if isinstance(node, _STATEMENTS):
        kind = "subqueries are" if isinstance(node, exp.Query | exp.Subquery) else f"`{node.key.upper()}` is"
        return f"{kind} not allowed in a condition"
    if isinstance(node, exp.Placeholder | exp.Parameter):
        return "parameters (`?`, `$1`) are not allowed in a condition; write the value"
    if isinstance(node, exp.Column):
        return _column_problem(node, known)
    if isinstance(node, _FUNCTION_TYPES) and not isinstance(node, exp.Anonymous):
        return None
    if isinstance(node, ALLOWED_NODES):
        return None
    if isinstance(node, exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
        return f"function `{name.lower()}` is not allowed in definitions"
    return f"`{node.sql(dialect=CANONICAL)[:60]}` ({node.key}) is not allowed in a condition"


def _column_problem(node: exp.Column, known: dict[str, str]) -> str | None:
    if isinstance(node.this, exp.Star):
        return "`*` is not allowed in a condition"
    if node.table:
        return f"column `{node.sql(dialect=CANONICAL)}`: name columns without a table"
    name = node.name
    if name.lower() in known:
        return None
    close = difflib.get_close_matches(name.lower(), list(known), n=1)
    suggestion = f"; did you mean `{known[close[0]]}`?" if close else ""
    return f"unknown column `{name}`{suggestion}"


def in_list(column: exp.Expr, values: Sequence[Value]) -> exp.Expr:
    """`column IN (values...)` with the values rendered as literals; FALSE for no values."""
    if not values:
        return exp.false()
    return column.isin(*lits(values))


__all__ = [
    "ALLOWED_FUNCTIONS",
    "ALLOWED_NODES",
    "CANONICAL",
    "DIALECTS",
    "CTEPipeline",
    "check_condition",
    "col",
    "in_list",
    "lit",
    "lits",
    "param",
    "asc",
    "desc",
    "parse_condition",
    "render",
    "table",
]
