"""Compaction: each partition of an append dataset merged into one file sorted by customer and time.

Every daily load adds a folder with a file per partition it touches, so after a quarter of daily files a
month of transactions is 30 files, each sorted by customer on its own. One customer's rows (the 360) are
then in 30 places: DuckDB opens every footer and reads a row group of each. Compaction merges the files
of each partition into one run sorted by the table's sort columns then its time column, so a customer's
rows sit in one or two row groups of one file per partition (benchmarks/appends.py, docs/performance.md).

It publishes the merged files as a new version in one pointer update (readers switch at once), under the
dataset's writer lock (a load waits, and a load that did not take the lock makes the publish refuse: it
was computed from an older version). Row counts are checked: rows out + rows of erased customers left
out = rows in, or nothing is published. Partitions with fewer than `min_files` files are hard-linked as
they are. The folders merged stay on disk for the retention period (lingxi.store.retention) and are
recorded as carried by the new folder, so an extract loaded before compaction is still known as loaded.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlglot import exp

from lingxi.auth import audit
from lingxi.auth.audit import Who
from lingxi.capability import StageContext
from lingxi.engine.sql import asc
from lingxi.errors import InputError, StoreError
from lingxi.ingest.checks import quoted, read_parquet
from lingxi.ingest.load import LoaderEngine
from lingxi.ingest.parts import ROW_GROUP_ROWS, conform, lake_file_writer
from lingxi.ingest.replace import period_column
from lingxi.keys import HashKey
from lingxi.privacy.erased import ErasureRegistry, load_registry
from lingxi.schema.contract import TABLES, get_table
from lingxi.schema.types import Table
from lingxi.store.lake import Lake, link_or_copy
from lingxi.store.retention import PruneReport, prune

NOTE = "compaction"
#: The audit action of pruning expired versions (declared by the ingest capability).
PRUNE_ACTION = "lake_prune"


@dataclass
class CompactionReport:
    """What one compaction of a dataset did."""

    dataset: str
    version: int | None = None  # None: nothing to merge
    partitions_merged: int = 0
    files_in: int = 0
    files_out: int = 0
    rows: int = 0
    rows_erased: int = 0  # rows of erased customers left out (an erasure normally removed them already)
    seconds: float = 0.0
    groups: dict[str, int] = field(default_factory=dict)  # partition folder -> files merged


def sort_columns(table: Table) -> tuple[str, ...]:
    """The order of a compacted file: the table's sort columns, then its time column."""
    time_column = period_column(table)
    return tuple(table.sort_by) + (() if time_column in table.sort_by else (time_column,))


def compactable() -> list[str]:
    """The contract tables loaded by appending, whose folders compaction merges."""
    return [t.name for t in TABLES.values() if t.mode == "append"]


def compact(
    lake: Lake,
    engine: LoaderEngine,
    dataset: str,
    *,
    hash_key: HashKey,
    min_files: int = 2,
    wait: float = 30.0,
) -> CompactionReport:
    """Merge each partition of `dataset` with at least `min_files` files into one sorted file; publish."""
    table = get_table(dataset)
    if table.mode != "append":
        raise InputError(
            f"`{dataset}` is replaced whole by each load, so it has one folder per version: nothing to compact",
            hint=f"compaction is for tables loaded by appending: {', '.join(compactable())}",
        )
    started = time.perf_counter()
    report = CompactionReport(dataset)
    with lake.writing(dataset, NOTE, wait=wait):
        snap = lake.snapshot(dataset)
        if snap is None:
            return report
        groups: dict[str, list[Path]] = {}
        for part in snap.paths:
            for path in sorted(part.rglob("*.parquet")):
                groups.setdefault(path.parent.relative_to(part).as_posix(), []).append(path)
        if not any(len(files) >= min_files for files in groups.values()):
            return report
        erased = load_registry(lake.store, hash_key)
        folder = lake.new_folder(dataset)
        try:
            rows_in = 0
            for relative, files in sorted(groups.items()):
                target = folder / relative
                target.mkdir(parents=True, exist_ok=True)
                rows_in += sum(pq.read_metadata(f).num_rows for f in files)
                if len(files) < min_files:
                    for i, path in enumerate(files):
                        link_or_copy(path, target / f"p{i:04d}-{path.name}")
                        report.rows += pq.read_metadata(path).num_rows
                    report.files_out += len(files)
                    continue
                written, left_out = merge_files(engine, table, files, target / "part-00000.parquet", erased)
                report.rows += written
                report.rows_erased += left_out
                report.partitions_merged += 1
                report.files_in += len(files)
                report.files_out += 1
                report.groups[relative] = len(files)
            if report.rows + report.rows_erased != rows_in or rows_in != snap.row_count:
                raise StoreError(
                    f"compaction of `{dataset}` would change its rows: {rows_in:,} in the files "
                    f"({snap.row_count:,} recorded), {report.rows:,} written, {report.rows_erased:,} erased",
                    hint="nothing was published; report this with the dataset's `lingxi lake versions` listing",
                )
            report.version = lake.publish(
                dataset,
                folder,
                mode="replace",
                row_count=report.rows,
                contract_version=snap.contract_version,
                as_of=snap.as_of,
                note=NOTE,
                carries=[lake.relative(p) for p in snap.paths],
                expected_version=snap.version,
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    report.seconds = time.perf_counter() - started
    return report


def merge_files(
    engine: LoaderEngine, table: Table, files: list[Path], target: Path, erased: ErasureRegistry
) -> tuple[int, int]:
    """Write `files` as one file at `target`, sorted; returns (rows written, erased rows left out).

    DuckDB sorts (spilling to disk past its memory limit) and streams the result; pyarrow writes it with
    the lake's file settings, row group by row group, so memory stays bounded whatever the partition's size.
    """
    order = sort_columns(table)
    scan = read_parquet([str(f) for f in files], hive_partitioning=False, union_by_name=True)
    query = exp.select(*(quoted(c) for c in table.column_names)).from_(scan).order_by(*(asc(quoted(c)) for c in order))
    schema = table.arrow_schema()
    written = left_out = 0
    reader = engine.stream(query, label=f"compaction of {table.name}", batch_rows=ROW_GROUP_ROWS)
    writer = lake_file_writer(table, target, schema, sort_by=order)
    pending: list[pa.Table] = []

    def flush(*, last: bool) -> None:
        """Write the pending rows as whole row groups (all of them when `last`), keeping the rest pending."""
        rows = pa.concat_tables(pending)
        whole = rows.num_rows if last else rows.num_rows // ROW_GROUP_ROWS * ROW_GROUP_ROWS
        writer.write_table(rows.slice(0, whole).cast(writer.schema), row_group_size=ROW_GROUP_ROWS)
        pending[:] = [rows.slice(whole)] if whole < rows.num_rows else []

    try:
        for batch in reader:
            rows = conform(schema, pa.Table.from_batches([batch]))
            mask = erased.erased_rows(rows)
            if mask is not None:
                left_out += int(pc.sum(mask).as_py() or 0)
                rows = rows.filter(pc.invert(mask))
            pending.append(rows)
            written += rows.num_rows
            if sum(t.num_rows for t in pending) >= ROW_GROUP_ROWS:  # whole row groups, not one per batch
                flush(last=False)
        if pending:
            flush(last=True)
        writer.add_key_value_metadata(schema.metadata)
    finally:
        writer.close()
    return written, left_out


def compact_lake(
    lake: Lake, engine: LoaderEngine, *, hash_key: HashKey, min_files: int, datasets: list[str] | None = None
) -> list[CompactionReport]:
    """Compact every published append dataset (or those named); datasets with nothing to merge are reported too."""
    names = datasets if datasets is not None else [n for n in compactable() if lake.snapshot(n) is not None]
    return [compact(lake, engine, name, hash_key=hash_key, min_files=min_files) for name in names]


def prune_lake(lake: Lake, *, keep_days: float, actor: Who) -> PruneReport:
    """Remove folders only versions past the retention period need (lingxi.store.retention), audited."""
    report = prune(lake, keep_days=keep_days)
    if report.removed:
        detail = ", ".join(f"{name}: {n} folders" for name, n in sorted(report.folders.items()))
        audit.record(
            lake.store,
            PRUNE_ACTION,
            actor,
            target="lake",
            reason=f"retention: versions superseded before {report.cutoff:%Y-%m-%d %H:%M} UTC",
            detail=detail or f"{sum(report.orphans.values())} unpublished folders",
        )
    return report


def compact_stage(ctx: StageContext) -> str:
    """The pipeline stage: compact append datasets whose partitions reached the threshold, then prune."""
    if not isinstance(ctx.loader, LoaderEngine):
        raise InputError("compaction runs on DuckDB", hint="build the context with lingxi.ingest.load.loader_engine")
    done = [
        r
        for r in compact_lake(ctx.lake, ctx.loader, hash_key=ctx.hash_key, min_files=ctx.compact_min_files)
        if r.version is not None
    ]
    pruned = prune_lake(ctx.lake, keep_days=ctx.version_retention_days, actor=Who("pipeline"))
    parts = [f"{r.dataset} {r.files_in:,} files -> {r.files_out:,} (version {r.version})" for r in done]
    summary = "; ".join(parts) or "nothing to compact"
    return summary + (f"; pruned {pruned.removed} folders of expired versions" if pruned.removed else "")
