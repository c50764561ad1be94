"""The seam between Lingxi and the engines that run its SQL.

An engine runs SQL and moves Arrow tables; it knows nothing about tags or customers. Definitions are
written once in the canonical dialect (DuckDB SQL) or built as sqlglot trees, and every engine renders
them in its own dialect, so the same definition runs on a laptop and on a bank's Spark cluster.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, final

import pyarrow as pa
import sqlglot
from sqlglot import exp

from lingxi.errors import EngineError

CANONICAL_DIALECT = "duckdb"

Query = exp.Expression | str


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
    def run(self, query: Query, *, label: str) -> pa.Table:
        """Run a query and return its result as an Arrow table."""
        sql = self.render(query)
        try:
            return self._execute(sql)
        except EngineError:
            raise
        except Exception as e:  # the engine's own error types differ; keep the SQL with the message
            raise EngineError(f"{self.name} failed while running {label}:\n{sql}\n\n{e}") from e

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
    def _execute(self, sql: str) -> pa.Table: ...

    @abstractmethod
    def _register_parquet(self, name: str, paths: list[str]) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine's resources."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
