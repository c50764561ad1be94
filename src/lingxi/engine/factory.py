"""Pick and build an engine from a name, so callers never import an engine module directly."""

from __future__ import annotations

from pathlib import Path

from lingxi.engine.base import Engine
from lingxi.errors import ConfigError


def create_engine(
    name: str = "duckdb",
    *,
    spark_master: str = "local[2]",
    memory_limit: str | None = "2GB",
    threads: int | None = None,
    temp_directory: str | Path | None = None,
) -> Engine:
    """An engine by name: `duckdb` (embedded, default) or `spark`."""
    if name == "duckdb":
        from lingxi.engine.duckdb import DuckDBEngine

        return DuckDBEngine(memory_limit=memory_limit, threads=threads, temp_directory=temp_directory)
    if name == "spark":
        from lingxi.engine.spark import SparkEngine

        return SparkEngine(master=spark_master)
    raise ConfigError(f"unknown engine `{name}`", hint="use `duckdb` or `spark` (LINGXI_ENGINE)")
