"""`lingxi rollback` and `lingxi lake versions|compact|prune`: the lake's versions, kept, merged and pruned."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table as RichTable

from lingxi.auth.audit import Who
from lingxi.cli.context import console, friendly_errors, keyring, open_lake, operator, settings
from lingxi.errors import NotFound
from lingxi.ingest.compact import compact_lake, compactable, prune_lake
from lingxi.ingest.load import loader_engine
from lingxi.ingest.rollback import rollback
from lingxi.store.lake import utcnow
from lingxi.store.retention import kept_versions

lake_app = typer.Typer(help="The lake's versions: list, compact, prune.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command(name="rollback")(friendly_errors(rollback_command))
    app.add_typer(lake_app, name="lake")


def rollback_command(
    table: Annotated[str, typer.Argument(help="Dataset to roll back (a contract table or a derived dataset).")],
    to: Annotated[
        int | None, typer.Option("--to", min=1, help="Version to show again (default: the one before the current).")
    ] = None,
) -> None:
    """Publish an earlier version of a dataset again, as a new version; erasures and corrections made since stay.

    Datasets computed from it are marked stale until the pipeline runs again. Audited.
    """
    with open_lake() as lake:
        report = rollback(lake, table, to=to, actor=Who(operator()), hash_key=keyring().hash)
    console.print(
        f"[green]rolled back[/] `{report.dataset}`: version {report.version} shows the data of version "
        f"{report.to_version} ({report.row_count:,} rows; was version {report.from_version})"
    )
    if report.rows_erased:
        console.print(f"  left out {report.rows_erased:,} rows of customers erased since")
    if report.corrections:
        console.print(f"  re-applied {report.corrections} corrections made since")
    if report.stale:
        console.print(f"  [yellow]stale[/] until the next `lingxi pipeline run`: {', '.join(report.stale)}")
    console.print(f"  undo: `lingxi rollback {report.dataset} --to {report.from_version}`")


@lake_app.command("versions")
@friendly_errors
def versions_command(table: Annotated[str, typer.Argument(help="Dataset.")]) -> None:
    """List a dataset's versions: when, rows, what published each, and whether it can still be rolled back to."""
    s = settings()
    with open_lake() as lake:
        versions = lake.versions(table)
        current = lake.snapshot(table)
        if not versions or current is None:
            raise NotFound(f"`{table}` has no published version", hint="`lingxi status` lists the datasets")
        kept, _ = kept_versions(lake, table, utcnow() - timedelta(days=s.version_retention_days))
        stale = lake.stale().get(table)
    out = RichTable(title=f"{table}: versions (kept {s.version_retention_days:g} days)", title_justify="left")
    for name, justify in [("version", "right"), ("published (UTC)", "left"), ("rows", "right"), ("by", "left")]:
        out.add_column(name, justify=justify)  # type: ignore[arg-type]
    out.add_column("rollback", justify="left")
    for v in reversed(versions):
        if v.version == current.version:
            state = "current"
        elif not all(p.is_dir() for p in v.paths):
            state = "pruned"
        else:
            state = "kept" if v.version in kept else "expired"
        by = v.note or (f"load {v.load_id}" if v.load_id else "-")
        out.add_row(str(v.version), f"{v.created_at:%Y-%m-%d %H:%M}", f"{v.row_count:,}", by, state)
    console.print(out)
    if stale:
        console.print(f"[yellow]stale[/] since {stale[1]:%Y-%m-%d %H:%M}: {stale[0]}")


@lake_app.command("compact")
@friendly_errors
def compact_command(
    table: Annotated[
        str | None, typer.Argument(help=f"Append table ({', '.join(compactable())}); all if omitted.")
    ] = None,
    min_files: Annotated[int, typer.Option("--min-files", min=2, help="Merge partitions with this many files.")] = 2,
) -> None:
    """Merge the per-load files of each partition into one file sorted by customer and time (a new version)."""
    s = settings()
    with open_lake() as lake:
        engine = loader_engine(
            memory_limit=s.duckdb_memory_limit, threads=s.duckdb_threads, temp_directory=s.data_dir / "tmp"
        )
        try:
            reports = compact_lake(
                lake, engine, hash_key=keyring().hash, min_files=min_files, datasets=[table] if table else None
            )
        finally:
            engine.close()
    for r in reports:
        if r.version is None:
            console.print(f"`{r.dataset}`: nothing to merge (no partition has {min_files} files)")
        else:
            console.print(
                f"[green]compacted[/] `{r.dataset}`: {r.partitions_merged} partitions, {r.files_in:,} files -> "
                f"{r.files_out:,}, {r.rows:,} rows, version {r.version} ({r.seconds:.1f} s)"
            )
    if not reports:
        console.print("nothing loaded by appending yet: nothing to compact")


@lake_app.command("prune")
@friendly_errors
def prune_command(
    days: Annotated[
        float | None, typer.Option("--days", min=0, help="Retention in days (default LINGXI_VERSION_RETENTION_DAYS).")
    ] = None,
) -> None:
    """Remove the folders only versions superseded longer ago than the retention period need. Audited."""
    s = settings()
    keep = s.version_retention_days if days is None else days
    with open_lake() as lake:
        report = prune_lake(lake, keep_days=keep, actor=Who(operator()))
    if not report.removed:
        console.print(f"nothing to prune: every folder is needed by a version of the last {keep:g} days")
        return
    for name, count in sorted(report.folders.items()):
        expired = report.versions_expired.get(name, [])
        gone = f"versions {_span(expired)} can no longer be rolled back to"
        console.print(f"[green]pruned[/] `{name}`: {count} folders ({gone})")
    for name, count in sorted(report.orphans.items()):
        console.print(f"[green]pruned[/] `{name}`: {count} folders of writes that never published")


def _span(versions: list[int]) -> str:
    return f"{versions[0]}–{versions[-1]}" if len(versions) > 1 else ", ".join(map(str, versions)) or "-"
