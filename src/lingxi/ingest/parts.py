"""Writing a load's good rows as the lake's Parquet files, in the background.

DuckDB sorts each chunk (by partition, then by the table's sort columns) and hands it over as Arrow;
this writer cuts it at partition boundaries and writes one file per partition on worker threads, so
the next chunk is typed and checked while this one is compressed. pyarrow's writer is used rather
than DuckDB's `COPY ... PARTITION_BY`: the latter re-buckets rows it has just sorted and cost 40% of the
load (docs/performance.md). Files get the contract's exact Arrow schema.

At most one chunk waits for the disk at a time, so memory stays bounded by about two chunks.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lingxi.ingest.checks import partition_text
from lingxi.schema.types import Table

PART_COLUMN = "__part"  # each row's partition key (checks.partition_order_expression); dropped before writing
ROW_GROUP_ROWS = 122_880  # DuckDB's default: small enough for row groups to prune by customer
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
CATALOGUE_TABLES = {"products"}  # referenced tables small enough for a column of their ids to repeat


class PartWriter:
    """Writes sorted chunks under `folder` as `<partition>=<value>/part-<chunk>.parquet`."""

    def __init__(self, table: Table, folder: Path, *, threads: int = 2) -> None:
        self.table, self.folder = table, folder
        self.schema = table.arrow_schema()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lingxi-parts")
        self._pending: list[Future[None]] = []
        self.files = 0

    def write(self, rows: pa.Table, chunk_index: int) -> None:
        """Queue one chunk, sorted by partition then sort columns, after the previous one is written."""
        self.wait()
        if rows.num_rows == 0:
            return
        for relative, part in self._split(rows, chunk_index):
            self._pending.append(self._pool.submit(self._write_file, part, self.folder / relative))
            self.files += 1

    def _split(self, rows: pa.Table, chunk_index: int) -> list[tuple[Path, pa.Table]]:
        name = f"part-{chunk_index:05d}.parquet"
        if self.table.partition is None:
            return [(Path(name), rows)]
        values = rows.column(PART_COLUMN)
        data = rows.drop_columns([PART_COLUMN])
        parts, start = [], 0
        for item in pc.value_counts(values):  # in order of first appearance: the sorted order
            value, count = partition_text(self.table, item["values"].as_py()), item["counts"].as_py()
            folder = f"{self.table.partition.name}={_escape(value)}"
            parts.append((Path(folder) / name, data.slice(start, count)))
            start += count
        assert start == rows.num_rows, "rows of one partition must be contiguous (sort by partition first)"
        return parts

    def _write_file(self, part: pa.Table, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = conform(self.schema, part)
        with lake_file_writer(self.table, path, rows.schema) as writer:
            writer.write_table(rows, row_group_size=ROW_GROUP_ROWS)
            writer.add_key_value_metadata(self.schema.metadata)

    def wait(self) -> None:
        """Block until every queued file is written; re-raise the first failure."""
        pending, self._pending = self._pending, []
        errors = [f.exception() for f in pending]
        for error in errors:
            if error is not None:
                raise error

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


def conform(schema: pa.Schema, part: pa.Table) -> pa.Table:
    """`part` with the contract's exact columns and types (missing columns as nulls).

    A code column that arrives dictionary-encoded (an ENUM in DuckDB) is kept so: Parquet records string
    values whatever the Arrow type was, and without the Arrow schema in the file (which would say
    "dictionary"), readers see exactly the contract's types.
    """
    columns, fields = [], []
    for f in schema:
        column = part.column(f.name) if f.name in part.column_names else pa.nulls(part.num_rows, f.type)
        if pa.types.is_dictionary(column.type):
            fields.append(f.with_type(column.type))
        else:
            column = column.cast(f.type)
            fields.append(f)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def lake_file_writer(
    table: Table, path: Path, schema: pa.Schema, sort_by: tuple[str, ...] | None = None
) -> pq.ParquetWriter:
    """A Parquet writer with the lake's file settings for `table` (the loader's and compaction's files alike).

    Dictionary pages pay off for codes and catalogue references (a few hundred values). For ids of
    customers and accounts, names, hashes and JSON they are wasted work: in a file sorted by customer,
    plain pages under zstd are smaller and a quarter faster to write. Decimals of precision <= 18 are
    stored as INT64, as DuckDB does. Min/max of a column of a few codes, or of JSON, never prunes a row
    group, so they are not computed. With these, a chunk writes in less than half the time
    (docs/performance.md). The file records its sort order (`sort_by`, default the table's).
    """
    dictionary_columns = [
        c.name
        for c in table.columns
        if c.type == "string" and (c.allowed or (c.reference and c.reference[0] in CATALOGUE_TABLES))
    ]
    statistics_columns = [c.name for c in table.columns if not c.allowed and c.type != "json"]
    order = [(c, "ascending") for c in (sort_by or table.sort_by)]
    return pq.ParquetWriter(
        path,
        schema,
        store_schema=False,
        compression="zstd",
        use_dictionary=dictionary_columns,
        write_statistics=statistics_columns,
        store_decimal_as_integer=True,
        sorting_columns=pq.SortingColumn.from_ordering(table.arrow_schema(), order),
    )


def _escape(value: str | None) -> str:
    """Hive's percent-encoding of a partition value (DuckDB reads it back decoded)."""
    return NULL_PARTITION if value is None else quote(value, safe="")
