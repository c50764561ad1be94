"""Finding repeated keys cheaply: by their 64-bit hashes first, by the keys themselves only where a hash matched.

A key must be unique within a load's input and, for append tables, new to the published rows. Comparing
the key text of every row with every key seen so far cost a join with a table that grew with each chunk:
the tenth million-row chunk of a file paid three times what the first did. Instead each row's key is
hashed in DuckDB; repeats within the chunk are found by sorting its hashes here (a few milliseconds per
million rows), and keys seen before by a semi join of the chunk's hashes with the hashes of the keys
seen (integers: a third the cost of text). Only the rows whose hash matched, normally none, have their
keys compared (checks.CheckPlan.row_problems_sql), so a hash collision never quarantines a row.

The semi join is skipped when the chunk's keys lie outside the range of those seen: journal numbers
and event ids usually rise through an extract. The published keys of an append table are read only
when a chunk's range meets theirs, which the Parquet statistics tell without reading a row: a day's
transactions appended after a year of them need not read the year's keys at all.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlglot import exp

from lingxi.engine.duckdb import DuckDBEngine
from lingxi.engine.sql import col, lit, table
from lingxi.ingest.checks import (
    KNOWN_KEYS,
    REPEATED_KEYS,
    SEEN_TABLE,
    CheckPlan,
    call,
    cast_key,
    data_type,
    drop_table,
    quoted,
    read_parquet,
    temp_table,
)
from lingxi.schema.types import Table

# One-row tables (low, high) of the first key column, kept in DuckDB so values compare as DuckDB
# compares them, whatever their type (a date DuckDB reads may not fit Python's `date`).
SEEN_RANGE = "lx_seen_range"  # over SEEN_TABLE
PUBLISHED_RANGE = "lx_published_range"  # over the published keys not read into SEEN_TABLE yet
CHUNK_RANGE = "lx_chunk_range"  # over the chunk in lx_typed


def repeated_hashes(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The distinct hashes that occur more than once."""
    ordered = np.sort(hashes)
    return np.unique(ordered[1:][ordered[1:] == ordered[:-1]])


class SeenKeys:
    """The keys one load has seen, in SEEN_TABLE: its earlier chunks' and, when appending, the published rows'."""

    def __init__(self, engine: DuckDBEngine, table: Table) -> None:
        self.engine, self.table = engine, table
        self.published: list[str] = []  # Parquet globs of published keys not read into SEEN_TABLE yet
        self.key_type = data_type(table.column(table.key[0]).sql_type)
        self.first_key = cast_key(table, table.key[0])

    def start(self, published: list[str]) -> None:
        """An empty SEEN_TABLE; the `published` Parquet globs are read into it when a chunk's keys could be there."""
        keys = [
            exp.ColumnDef(this=exp.to_identifier(k, quoted=True), kind=data_type(self.table.column(k).sql_type))
            for k in self.table.key
        ]
        keys += [
            exp.ColumnDef(this=exp.to_identifier("__h"), kind=data_type("UBIGINT")),
            exp.ColumnDef(this=exp.to_identifier("__origin"), kind=data_type("VARCHAR")),
        ]
        create = temp_table(SEEN_TABLE, exp.null())
        create.set("expression", None)
        create.set("this", exp.Schema(this=table(SEEN_TABLE), expressions=keys))
        self.engine.execute(create, label="seen keys")
        empty = exp.select(
            exp.cast(exp.null(), self.key_type.copy()).as_("low"),
            exp.cast(exp.null(), self.key_type.copy()).as_("high"),
        )
        self.engine.execute(temp_table(SEEN_RANGE, empty), label="seen keys")
        self.published = list(published)
        if not self.published:
            return

        def bound(stat: str) -> exp.TryCast:
            return exp.TryCast(this=exp.column(stat), to=self.key_type.copy())

        # Min/max from the footers: a bound is enough (a truncated text maximum is rounded up).
        unknown = exp.Filter(
            this=exp.Count(this=exp.Star()),
            expression=exp.Where(
                this=exp.or_(bound("stats_min_value").is_(exp.null()), bound("stats_max_value").is_(exp.null()))
            ),
        )
        footers = (
            exp.select(
                exp.Min(this=bound("stats_min_value")).as_("low"),
                exp.Max(this=bound("stats_max_value")).as_("high"),
                unknown.as_("unknown"),
            )
            .from_(exp.Table(this=call("parquet_metadata", exp.Array(expressions=[lit(g) for g in self.published]))))
            .where(exp.column("path_in_schema").eq(lit(self.table.key[0])))
            .where(exp.column("num_values") > exp.func("coalesce", exp.column("stats_null_count"), lit(0)))
        )
        self.engine.execute(temp_table(PUBLISHED_RANGE, footers), label="seen keys")
        ok = exp.and_(exp.column("unknown").eq(lit(0)), exp.column("low").is_(exp.null()).not_())
        usable = self._ask(exp.select(ok.as_("ok")).from_(PUBLISHED_RANGE))
        if not usable:  # no usable statistics: read the keys now
            self._read_published()

    def _ask(self, query: exp.Select) -> bool:
        return bool(self.engine.run(query, label="key ranges").column("ok")[0].as_py())

    def _overlaps(self, ranges: str) -> bool:
        """Whether the chunk's key range meets the one in `ranges` (false when either is empty)."""
        meets = exp.and_(col("low", "c") <= col("high", "r"), col("low", "r") <= col("high", "c"))
        ok = exp.func("coalesce", meets, exp.false()).as_("ok")
        return self._ask(exp.select(ok).from_(table(CHUNK_RANGE, alias="c")).join(table(ranges, alias="r")))

    def _extend(self, other: exp.Expr) -> None:
        low = exp.func("least", col("low", "s"), col("low", "o")).as_("low")
        high = exp.func("greatest", col("high", "s"), col("high", "o")).as_("high")
        bounds = exp.select("low", "high").from_(other).subquery("o")
        query = exp.select(low, high).from_(table(SEEN_RANGE, alias="s")).join(bounds)
        self.engine.execute(temp_table(SEEN_RANGE, query), label="seen keys")

    def _read_published(self) -> None:
        cols = [quoted(k) for k in self.table.key]
        hashed = call("hash", *(cast_key(self.table, k) for k in self.table.key))
        scan = read_parquet(self.published, hive_partitioning=True, union_by_name=True)
        keys = exp.select(*cols, hashed, lit("loaded")).from_(scan)
        self.engine.execute(exp.insert(keys, SEEN_TABLE), label="seen keys")
        self.published = []
        seen = exp.select(
            exp.Min(this=self.first_key.copy()).as_("low"), exp.Max(this=self.first_key.copy()).as_("high")
        ).from_(SEEN_TABLE)
        self._extend(seen.subquery())

    def find_row_problems(self, plan: CheckPlan) -> None:
        """Fill `lx_row_problems` for the chunk in `lx_typed`, then record its new keys."""
        hashes = self.engine.run(plan.key_hashes_sql, label="key hashes").column("h")
        repeated = pa.table({"h": pa.array(repeated_hashes(hashes.to_numpy()), pa.uint64())})
        self.engine.execute(temp_table(CHUNK_RANGE, plan.key_range_sql), label="seen keys")
        if self.published and self._overlaps(PUBLISHED_RANGE):
            self._read_published()
        if self._overlaps(SEEN_RANGE):
            known = self.engine.run(plan.known_hashes_sql, label="keys seen before")
        else:
            known = pa.table({"h": pa.array([], pa.uint64())})
        self._extend(table(CHUNK_RANGE))
        self.engine.register_arrow(REPEATED_KEYS, repeated)
        self.engine.register_arrow(KNOWN_KEYS, known)
        try:
            problems = plan.row_problems_sql(repeated=repeated.num_rows > 0, known=known.num_rows > 0)
            self.engine.execute(temp_table("lx_row_problems", problems), label="seen keys")
        finally:
            self.engine.unregister(REPEATED_KEYS)
            self.engine.unregister(KNOWN_KEYS)
        self.engine.execute(
            plan.record_keys_sql(flagged=repeated.num_rows > 0 or known.num_rows > 0), label="seen keys"
        )

    def drop(self) -> None:
        for name in (SEEN_TABLE, SEEN_RANGE, PUBLISHED_RANGE, CHUNK_RANGE):
            self.engine.execute(drop_table(name), label="seen keys")
