"""`lingxi pipeline run`: every stage of the daily pipeline, in order, with its time."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from lingxi.cli.context import console, friendly_errors, keyring, open_lake, settings
from lingxi.engine import engine_from
from lingxi.ingest.load import loader_engine
from lingxi.pipeline import StageContext, StageResult, declared_stages, run_pipeline

pipeline_app = typer.Typer(help="The daily pipeline.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(pipeline_app, name="pipeline")


@pipeline_app.command("run")
@friendly_errors
def run_command(
    extracts: Annotated[
        Path | None, typer.Option(help="Folder with one CSV/Parquet file or folder per contract table.")
    ] = None,
    only: Annotated[list[str] | None, typer.Option(help="Run only this stage (repeatable).")] = None,
    as_of: Annotated[datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Business date.")] = None,
) -> None:
    """Run every pipeline stage in order; prints each stage's time.

    Analytic stages run on the engine LINGXI_ENGINE names (DuckDB or Spark); loading always runs on DuckDB.
    """
    s = settings()
    with open_lake() as lake, engine_from(s) as engine:
        loader = loader_engine(
            memory_limit=s.duckdb_memory_limit, threads=s.duckdb_threads, temp_directory=s.data_dir / "tmp"
        )
        ctx = StageContext(
            lake=lake,
            engine=engine,
            loader=loader,
            extracts=extracts,
            as_of=as_of.date() if as_of else date.today(),
            max_bad=s.max_bad_share,
            hash_key=keyring().hash,
            chunk_rows=s.load_chunk_rows,
            compact_min_files=s.compact_min_files,
            version_retention_days=s.version_retention_days,
            future_tolerance_hours=s.load_future_tolerance_hours,
        )
        started = time.perf_counter()
        console.print(f"analytic engine: {engine.name}" + ("" if engine.name == "duckdb" else "; loading on duckdb"))

        def show(result: StageResult) -> None:
            console.print(f"[green]✓[/] {result.name:<10} {result.seconds:6.1f} s  {result.summary}")

        try:
            results = run_pipeline(ctx, only=only, on_stage=show)
        finally:
            loader.close()
    table = RichTable(title="pipeline", title_justify="left")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    for r in results:
        table.add_row(r.name, f"{r.seconds:.1f}")
    table.add_row("total", f"{time.perf_counter() - started:.1f}")
    console.print(table)


@pipeline_app.command("stages")
@friendly_errors
def stages_command() -> None:
    """List the stages in the order they run."""
    for i, stage in enumerate(declared_stages(), start=1):
        console.print(f"{i}. [bold]{stage.name}[/]: {stage.description}")
