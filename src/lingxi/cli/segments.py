"""`lingxi segments`: the AUM tier snapshot's SQL (no engine needed) and its customers per tier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from lingxi.cli.context import console, friendly_errors, open_lake, settings
from lingxi.engine import engine_from
from lingxi.engine.sql import DIALECTS, render
from lingxi.segments import DEFAULT_TIERS, compile_tier_snapshot
from lingxi.segments.service import TIER_DATASET, tier_counts
from lingxi.segments.spec import TierSpec, load_tier_spec

segments_app = typer.Typer(
    help="Segments: the AUM tiers (more arrives with the segments capability).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(segments_app, name="segments")


def _spec(path: Path | None) -> TierSpec:
    return DEFAULT_TIERS if path is None else load_tier_spec(path)


TiersOption = Annotated[
    Path | None,
    typer.Option("--tiers", help="A YAML file of tiers (`tiers: [{code, lower}, ...]`); default: built-in."),
]


@segments_app.command("compile")
@friendly_errors
def compile_command(
    dialect: Annotated[str, typer.Option(help=f"SQL dialect: {', '.join(DIALECTS)}.")] = "duckdb",
    tiers: TiersOption = None,
) -> None:
    """Print the tier snapshot's SQL in a dialect, checking a tier file if given; needs no engine or data."""
    console.print(render(compile_tier_snapshot(_spec(tiers)), dialect, pretty=True), highlight=False, soft_wrap=True)


@segments_app.command("tiers")
@friendly_errors
def tiers_command() -> None:
    """Customers per AUM tier in the published tier snapshot (written by `lingxi pipeline run`)."""
    with open_lake() as lake:
        snapshot = lake.snapshot(TIER_DATASET)
        if snapshot is None:
            console.print("no tier snapshot yet: run `lingxi pipeline run` (its `tiers` stage writes it)")
            return
        with engine_from(settings()) as engine:
            counts = tier_counts(lake, engine)
    console.print(f"AUM tiers: version {snapshot.version}, as of {snapshot.as_of or '-'}", highlight=False)
    table = RichTable()
    table.add_column("tier")
    table.add_column("customers", justify="right")
    for code, n in counts.items():
        table.add_row(code, f"{n:,}")
    table.add_row("total", f"{sum(counts.values()):,}")
    console.print(table)
