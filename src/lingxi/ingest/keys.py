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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from lingxi.engine.duckdb import DuckDBEngine
from lingxi.ingest.checks import KNOWN_KEYS, REPEATED_KEYS, SEEN_TABLE, CheckPlan, ident, literal
from lingxi.schema.types import Table


def repeated_hashes(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The distinct hashes that occur more than once."""
    ordered = np.sort(hashes)
    return np.unique(ordered[1:][ordered[1:] == ordered[:-1]])


@dataclass
class KeyRange:
    """The lowest and highest value seen of a key column (text compares as DuckDB does: UTF-8 bytes)."""

    low: Any = None
    high: Any = None

    def overlaps(self, low: Any, high: Any) -> bool:
        if self.low is None or low is None:
            return False
        return bool(low <= self.high and self.low <= high)

    def extend(self, low: Any, high: Any) -> None:
        if low is None:
            return
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)


class SeenKeys:
    """The keys one load has seen, in SEEN_TABLE: its earlier chunks' and, when appending, the published rows'."""

    def __init__(self, engine: DuckDBEngine, table: Table) -> None:
        self.engine, self.table = engine, table
        self.range = KeyRange()  # of the first key column, over SEEN_TABLE
        self.published: list[str] = []  # Parquet globs of published keys not read into SEEN_TABLE yet
        self.published_range = KeyRange()
        self.first_key = f"CAST({ident(table.key[0])} AS {table.column(table.key[0]).sql_type})"

    def start(self, published: Sequence[Path]) -> None:
        """An empty SEEN_TABLE; `published` folders are read into it when a chunk's keys could be there."""
        keys = ", ".join(f"{ident(k)} {self.table.column(k).sql_type}" for k in self.table.key)
        self.engine.execute(f"CREATE OR REPLACE TEMP TABLE {SEEN_TABLE} ({keys}, __h UBIGINT, __origin VARCHAR)")
        self.published = [str(p / "**" / "*.parquet") for p in published]
        if not self.published:
            return
        files = ", ".join(literal(g) for g in self.published)
        stats = self.engine.run(
            f"SELECT min(TRY_CAST(stats_min_value AS {self.table.column(self.table.key[0]).sql_type})) AS low, "
            f"max(TRY_CAST(stats_max_value AS {self.table.column(self.table.key[0]).sql_type})) AS high, "
            "count(*) FILTER (WHERE stats_min_value IS NULL OR stats_max_value IS NULL) AS missing "
            f"FROM parquet_metadata([{files}]) WHERE path_in_schema = {literal(self.table.key[0])} "
            "AND num_values > coalesce(stats_null_count, 0)",
            label="published key range",
        ).to_pylist()[0]
        if stats["missing"] or stats["low"] is None:  # no usable statistics: read the keys now
            self._read_published()
        else:
            self.published_range.extend(stats["low"], stats["high"])

    def _read_published(self) -> None:
        cols = ", ".join(ident(k) for k in self.table.key)
        typed = ", ".join(f"CAST({ident(k)} AS {self.table.column(k).sql_type})" for k in self.table.key)
        files = ", ".join(literal(g) for g in self.published)
        self.engine.execute(
            f"INSERT INTO {SEEN_TABLE} SELECT {cols}, hash({typed}), 'loaded' "
            f"FROM read_parquet([{files}], hive_partitioning = true, union_by_name = true)"
        )
        self.published = []
        found = self.engine.run(
            f"SELECT min({self.first_key}) AS low, max({self.first_key}) AS high FROM {SEEN_TABLE}",
            label="published key range",
        ).to_pylist()[0]
        self.range.extend(found["low"], found["high"])

    def find_row_problems(self, plan: CheckPlan) -> None:
        """Fill `lx_row_problems` for the chunk in `lx_typed`, then record its new keys."""
        hashes = self.engine.run(plan.key_hashes_sql, label="key hashes").column("h")
        repeated = pa.table({"h": pa.array(repeated_hashes(hashes.to_numpy()), pa.uint64())})
        low, high = self.engine.run(plan.key_range_sql, label="key range").to_pylist()[0].values()
        if self.published and self.published_range.overlaps(low, high):
            self._read_published()
        if self.range.overlaps(low, high):
            known = self.engine.run(plan.known_hashes_sql, label="keys seen before")
        else:
            known = pa.table({"h": pa.array([], pa.uint64())})
        self.range.extend(low, high)
        self.engine.register_arrow(REPEATED_KEYS, repeated)
        self.engine.register_arrow(KNOWN_KEYS, known)
        try:
            self.engine.execute(
                "CREATE OR REPLACE TEMP TABLE lx_row_problems AS "
                + plan.row_problems_sql(repeated=repeated.num_rows > 0, known=known.num_rows > 0)
            )
        finally:
            self.engine.unregister(REPEATED_KEYS)
            self.engine.unregister(KNOWN_KEYS)
        self.engine.execute(plan.record_keys_sql(flagged=repeated.num_rows > 0 or known.num_rows > 0))
