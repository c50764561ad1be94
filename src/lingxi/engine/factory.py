"""Pick and build an engine from a name or from the settings, so callers never import an engine module."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, get_args

from lingxi.engine.base import Engine
from lingxi.errors import ConfigError

if TYPE_CHECKING:
    from lingxi.config import Settings


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
    raise ConfigError(f"unknown engine `{name}`", hint=f"use {' or '.join(engine_names())} (LINGXI_ENGINE)")


def engine_names() -> tuple[str, ...]:
    """The values `LINGXI_ENGINE` accepts."""
    from lingxi.config import EngineName

    return tuple(get_args(EngineName))


def engine_from(settings: Settings) -> Engine:
    """The analytic engine `settings` ask for (`LINGXI_ENGINE`): the one way commands and the app build it.

    DuckDB gets the memory limit, threads and the data directory's spill folder; Spark the master URL
    (`local[N]`, a cluster master, or Spark Connect `sc://host:port`).
    """
    return create_engine(
        settings.engine,
        spark_master=settings.spark_master,
        memory_limit=settings.duckdb_memory_limit,
        threads=settings.duckdb_threads,
        temp_directory=settings.data_dir / "tmp",
    )
