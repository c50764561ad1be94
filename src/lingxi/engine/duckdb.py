"""The default engine: DuckDB, embedded, reading the lake's Parquet folders in place."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import duckdb
import pyarrow as pa

from lingxi.engine.base import Engine

PART_FILE = "part-0.parquet"
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ordered(query: str, sort_by: list[str]) -> str:
    return f"{query} ORDER BY {', '.join(_ident(c) for c in sort_by)}" if sort_by else query


def _hive_value(value: Any) -> str:
    """A partition value as a Hive-style folder name writes it (escaped; NULL as Hive's default name)."""
    return HIVE_NULL if value is None else quote(str(value), safe="")


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

    def cursor(self) -> Any:
        return self.con.cursor()

    def _execute(self, sql: str, params: list[Any], label: str) -> pa.Table:
        relation = self.con.sql(sql, params=params or None)
        if relation is None:  # a statement without a result (DDL, COPY)
            return pa.table({})
        return _to_arrow(relation)

    def _stream(self, sql: str, params: list[Any], label: str, batch_rows: int) -> pa.RecordBatchReader:
        relation = self.con.sql(sql, params=params or None)
        reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
        result: pa.RecordBatchReader = reader(batch_rows)
        return result

    def _execute_statement(self, sql: str, params: list[Any], label: str) -> None:
        self.con.execute(sql, params)

    def _explain(self, sql: str, label: str) -> str:
        return "\n".join(str(row[-1]) for row in self.con.execute(f"EXPLAIN {sql}").fetchall())

    def _write_parquet(self, sql: str, folder: Path, partition_by: list[str], sort_by: list[str], label: str) -> int:
        """COPY ... TO: one file per folder, sorted by `sort_by`; partitions as Hive-style sub-folders.

        DuckDB's partitioned COPY does not keep an ORDER BY within its files, so a sorted, partitioned
        snapshot is materialised once in a temporary table and each partition copied on its own.
        """
        if not partition_by:
            return self._copy(_ordered(f"SELECT * FROM ({sql}) AS lx_snapshot", sort_by), folder / PART_FILE)
        if not sort_by:
            columns = ", ".join(_ident(c) for c in partition_by)
            done = self.con.execute(
                f"COPY ({sql}) TO {_quote(str(folder))} "
                f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({columns}), FILENAME_PATTERN 'part-{{i}}')"
            ).fetchone()
            return int(done[0]) if done else 0
        table = f"lx_tmp_snapshot_{secrets.token_hex(4)}"
        self.con.execute(f"CREATE TEMP TABLE {table} AS {sql}")
        try:
            keys = self.con.execute(
                f"SELECT DISTINCT {', '.join(_ident(c) for c in partition_by)} FROM {table}"
            ).fetchall()
            rest = ", ".join(_ident(c) for c in partition_by)
            rows = 0
            for key in keys:
                where = " AND ".join(f"{_ident(c)} IS NOT DISTINCT FROM ?" for c in partition_by)
                target = folder.joinpath(*(f"{c}={_hive_value(v)}" for c, v in zip(partition_by, key, strict=True)))
                target.mkdir(parents=True, exist_ok=True)
                query = _ordered(f"SELECT * EXCLUDE ({rest}) FROM {table} WHERE {where}", sort_by)
                rows += self._copy(query, target / PART_FILE, list(key))
            return rows
        finally:
            self.con.execute(f"DROP TABLE IF EXISTS {table}")

    def _copy(self, query: str, path: Path, params: list[Any] | None = None) -> int:
        # Keep the ORDER BY in the file: this connection lets DuckDB reorder results otherwise.
        self.con.execute("SET preserve_insertion_order = true")
        try:
            done = self.con.execute(
                f"COPY ({query}) TO {_quote(str(path))} (FORMAT parquet, COMPRESSION zstd)", params or []
            ).fetchone()
        finally:
            self.con.execute("SET preserve_insertion_order = false")
        return int(done[0]) if done else 0

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
