"""The default engine: DuckDB, embedded, reading the lake's Parquet folders in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pyarrow as pa

from lingxi.engine.base import Engine


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parquet_globs(paths: list[str]) -> list[str]:
    globs = []
    for path in paths:
        p = Path(path)
        globs.append(str(p / "**" / "*.parquet") if p.is_dir() else str(p))
    return globs


class DuckDBEngine(Engine):
    """DuckDB with a memory limit and a spill folder, so large jobs run in bounded memory."""

    name: ClassVar[str] = "duckdb"
    dialect: ClassVar[str] = "duckdb"

    def __init__(
        self,
        database: str = ":memory:",
        *,
        memory_limit: str | None = "2GB",
        threads: int | None = None,
        temp_directory: str | Path | None = None,
    ) -> None:
        self.con = duckdb.connect(database)
        if memory_limit:
            self.con.execute(f"SET memory_limit = {_quote(memory_limit)}")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if temp_directory:
            Path(temp_directory).mkdir(parents=True, exist_ok=True)
            self.con.execute(f"SET temp_directory = {_quote(str(temp_directory))}")
        self.con.execute("SET enable_progress_bar = false")  # progress is the caller's to show
        # Insertion order is not needed by any Lingxi query; dropping it lets DuckDB stream and spill.
        self.con.execute("SET preserve_insertion_order = false")

    def _execute(self, sql: str) -> pa.Table:
        relation = self.con.sql(sql)
        if relation is None:  # a statement without a result (DDL, COPY)
            return pa.table({})
        return _to_arrow(relation)

    def execute(self, sql: str, parameters: list[Any] | None = None) -> None:
        """Run a statement for its effect (DDL, COPY, INSERT); used by the loader."""
        self.con.execute(sql, parameters or [])

    def stream(self, sql: str, batch_rows: int = 1_000_000) -> pa.RecordBatchReader:
        """Run a query and read its result batch by batch (bounded memory)."""
        relation = self.con.sql(sql)
        reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
        result: pa.RecordBatchReader = reader(batch_rows)
        return result

    def _register_parquet(self, name: str, paths: list[str]) -> None:
        files = ", ".join(_quote(g) for g in _parquet_globs(paths))
        self.con.execute(
            f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet([{files}], '
            "hive_partitioning = true, union_by_name = true)"
        )

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def close(self) -> None:
        self.con.close()


def _to_arrow(relation: duckdb.DuckDBPyRelation) -> pa.Table:
    to_table = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table  # duckdb < 1.4
    table: pa.Table = to_table()
    return table
