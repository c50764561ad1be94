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

from lingxi.engine.duckdb import DuckDBEngine
from lingxi.ingest.checks import KNOWN_KEYS, REPEATED_KEYS, SEEN_TABLE, CheckPlan, ident, key_cast, literal
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
        self.key_type = table.column(table.key[0]).sql_type
        self.first_key = key_cast(table, table.key[0])

    def start(self, published: list[str]) -> None:
        """An empty SEEN_TABLE; the `published` Parquet globs are read into it when a chunk's keys could be there."""
        keys = ", ".join(f"{ident(k)} {self.table.column(k).sql_type}" for k in self.table.key)
        self.engine.execute(
            f"CREATE OR REPLACE TEMP TABLE {SEEN_TABLE} ({keys}, __h UBIGINT, __origin VARCHAR)", label="seen keys"
        )
        self.engine.execute(
            f"CREATE OR REPLACE TEMP TABLE {SEEN_RANGE} AS SELECT NULL::{self.key_type} AS low, "
            f"NULL::{self.key_type} AS high",
            label="seen keys",
        )
        self.published = list(published)
        if not self.published:
            return
        files = ", ".join(literal(g) for g in self.published)
        # Min/max from the footers: a bound is enough (a truncated text maximum is rounded up).
        self.engine.execute(
            f"CREATE OR REPLACE TEMP TABLE {PUBLISHED_RANGE} AS SELECT "
            f"min(TRY_CAST(stats_min_value AS {self.key_type})) AS low, "
            f"max(TRY_CAST(stats_max_value AS {self.key_type})) AS high, "
            f"count(*) FILTER (WHERE TRY_CAST(stats_min_value AS {self.key_type}) IS NULL "
            f"OR TRY_CAST(stats_max_value AS {self.key_type}) IS NULL) AS unknown "
            f"FROM parquet_metadata([{files}]) WHERE path_in_schema = {literal(self.table.key[0])} "
            "AND num_values > coalesce(stats_null_count, 0)",
            label="seen keys",
        )
        usable = self._ask(f"SELECT unknown = 0 AND low IS NOT NULL AS ok FROM {PUBLISHED_RANGE}")
        if not usable:  # no usable statistics: read the keys now
            self._read_published()

    def _ask(self, sql: str) -> bool:
        return bool(self.engine.run(sql, label="key ranges").column("ok")[0].as_py())

    def _overlaps(self, ranges: str) -> bool:
        """Whether the chunk's key range meets the one in `ranges` (false when either is empty)."""
        return self._ask(
            f"SELECT coalesce(c.low <= r.high AND r.low <= c.high, false) AS ok FROM {CHUNK_RANGE} c, {ranges} r"
        )

    def _extend(self, other: str) -> None:
        self.engine.execute(
            f"CREATE OR REPLACE TEMP TABLE {SEEN_RANGE} AS SELECT least(s.low, o.low) AS low, "
            f"greatest(s.high, o.high) AS high FROM {SEEN_RANGE} s, (SELECT low, high FROM {other}) o",
            label="seen keys",
        )

    def _read_published(self) -> None:
        cols = ", ".join(ident(k) for k in self.table.key)
        typed = ", ".join(key_cast(self.table, k) for k in self.table.key)
        files = ", ".join(literal(g) for g in self.published)
        self.engine.execute(
            f"INSERT INTO {SEEN_TABLE} SELECT {cols}, hash({typed}), 'loaded' "
            f"FROM read_parquet([{files}], hive_partitioning = true, union_by_name = true)",
            label="seen keys",
        )
        self.published = []
        self._extend(f"(SELECT min({self.first_key}) AS low, max({self.first_key}) AS high FROM {SEEN_TABLE})")

    def find_row_problems(self, plan: CheckPlan) -> None:
        """Fill `lx_row_problems` for the chunk in `lx_typed`, then record its new keys."""
        hashes = self.engine.run(plan.key_hashes_sql, label="key hashes").column("h")
        repeated = pa.table({"h": pa.array(repeated_hashes(hashes.to_numpy()), pa.uint64())})
        self.engine.execute(f"CREATE OR REPLACE TEMP TABLE {CHUNK_RANGE} AS {plan.key_range_sql}", label="seen keys")
        if self.published and self._overlaps(PUBLISHED_RANGE):
            self._read_published()
        if self._overlaps(SEEN_RANGE):
            known = self.engine.run(plan.known_hashes_sql, label="keys seen before")
        else:
            known = pa.table({"h": pa.array([], pa.uint64())})
        self._extend(CHUNK_RANGE)
        self.engine.register_arrow(REPEATED_KEYS, repeated)
        self.engine.register_arrow(KNOWN_KEYS, known)
        try:
            self.engine.execute(
                "CREATE OR REPLACE TEMP TABLE lx_row_problems AS "
                + plan.row_problems_sql(repeated=repeated.num_rows > 0, known=known.num_rows > 0),
                label="seen keys",
            )
        finally:
            self.engine.unregister(REPEATED_KEYS)
            self.engine.unregister(KNOWN_KEYS)
        self.engine.execute(
            plan.record_keys_sql(flagged=repeated.num_rows > 0 or known.num_rows > 0), label="seen keys"
        )

    def drop(self) -> None:
        for name in (SEEN_TABLE, SEEN_RANGE, PUBLISHED_RANGE, CHUNK_RANGE):
            self.engine.execute(f"DROP TABLE IF EXISTS {name}", label="seen keys")
