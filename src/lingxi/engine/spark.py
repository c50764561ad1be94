"""Apache Spark engine: the same definitions on a bank's cluster (or `local[N]` in tests).

pyspark is an optional extra and is imported only when this engine is created, so `import lingxi`
works without it. A master URL starting with `sc://` connects through Spark Connect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from lingxi.engine.base import Engine
from lingxi.errors import MissingDependency

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Settings that make a small local session predictable and quick (as in Splink's test conftest).
LOCAL_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "2g",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
}


def _import_pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError as e:
        raise MissingDependency(
            "the Spark engine needs pyspark, which is not installed",
            hint="install it with `pip install 'lingxi[spark]'` (Java 17 must be on PATH)",
        ) from e
    return pyspark.sql


def create_session(master: str = "local[2]", conf: dict[str, str] | None = None) -> SparkSession:
    """A Spark session for `master`; `sc://...` uses Spark Connect."""
    sql = _import_pyspark()
    builder = sql.SparkSession.builder.appName("lingxi")
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    settings = dict(LOCAL_CONF if master.startswith("local") else {})
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    session: SparkSession = builder.getOrCreate()
    return session


class SparkEngine(Engine):
    """Runs canonical SQL rendered in sqlglot's Spark dialect on a SparkSession."""

    name: ClassVar[str] = "spark"
    dialect: ClassVar[str] = "spark"

    def __init__(self, session: SparkSession | None = None, *, master: str = "local[2]") -> None:
        self.session = session if session is not None else create_session(master)

    def _execute(self, sql: str) -> pa.Table:
        frame = self.session.sql(sql)
        if hasattr(frame, "toArrow"):
            table: pa.Table = frame.toArrow()
            return table
        return pa.Table.from_pandas(frame.toPandas(), preserve_index=False)  # Spark < 4

    def _register_parquet(self, name: str, paths: list[str]) -> None:
        frame = self.session.read.option("mergeSchema", "true").parquet(*paths)
        frame.createOrReplaceTempView(name)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        try:
            frame = self.session.createDataFrame(table)
        except (TypeError, ValueError):  # Spark < 4 takes pandas, not Arrow
            frame = self.session.createDataFrame(table.to_pandas())
        frame.createOrReplaceTempView(name)

    def close(self) -> None:
        """Sessions are shared per process (getOrCreate); stopping is the owner's choice."""
