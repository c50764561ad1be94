"""`lingxi sim`: write the synthetic bank as Parquet, with a progress bar and a summary table.

A thin wrapper over `lingxi.sim.generate`; errors are LingxiError subclasses that main.py prints.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from lingxi.cli.context import friendly_errors, keyring
from lingxi.errors import ConfigError
from lingxi.sim import SimConfig, generate
from lingxi.sim.generate import Progress as SimProgress


def _parse_date(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(
            f"--start-date `{value}` is not a date", hint="write it as YYYY-MM-DD, e.g. 2025-01-01"
        ) from None


def sim(
    out: Annotated[Path, typer.Option("--out", help="Folder to write OUT/<table>/part-NNNNN.parquet into.")],
    customers: Annotated[int, typer.Option("--customers", help="Number of customers.")] = 20_000,
    days: Annotated[int, typer.Option("--days", help="Days of transactions and events.")] = 90,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same bytes.")] = 0,
    start_date: Annotated[str, typer.Option("--start-date", help="First day of the window (YYYY-MM-DD).")] = (
        "2025-01-01"
    ),
    chunk_customers: Annotated[
        int,
        typer.Option("--chunk-customers", help="Customers per chunk (bounds memory; the unit of resume)."),
    ] = 50_000,
    hash_key: Annotated[
        str | None,
        typer.Option(
            "--hash-key",
            envvar="LINGXI_HASH_KEY",
            help="HMAC key for ID-number and phone hashes; default: the data directory's active hash key.",
        ),
    ] = None,
) -> None:
    """Generate a synthetic bank (contract tables plus ground truth) as Parquet; resumes if interrupted."""
    config = SimConfig(
        customers=customers,
        days=days,
        seed=seed,
        start=_parse_date(start_date),
        chunk_customers=chunk_customers,
        hash_key=hash_key or keyring().hash_key,
    )
    config.check()
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]sim[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("customers"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("sim", total=customers)

        def report(update: SimProgress) -> None:
            bar.update(task, completed=update.customers_done)

        summary = generate(out, config, progress=report)
    table = Table(title=f"Synthetic bank in {out}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    rate = customers / summary.seconds if summary.seconds > 0 else float("inf")
    table.caption = (
        f"{summary.chunks} chunks ({summary.skipped_chunks} already there) in {summary.seconds:.1f} s; "
        f"{rate:,.0f} customers/s"
    )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the `sim` command to the Lingxi CLI."""
    app.command("sim")(friendly_errors(sim))
