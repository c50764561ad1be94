"""Leaving erased customers' rows out of a load: by customer id, and anonymous rows by linked identifier.

The erasure registry (`lingxi.privacy.erased`) holds keyed hashes only, so the chunk's distinct ids and
identifiers are hashed in Python and the rows are filtered in DuckDB against the few that match.
"""

from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

from lingxi.engine.base import Engine
from lingxi.engine.sql import col
from lingxi.engine.sql import table as sql_table
from lingxi.ingest.checks import quoted, temp_table
from lingxi.privacy.erased import IDENTIFIER_COLUMNS, ErasureRegistry

#: The temp tables the filter leaves behind (dropped by the loader's cleanup).
ERASED_TABLES = ("lx_erased", "lx_erased_ids")


def leave_out_erased(
    engine: Engine, registry: ErasureRegistry, relation: exp.Expr, columns: list[str]
) -> tuple[exp.Expr, int]:
    """`relation` without rows of customers erased on request, and how many there were.

    A row is left out when its customer id is erased, or when it has no customer id and one of its
    identifier columns (a device or anonymous id) holds an identifier of an erased customer
    (`lingxi.privacy.erased`). They are counted, not quarantined: keeping them anywhere would undo
    the erasure, and leaving them out of every later load means a re-sent extract cannot bring them
    back. Only the chunk's distinct values are hashed; the rows are filtered in DuckDB.
    """
    linked = [c for c in IDENTIFIER_COLUMNS if c in columns]
    has_id = "customer_id" in columns
    if not registry or not (has_id or linked):
        return relation, 0

    def trimmed(column: str) -> exp.Expr:
        return exp.Trim(this=exp.cast(quoted(column), exp.DataType.Type.VARCHAR))

    def anonymous(condition: exp.Expr) -> exp.Expr:
        return exp.and_(col("customer_id").is_(exp.null()), condition) if has_id else condition

    def erased_values(name: str) -> exp.Select:
        return exp.select("v").from_(sql_table(name))

    selects = [
        exp.select(trimmed(c).as_("v"))
        .distinct()
        .from_(relation.copy())
        .where(anonymous(quoted(c).is_(exp.null()).not_()))
        for c in linked
    ]
    conditions: list[exp.Expr] = []
    if has_id and registry.subjects:
        ids_query = (
            exp.select(trimmed("customer_id").as_("v"))
            .distinct()
            .from_(relation.copy())
            .where(col("customer_id").is_(exp.null()).not_())
        )
        ids = engine.run(ids_query, label="customer ids")
        if erased := registry.erased_customers(ids.column("v").to_pylist()):
            _erased_table(engine, "lx_erased", erased)
            is_erased = trimmed("customer_id").isin(query=erased_values("lx_erased"))
            conditions.append(exp.paren(exp.and_(col("customer_id").is_(exp.null()).not_(), is_erased)))
    if selects and registry.identifiers:
        anonymous_values = exp.union(*selects, distinct=True) if len(selects) > 1 else selects[0]
        values = engine.run(anonymous_values, label="identifiers of anonymous rows")
        if erased := registry.erased_identifiers(values.column("v").to_pylist()):
            _erased_table(engine, "lx_erased_ids", erased)
            conditions += [exp.paren(anonymous(trimmed(c).isin(query=erased_values("lx_erased_ids")))) for c in linked]
    if not conditions:
        return relation, 0
    drop = exp.or_(*conditions)
    count_query = exp.select(exp.Count(this=exp.Star()).as_("n")).from_(relation.copy()).where(drop.copy())
    count = engine.run(count_query, label="erased rows")
    keep = exp.func("coalesce", drop, exp.false()).not_()
    kept = exp.select("*").from_(relation.copy()).where(keep).subquery()
    return kept, int(count.column("n")[0].as_py())


def _erased_table(engine: Engine, name: str, values: list[str]) -> None:
    """A DuckDB temp table `name` with one column `v` holding `values`."""
    arrow = name + "_arrow"
    engine.register_arrow(arrow, pa.table({"v": pa.array(values, pa.string())}))
    try:
        engine.execute(temp_table(name, exp.select("v").from_(sql_table(arrow))), label="erased values")
    finally:
        engine.unregister(arrow)
