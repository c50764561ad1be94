"""The loader's pipeline stage: every contract table found in the extracts folder, in reference order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from lingxi.capability import StageContext
from lingxi.errors import DataQualityError, InputError
from lingxi.ingest.load import LoaderEngine, LoadOptions, load
from lingxi.ingest.readers import SUFFIXES
from lingxi.schema import LOAD_ORDER


def _extract_for(folder: Path, table: str) -> Path | None:
    """`<folder>/<table>/` or `<folder>/<table>.csv|.parquet`, whichever exists."""
    if (folder / table).is_dir():
        return folder / table
    for suffix in SUFFIXES:
        if (folder / f"{table}{suffix}").is_file():
            return folder / f"{table}{suffix}"
    return None


def load_extracts(ctx: StageContext) -> str:
    """Load every contract table found in the extracts folder, in reference order."""
    if ctx.extracts is None:
        return "no extracts folder given; skipped"
    if not ctx.extracts.is_dir():
        raise InputError(f"extracts folder `{ctx.extracts}` does not exist", hint="pass --extracts DIR")
    parts = []
    for table in LOAD_ORDER:
        path = _extract_for(ctx.extracts, table)
        if path is None:
            continue
        if not isinstance(ctx.loader, LoaderEngine):
            raise InputError(
                "the loader runs on DuckDB", hint="build the context with lingxi.ingest.load.loader_engine"
            )
        report = load(
            ctx.lake,
            ctx.loader,
            LoadOptions(
                table=table,
                path=path,
                max_bad=ctx.max_bad,
                as_of=ctx.as_of,
                chunk_rows=ctx.chunk_rows,
                hash_key=ctx.hash_key,
                future_tolerance=timedelta(hours=ctx.future_tolerance_hours),
            ),
        )
        ctx.loads.append(report)
        if not report.ok:
            raise DataQualityError(
                f"`{table}` was rejected: {report.bad_share:.1%} of its rows were quarantined",
                hint=f"see {report.quarantine_path}",
            )
        parts.append(f"{table} {report.rows_valid:,}" + (" (unchanged)" if report.status == "unchanged" else ""))
    if not parts:
        raise InputError(
            f"no contract tables in `{ctx.extracts}`",
            hint="expected folders or files named after the tables: " + ", ".join(LOAD_ORDER),
        )
    return "; ".join(parts)
