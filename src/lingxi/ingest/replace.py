"""`lingxi load TABLE PATH --replace 2026-11-03`: reload one day (or month) of an append table.

A wrong daily file cannot be fixed by loading the right one: its keys are already loaded. A replacement
is one rewrite, whatever the partitioning: the published rows are copied into a new *base* folder without
the rows of the period (a file none of whose rows falls in the period, by its Parquet statistics, is
hard-linked, not read), the file is loaded against that base as usual (checks, quarantine, keys new to the
base), and the base and the loaded folder are published together as one new version. Readers see the
dataset before or after, never without the period. Every row of the file must fall in the period:
otherwise the load is refused, naming how many do not, and nothing is published.

The period is the table's time column: the partition's source (`ts` of transactions, `snapshot_date` of
holdings), else its first required date or time column. Days and months are [start, end) in bank local
time, as the column holds it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlglot import exp

from lingxi import registry
from lingxi.auth import audit
from lingxi.auth.audit import Who
from lingxi.engine import Engine
from lingxi.engine.sql import col, lit
from lingxi.engine.sql import table as sql_table
from lingxi.errors import InputError
from lingxi.ingest.parts import ROW_GROUP_ROWS
from lingxi.schema.types import Table
from lingxi.store.lake import Lake, link_or_copy

#: The audit action of a period replacement (declared by the ingest capability).
REPLACE_ACTION = "lake_replace"
_PERIOD = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


@dataclass(frozen=True)
class Period:
    """A day or a month: rows with `start <= value < end`."""

    text: str
    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> Period:
        """`2026-11-03` (a day) or `2026-11` (a month); anything else is an InputError naming `--replace`."""
        match = _PERIOD.match(text.strip())
        try:
            if match is None:
                raise ValueError(text)
            year, month, day = int(match[1]), int(match[2]), match[3]
            if day is not None:
                start = date(year, month, int(day))
                return cls(start.isoformat(), start, date.fromordinal(start.toordinal() + 1))
            start = date(year, month, 1)
            end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
            return cls(f"{year:04d}-{month:02d}", start, end)
        except ValueError:
            raise InputError(
                f"--replace `{text}` is not a day or a month",
                hint="give a day as 2026-11-03 or a month as 2026-11",
            ) from None


def period_column(table: Table) -> str:
    """The column a period of `table` is a range of; InputError for tables a period cannot apply to."""
    if table.mode != "append":
        raise InputError(
            f"--replace is for tables loaded by appending (transactions, events, holdings...); "
            f"`{table.name}` is replaced whole by each load",
            hint=f"load the corrected `{table.name}` file without --replace, or undo a load with `lingxi rollback`",
        )
    if table.partition is not None:
        return table.partition.source
    for c in table.columns:
        if c.required and c.type in ("date", "timestamp"):
            return c.name
    raise InputError(f"`{table.name}` has no date or time column a period could select", hint="see docs/loading.md")


@dataclass
class Replacement:
    """One period replacement while its load runs: the base folder, and the rows of the file outside the period."""

    lake: Lake
    table: Table
    period: Period
    actor: str = "loader"
    column: str = ""
    base: Path | None = None
    base_version: int = 0
    base_rows: int = 0
    removed: int = 0  # published rows of the period left out of the base
    carries: list[str] = field(default_factory=list)
    outside: int = 0
    outside_example: Any = None
    published: bool = False

    def __post_init__(self) -> None:
        self.column = period_column(self.table)

    def start(self) -> list[str]:
        """Write the base (the published rows without the period); returns its Parquet globs for the key checks."""
        snap = self.lake.snapshot(self.table.name)
        if snap is None:
            return []
        self.base_version = snap.version
        self.base = self.lake.new_folder(self.table.name)
        for i, part in enumerate(snap.paths):
            kept_any = False
            for path in sorted(part.rglob("*.parquet")):
                target = self.base / path.parent.relative_to(part) / f"p{i:04d}-{path.name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                kept, removed = self._copy_without_period(path, target)
                self.base_rows += kept
                self.removed += removed
                kept_any = kept_any or kept > 0
            if kept_any:
                self.carries.append(self.lake.relative(part))
        if not self.base_rows:  # every published row was in the period: the file's rows are all there will be
            shutil.rmtree(self.base)
            self.base = None
            return []
        return [str(self.base / "**" / "*.parquet")]

    def _copy_without_period(self, source: Path, target: Path) -> tuple[int, int]:
        """Copy `source` to `target` without the period's rows; returns (rows kept, rows removed)."""
        meta = pq.read_metadata(source)
        if not self._may_hold_period(meta):
            link_or_copy(source, target)
            return meta.num_rows, 0
        kept = removed = 0
        handle = pq.ParquetFile(source)
        writer: pq.ParquetWriter | None = None
        pending: list[pa.RecordBatch] = []
        try:
            for batch in handle.iter_batches(batch_size=ROW_GROUP_ROWS):
                values = batch.column(self.column)
                inside = pc.and_(
                    pc.greater_equal(values, self._bound(self.period.start, values.type)),
                    pc.less(values, self._bound(self.period.end, values.type)),
                )
                keep = pc.invert(pc.fill_null(inside, False))
                rows = batch.filter(keep)
                kept, removed = kept + rows.num_rows, removed + batch.num_rows - rows.num_rows
                if rows.num_rows:
                    pending.append(rows)
                if sum(b.num_rows for b in pending) >= ROW_GROUP_ROWS:
                    writer = writer or pq.ParquetWriter(target, handle.schema_arrow, compression="zstd")
                    writer.write_table(pa.Table.from_batches(pending), row_group_size=ROW_GROUP_ROWS)
                    pending = []
            if pending:
                writer = writer or pq.ParquetWriter(target, handle.schema_arrow, compression="zstd")
                writer.write_table(pa.Table.from_batches(pending), row_group_size=ROW_GROUP_ROWS)
        finally:
            if writer is not None:
                writer.close()
        return kept, removed

    def _may_hold_period(self, meta: pq.FileMetaData) -> bool:
        """False only when every row group's statistics put the period column outside the period."""
        names = [meta.schema.column(i).name for i in range(meta.num_columns)]
        if self.column not in names:
            return False
        index = names.index(self.column)
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(index).statistics
            if stats is None or not stats.has_min_max:
                return True
            low, high = _as_date(stats.min), _as_date(stats.max)
            if low is None or high is None or (low < self.period.end and high >= self.period.start):
                return True
        return False

    @staticmethod
    def _bound(day: date, arrow_type: pa.DataType) -> pa.Scalar:
        if pa.types.is_timestamp(arrow_type):
            return pa.scalar(datetime(day.year, day.month, day.day), arrow_type)
        return pa.scalar(day, arrow_type)

    def count_outside(self, engine: Engine, typed: str = "lx_typed") -> None:
        """Count the rows of the checked chunk in `typed` whose period column falls outside the period."""
        value = col(self.column)
        kind = exp.DataType.Type.TIMESTAMP if self.table.column(self.column).type == "timestamp" else None
        start, end = lit(self.period.start.isoformat()), lit(self.period.end.isoformat())
        if kind is not None:
            start, end = exp.cast(start, kind), exp.cast(end, kind)
        else:
            start, end = exp.cast(start, exp.DataType.Type.DATE), exp.cast(end, exp.DataType.Type.DATE)
        outside = exp.and_(value.is_(exp.null()).not_(), exp.or_(value < start, value >= end))
        query = (
            exp.select(exp.Count(this=exp.Star()).as_("n"), exp.Min(this=value.copy()).as_("example"))
            .from_(sql_table(typed))
            .where(outside)
        )
        found = engine.run(query, label="rows outside the replaced period").to_pylist()[0]
        if found["n"]:
            self.outside += int(found["n"])
            self.outside_example = self.outside_example or found["example"]

    def check(self) -> None:
        """Refuse the replacement when some rows of the file fall outside the period."""
        if self.outside:
            raise InputError(
                f"--replace {self.period.text}: {self.outside:,} rows of the file have `{self.column}` outside "
                f"{self.period.text} (e.g. {self.outside_example}); nothing was published",
                hint="give the period the file holds, or split the file (every row must fall in the period)",
            )

    def publish(self, folder: Path, *, rows: int, contract_version: int, as_of: date, load_id: str) -> int:
        """Publish the base and the loaded folder as one version; mark what is computed from the table stale."""
        note = f"replace {self.period.text}"
        version = self.lake.publish(
            self.table.name,
            [folder] if self.base is None else [self.base, folder],  # the base first: `carries` describes it
            mode="replace",
            row_count=self.base_rows + rows,
            contract_version=contract_version,
            as_of=as_of,
            load_id=load_id,
            note=note,
            carries=self.carries,
            expected_version=self.base_version or None,
        )
        self.published = True
        stale = self.lake.mark_stale(
            registry.downstream([self.table.name]), f"{self.table.name}: {note} (version {version})"
        )
        audit.record(
            self.lake.store,
            REPLACE_ACTION,
            Who(self.actor),
            target=f"dataset:{self.table.name}",
            reason="period replaced by a corrected extract",
            detail=f"{note}: version {self.base_version} -> {version}, {self.removed} rows out, {rows} rows in; "
            f"load {load_id}; stale: {', '.join(stale) or 'none'}",
        )
        return version

    def discard(self) -> None:
        """Remove the base unless it was published (a refused or failed replacement)."""
        if self.base is not None and not self.published:
            shutil.rmtree(self.base, ignore_errors=True)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None
