"""The seam between Lingxi and the engines that run its SQL.

An engine runs SQL and moves Arrow tables; it knows nothing about tags or customers. Definitions are
written once in the canonical dialect (DuckDB SQL) or built as sqlglot trees, and every engine renders
them in its own dialect, so the same definition runs on a laptop and on a bank's Spark cluster.

What every engine offers (the public methods are final: they render the query once and turn the engine's
own failures into an `EngineError` that names the label and carries the SQL):

- `run`: a query's result as an Arrow table (small results: it travels through this process);
- `stream`: a query's result batch by batch, in bounded memory;
- `execute`: a statement for its effect (DDL);
- `explain`: the engine's plan of a query, as text;
- `write_snapshot`: a query's result written as Parquet files into a folder of the lake by the engine
  itself (DuckDB's COPY, Spark's executors), so nothing large travels through this process;
- `register_dataset` / `register_arrow` / `unregister`: views over lake folders or Arrow tables.

Values that arrive with a request are bound `params` (`?` placeholders), never formatted into the SQL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar, final

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from lingxi.errors import EngineError, UnsupportedOnEngine

CANONICAL_DIALECT = "duckdb"

Query = exp.Expression | str
Params = Sequence[Any]

T = TypeVar("T")


class Engine(ABC):
    """Runs SQL and moves Arrow tables."""

    name: ClassVar[str]
    dialect: ClassVar[str]

    def render(self, query: Query) -> str:
        """SQL text of `query` in this engine's dialect (a string is read as canonical DuckDB SQL)."""
        if isinstance(query, str):
            if self.dialect == CANONICAL_DIALECT:
                return query
            return ";\n".join(sqlglot.transpile(query, read=CANONICAL_DIALECT, write=self.dialect))
        return query.sql(dialect=self.dialect, pretty=True)

    @final
    def run(self, query: Query, *, label: str, params: Params = ()) -> pa.Table:
        """Run a query and return its result as an Arrow table."""
        sql = self.render(query)
        return self._guard("running", label, sql, lambda: self._execute(sql, list(params), label))

    @final
    def stream(
        self, query: Query, *, label: str, batch_rows: int = 1_000_000, params: Params = ()
    ) -> pa.RecordBatchReader:
        """Run a query and read its result batch by batch (at most `batch_rows` rows each), in bounded memory.

        Errors raised while the batches are read are the engine's own (the reader is consumed later).
        """
        sql = self.render(query)
        return self._guard("streaming", label, sql, lambda: self._stream(sql, list(params), label, batch_rows))

    @final
    def execute(self, statement: Query, *, label: str, params: Params = ()) -> None:
        """Run a statement for its effect (DDL, INSERT); nothing is returned."""
        sql = self.render(statement)
        self._guard("executing", label, sql, lambda: self._execute_statement(sql, list(params), label))

    @final
    def explain(self, query: Query, *, label: str) -> str:
        """The engine's plan for `query`, as text (for debugging and for tests that check what runs where)."""
        sql = self.render(query)
        return self._guard("explaining", label, sql, lambda: self._explain(sql, label))

    @final
    def write_snapshot(
        self,
        query: Query,
        folder: Path,
        *,
        label: str,
        partition_by: Sequence[str] = (),
        sort_by: Sequence[str] = (),
    ) -> int:
        """Write the query's result as Parquet files into `folder` (which exists and is empty); returns the rows.

        The engine writes the files itself: nothing large travels through this process. Rows are sorted by
        `sort_by` within each file; `partition_by` columns become Hive-style folders (`name=value/`).
        """
        folder = Path(folder)
        if not folder.is_dir() or any(folder.iterdir()):
            raise EngineError(f"cannot write `{label}` into `{folder}`: the folder must exist and be empty")
        sql = self.render(query)
        return self._guard(
            "writing", label, sql, lambda: self._write_parquet(sql, folder, list(partition_by), list(sort_by), label)
        )

    @final
    def register_dataset(self, name: str, paths: Sequence[str]) -> None:
        """Expose Parquet folders or files (Hive-style partitions) as a view called `name`.

        An empty `paths` registers nothing and leaves any earlier view in place.
        """
        if not paths:
            return
        try:
            self._register_parquet(name, list(paths))
        except Exception as e:
            raise EngineError(f"{self.name} could not register dataset `{name}` from {list(paths)}: {e}") from e

    @abstractmethod
    def register_arrow(self, name: str, table: pa.Table) -> None:
        """Expose an in-memory Arrow table as a view called `name`."""

    @abstractmethod
    def unregister(self, name: str) -> None:
        """Drop the view `name` made by `register_arrow` (or `register_dataset`)."""

    def cursor(self) -> Any:
        """A second connection to the same database, for one thread's point reads beside other threads'.

        Only an engine that keeps its database in this process has one (DuckDB); the console's serving reader
        needs it. Others raise UnsupportedOnEngine.
        """
        raise UnsupportedOnEngine(f"{self.name} has no in-process cursors", hint="serve the console from DuckDB")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine's resources."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what each engine implements --------------------------------------------------------------------

    @abstractmethod
    def _execute(self, sql: str, params: list[Any], label: str) -> pa.Table: ...

    @abstractmethod
    def _stream(self, sql: str, params: list[Any], label: str, batch_rows: int) -> pa.RecordBatchReader: ...

    @abstractmethod
    def _execute_statement(self, sql: str, params: list[Any], label: str) -> None: ...

    @abstractmethod
    def _explain(self, sql: str, label: str) -> str: ...

    @abstractmethod
    def _write_parquet(
        self, sql: str, folder: Path, partition_by: list[str], sort_by: list[str], label: str
    ) -> int: ...

    @abstractmethod
    def _register_parquet(self, name: str, paths: list[str]) -> None: ...

    @final
    def _guard(self, doing: str, label: str, sql: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except EngineError:
            raise
        except Exception as e:  # the engine's own error types differ; keep the SQL with the message
            raise EngineError(f"{self.name} failed while {doing} {label}:\n{sql}\n\n{e}") from e


def parquet_rows(folder: Path) -> int:
    """Rows in the Parquet files under `folder`, from their footers (no data is read)."""
    return sum(pq.ParquetFile(path).metadata.num_rows for path in sorted(Path(folder).rglob("*.parquet")))
