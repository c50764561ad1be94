"""`lingxi load TABLE PATH`: validate a bank extract against the contract and publish it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table as RichTable

from lingxi.cli.context import console, err_console, friendly_errors, keyring, open_lake, operator, settings
from lingxi.errors import ConfigError, DataQualityError
from lingxi.ingest.checks import REASONS
from lingxi.ingest.layout import fill_template, parse_delimiter
from lingxi.ingest.load import LoadOptions, LoadReport, business_today, load, loader_engine
from lingxi.ingest.mapping import Mapping, read_mapping
from lingxi.ingest.replace import Period
from lingxi.schema import TABLES

#: How to correct data already loaded, for the messages of a refused or unchanged re-load.
CORRECTING = (
    "reload a corrected day or month of an append table with `lingxi load TABLE FILE --replace 2026-11-03` "
    "(or `--replace 2026-11`), or undo a load with `lingxi rollback TABLE` (see docs/loading.md#corrections)"
)


def register(app: typer.Typer) -> None:
    app.command(name="load")(friendly_errors(load_command))


def load_command(
    table: Annotated[str, typer.Argument(help=f"Contract table: {', '.join(TABLES)}.")],
    path: Annotated[Path, typer.Argument(help="A CSV, fixed-width or Parquet file, or a folder of them.")],
    mapping: Annotated[
        Path | None, typer.Option("--mapping", "-m", help="YAML file mapping the bank's column names and codes.")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="CSV encoding: auto (default), utf-8 or gb18030.")] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="CSV field separator (`|`, `;`, `0x1e`, `tab`); detected when unset.")
    ] = None,
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="csv, fixed or parquet; needed for an extension other than .csv .txt .tsv .del .parquet "
            "(e.g. .asc, .dat) unless the mapping's `file.format` says it.",
        ),
    ] = None,
    max_bad: Annotated[
        float | None,
        typer.Option("--max-bad", min=0.0, max=1.0, help="Largest quarantined share that still publishes (0.01 = 1%)."),
    ] = None,
    as_of: Annotated[
        datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Business date of the extract.")
    ] = None,
    check_references: Annotated[
        bool, typer.Option("--check-references/--no-check-references", help="Check keys point at loaded rows.")
    ] = True,
    replace: Annotated[
        str | None,
        typer.Option(
            "--replace",
            metavar="PERIOD",
            help="Replace this day (2026-11-03) or month (2026-11) of an append table by the file's rows.",
        ),
    ] = None,
) -> None:
    """Load a bank extract into the lake: good rows are published, bad rows quarantined with reasons."""
    s = settings()
    if encoding not in (None, "auto", "utf-8", "gb18030"):
        raise ConfigError(f"--encoding {encoding} is not one Lingxi reads", hint="use auto, utf-8 or gb18030")
    if file_format not in (None, "csv", "fixed", "parquet"):
        raise ConfigError(f"--format {file_format} is not one Lingxi reads", hint="use csv, fixed or parquet")
    try:
        delimiter = parse_delimiter(delimiter)
    except ValueError as e:
        raise ConfigError(f"--delimiter: {e}", hint="e.g. --delimiter '|' or --delimiter 0x1e") from None
    options = LoadOptions(
        table=table,
        path=path,
        mapping=read_mapping(mapping) if mapping else Mapping(),
        encoding=encoding,
        delimiter=delimiter,
        format=file_format,
        max_bad=s.max_bad_share if max_bad is None else max_bad,
        as_of=as_of.date() if as_of else business_today(),
        chunk_rows=s.load_chunk_rows,
        future_tolerance=timedelta(hours=s.load_future_tolerance_hours),
        check_references=check_references,
        hash_key=keyring().hash,
        mapping_path=mapping,
        replace=Period.parse(replace) if replace else None,
        actor=operator(),
    )
    if s.engine != "duckdb":
        err_console.print(f"note: the loader runs on DuckDB (LINGXI_ENGINE={s.engine} is for analytic work)")
    control = options.mapping.control
    if control is not None and control.done_flag is not None and control.wait_seconds:
        flag = path.parent / fill_template(control.done_flag, name=path.name, stem=path.stem)
        if not flag.exists():
            err_console.print(f"waiting up to {control.wait_seconds:g} s for the done flag `{flag}`")
    with open_lake() as lake:
        engine = loader_engine(
            memory_limit=s.duckdb_memory_limit, threads=s.duckdb_threads, temp_directory=s.data_dir / "tmp"
        )
        try:
            with Progress(
                TextColumn(f"loading [bold]{table}[/]"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            ) as progress:
                task = progress.add_task("load", total=None)
                report = load(
                    lake,
                    engine,
                    options,
                    on_progress=lambda done, total: progress.update(task, completed=done, total=total),
                )
        finally:
            engine.close()
    print_report(report)
    if not report.ok:
        hint = f"read the rows with `lingxi quarantine show {report.table} --load {report.load_id}`, fix the "
        hint += "extract or the mapping and load it again (or raise --max-bad if this share is acceptable)"
        if any(reason.endswith("key_already_loaded") for reason in report.reasons):
            hint = f"these rows are already loaded: {CORRECTING}; otherwise {hint}"
        raise DataQualityError(
            f"{report.bad_share:.1%} of the rows of `{path}` were quarantined, "
            f"more than --max-bad {report.max_bad:.1%}; nothing was published",
            hint=hint,
        )


def print_report(report: LoadReport) -> None:
    if report.status == "unchanged":
        console.print(
            f"[green]unchanged[/] `{report.table}`: this input was already loaded (load {report.previous_load}); "
            f"snapshot version {report.version} stays as it is"
        )
        console.print(f"  to correct loaded data: {CORRECTING}")
        return
    summary = RichTable(title=f"load {report.load_id}: {report.table} ← {report.source}", title_justify="left")
    summary.add_column("rows")
    summary.add_column("count", justify="right")
    summary.add_column("share", justify="right")
    summary.add_row("in", f"{report.rows_in:,}", "100%")
    summary.add_row("valid", f"{report.rows_valid:,}", f"{1 - report.bad_share:.2%}")
    summary.add_row("quarantined", f"{report.rows_quarantined:,}", f"{report.bad_share:.2%}")
    console.print(summary)
    if report.reasons:
        reasons = RichTable(title="quarantined rows by reason (a row can have several)", title_justify="left")
        reasons.add_column("field")
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        reasons.add_column("most frequent values (personal ones masked)")
        reasons.add_column("meaning")
        for key, count in report.reasons.items():
            fld, code = key.split(": ", 1)
            top = ", ".join(f"{value} ×{rows:,}" for value, rows in report.top_values.get(key, []))
            reasons.add_row(fld, code, f"{count:,}", escape(top), REASONS.get(code, ""))
        console.print(reasons)
        console.print(f"quarantine: {report.quarantine_path}")
    for column, codes in report.fallbacks.items():
        shown = ", ".join(f"{code} ×{rows:,}" for code, rows in list(codes.items())[:5])
        more = f", {len(codes) - 5} more" if len(codes) > 5 else ""
        console.print(f"[yellow]{column}: fallback ×{sum(codes.values()):,}[/] (unknown codes: {shown}{more})")
        console.print(f"rows and mapping lines: `lingxi quarantine show {report.table} --load {report.load_id}`")
    if report.rows_erased:
        console.print(
            f"[yellow]left out[/] {report.rows_erased:,} rows of customers erased on request (not kept anywhere)"
        )
    if report.ignored_columns:
        console.print(f"[yellow]ignored columns[/] (not in the contract): {', '.join(report.ignored_columns)}")
    if report.status == "published":
        console.print(
            f"[green]published[/] `{report.table}` version {report.version} "
            f"({report.rows_valid:,} rows in {report.seconds:.1f} s)"
        )
    elif report.status == "empty":
        console.print(f"[yellow]nothing published[/] `{report.table}`: no valid row; the snapshot is unchanged")
    else:
        console.print(f"[red]rejected[/] `{report.table}`: the published snapshot is unchanged")
