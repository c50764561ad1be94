"""Apache Spark engine: the same definitions on a bank's cluster (or `local[N]` in tests).

pyspark is an optional extra and is imported only when this engine is created, so `import lingxi`
works without it. A master URL starting with `sc://` connects through Spark Connect.

Every action runs under a job group `lingxi:<label>` (on Spark Connect, which has no SparkContext, under a
tag of the same name), so the Spark UI, the status tracker and cancellation see which Lingxi step ran it.
`write_snapshot` writes with DataFrameWriter: the executors write the Parquet files, the driver only
plans the job and reads the files' footers to count the rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from lingxi.engine.base import Engine, parquet_rows
from lingxi.errors import EngineError, MissingDependency

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

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

# Session settings every Lingxi session needs, whatever the master: Parquet timestamps as DuckDB and
# pyarrow write them (not Spark's legacy INT96).
SESSION_CONF: dict[str, str] = {
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}

JOB_GROUP_PREFIX = "lingxi:"


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


def job_group(label: str) -> str:
    """The job group (or tag) under which the engine runs the actions of `label`."""
    return JOB_GROUP_PREFIX + label


def _tag(label: str) -> str:
    """`job_group(label)` as a Spark Connect tag may be written (no commas, not empty)."""
    return re.sub(r"[,\s]+", "_", job_group(label))


class SparkEngine(Engine):
    """Runs canonical SQL rendered in sqlglot's Spark dialect on a SparkSession."""

    name: ClassVar[str] = "spark"
    dialect: ClassVar[str] = "spark"

    def __init__(self, session: SparkSession | None = None, *, master: str = "local[2]") -> None:
        self.session = session if session is not None else create_session(master)
        for key, value in SESSION_CONF.items():
            self.session.conf.set(key, value)
        try:
            self.context: Any = self.session.sparkContext
        except Exception:  # Spark Connect: no SparkContext in this process
            self.context = None

    @contextmanager
    def _labelled(self, label: str) -> Iterator[None]:
        """Run the enclosed actions under the job group `lingxi:<label>` (a tag on Spark Connect)."""
        if self.context is None:
            tag = _tag(label)
            self.session.addTag(tag)
            try:
                yield
            finally:
                self.session.removeTag(tag)
            return
        sc = self.context
        previous = (sc.getLocalProperty("spark.jobGroup.id"), sc.getLocalProperty("spark.job.description"))
        sc.setJobGroup(job_group(label), label)
        try:
            yield
        finally:
            sc.setLocalProperty("spark.jobGroup.id", previous[0])  # None removes it
            sc.setLocalProperty("spark.job.description", previous[1])

    def _frame(self, sql: str, params: list[Any]) -> DataFrame:
        return self.session.sql(sql, args=params or None)

    def _execute(self, sql: str, params: list[Any], label: str) -> pa.Table:
        with self._labelled(label):
            frame = self._frame(sql, params)
            if hasattr(frame, "toArrow"):
                table: pa.Table = frame.toArrow()
                return table
            return pa.Table.from_pandas(frame.toPandas(), preserve_index=False)  # Spark < 4

    def _stream(self, sql: str, params: list[Any], label: str, batch_rows: int) -> pa.RecordBatchReader:
        from pyspark.sql.pandas.types import to_arrow_schema
        from pyspark.sql.types import TimestampType

        with self._labelled(label):
            frame = self._frame(sql, params)
            schema = to_arrow_schema(frame.schema, timezone="UTC")
            local_time = {f.name for f in frame.schema.fields if isinstance(f.dataType, TimestampType)}
            rows = frame.toLocalIterator()  # one partition at a time: bounded by the largest partition

        def batches() -> Iterator[pa.RecordBatch]:
            done = False
            while not done:
                chunk: list[dict[str, Any]] = []
                with self._labelled(label):
                    for row in rows:
                        item = row.asDict(recursive=True)
                        for name in local_time:  # Row gives these in the process's local time, naive
                            if isinstance(item[name], datetime):
                                item[name] = item[name].astimezone(UTC)
                        chunk.append(item)
                        if len(chunk) >= batch_rows:
                            break
                    else:
                        done = True
                if chunk:
                    yield pa.RecordBatch.from_pylist(chunk, schema=schema)

        return pa.RecordBatchReader.from_batches(schema, batches())

    def _execute_statement(self, sql: str, params: list[Any], label: str) -> None:
        with self._labelled(label):
            self._frame(sql, params)  # commands (DDL, INSERT) run when the statement is submitted

    def _explain(self, sql: str, label: str) -> str:
        with self._labelled(label):
            rows = self.session.sql(f"EXPLAIN FORMATTED {sql}").collect()
        return "\n".join(str(row[0]) for row in rows)

    def _write_parquet(self, sql: str, folder: Path, partition_by: list[str], sort_by: list[str], label: str) -> int:
        with self._labelled(label):
            frame = self.session.sql(sql)
            if partition_by:  # one task per partition value, each file sorted within it
                frame = frame.repartition(*partition_by).sortWithinPartitions(*partition_by, *sort_by)
            elif sort_by:
                frame = frame.sortWithinPartitions(*sort_by)
            writer = frame.write.mode("append").option("compression", "zstd")
            if partition_by:
                writer = writer.partitionBy(*partition_by)
            writer.parquet(str(folder))
            try:
                written = self.session.read.parquet(str(folder)).count()  # footers only, read where Spark wrote
            except Exception:  # no data file at all: an empty result, on Spark versions that write none
                written = 0
        visible = parquet_rows(folder)
        if visible != written:  # a cluster wrote to a path this process does not share: publishing would lie
            raise EngineError(
                f"Spark wrote {written:,} rows for `{label}` into `{folder}`, but this process sees {visible:,} there",
                hint="the lake must be on storage both Spark and Lingxi see at the same path "
                "(a shared mount); see docs/operations/spark.md",
            )
        return written

    def _register_parquet(self, name: str, paths: list[str]) -> None:
        frame = self.session.read.option("mergeSchema", "true").parquet(*paths)
        frame.createOrReplaceTempView(name)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        try:
            frame = self.session.createDataFrame(table)
        except (TypeError, ValueError):  # Spark < 4 takes pandas, not Arrow
            frame = self.session.createDataFrame(table.to_pandas())
        frame.createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.session.catalog.dropTempView(name)

    def close(self) -> None:
        """Sessions are shared per process (getOrCreate); stopping is the owner's choice."""
