"""`lingxi status`: what is loaded, as of when, how many rows, how many quarantined."""

from __future__ import annotations

import typer
from rich.table import Table as RichTable
from sqlalchemy import select

from lingxi.cli.context import console, friendly_errors, open_lake, settings
from lingxi.schema import LOAD_ORDER
from lingxi.store.db import session_factory
from lingxi.store.tables import Load


def register(app: typer.Typer) -> None:
    app.command(name="status")(friendly_errors(status_command))


def status_command() -> None:
    """Show each dataset's published snapshot, the rows its published loads quarantined, and its latest load."""
    s = settings()
    with open_lake() as lake:
        snapshots = {snap.dataset: snap for snap in lake.snapshots()}
        stale = lake.stale()
        with session_factory(lake.store)() as session:
            loads = session.scalars(select(Load).order_by(Load.started_at)).all()
    latest: dict[str, Load] = {}
    quarantined: dict[str, int] = {}
    unpublished = 0  # rows quarantined by loads that published nothing (rejected, failed)
    for row in loads:
        latest[row.dataset] = row
        if row.status == "published":  # a rejected load published nothing: its rows are not part of the data
            quarantined[row.dataset] = quarantined.get(row.dataset, 0) + (row.rows_quarantined or 0)
        else:
            unpublished += row.rows_quarantined or 0
    table = RichTable(title=f"Lingxi data in {s.data_dir.resolve()}", title_justify="left")
    for name, justify in [
        ("dataset", "left"),
        ("version", "right"),
        ("as of", "left"),
        ("rows", "right"),
        ("quarantined", "right"),
        ("last load", "left"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    names = [n for n in LOAD_ORDER if n in snapshots or n in latest]
    names += sorted((set(snapshots) | set(latest)) - set(names))
    for name in names:
        snap = snapshots.get(name)
        last = latest.get(name)
        table.add_row(
            name,
            str(snap.version) if snap else "-",
            str(snap.as_of) if snap and snap.as_of else "-",
            f"{snap.row_count:,}" if snap else "-",
            f"{quarantined.get(name, 0):,}",
            f"{last.status} {last.started_at:%m-%d %H:%M}" if last else "-",
        )
    if not names:
        console.print(
            "nothing loaded yet: `lingxi load TABLE PATH` (tables in load order: " + ", ".join(LOAD_ORDER) + ")"
        )
        return
    console.print(table)
    if unpublished:
        note = "more rows were quarantined by loads that published nothing"
        console.print(f"{unpublished:,} {note}: `lingxi quarantine list`")
    for name, (reason, since) in sorted(stale.items()):
        when = f"{since:%Y-%m-%d %H:%M} UTC"
        console.print(f"[yellow]stale[/] `{name}` since {when}: {reason}; the next `lingxi pipeline run` renews it")
