"""What a load is asked to do (`LoadOptions`) and what it did (`LoadReport`), and the bank's business day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from lingxi.ingest.mapping import Mapping
from lingxi.ingest.replace import Period
from lingxi.keys import HashKey


@dataclass
class LoadOptions:
    table: str
    path: Path
    mapping: Mapping = field(default_factory=Mapping)
    encoding: str | None = None
    delimiter: str | None = None
    format: str | None = None  # csv, parquet or fixed; else the mapping's, else the extension's
    max_bad: float = 0.01
    as_of: date | None = None
    chunk_rows: int = 1_000_000
    check_references: bool = True
    hash_key: HashKey = ""
    replace: Period | None = None  # reload this day or month of an append table (lingxi.ingest.replace)
    actor: str = "loader"  # who runs it, for the audit of a replacement
    future_tolerance: timedelta = timedelta(hours=24)  # how far after the as-of date's end a time may lie
    mapping_path: Path | None = None  # the file `mapping` was read from: its lines are kept beside the quarantine


#: The bank's business day: contract timestamps are Asia/Shanghai local time.
BANK_TIME = ZoneInfo("Asia/Shanghai")


def business_today() -> date:
    return datetime.now(BANK_TIME).date()


@dataclass
class LoadReport:
    """What one load did; `rows_in == rows_valid + rows_quarantined + rows_erased` always holds."""

    load_id: str
    table: str
    source: str
    status: str  # published, rejected, unchanged, empty (no valid row: nothing published)
    rows_in: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    rows_erased: int = 0  # rows of customers erased on request (or on their identifiers): dropped, counted
    reasons: dict[str, int] = field(default_factory=dict)  # "field: code" -> rows
    fallbacks: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> unknown code -> rows
    version: int | None = None
    quarantine_path: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    max_bad: float = 0.01
    seconds: float = 0.0
    previous_load: str | None = None
    # "field: code" -> its most frequent offending values and rows, personal values masked (ingest/review.py)
    top_values: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def bad_share(self) -> float:
        kept = self.rows_in - self.rows_erased
        return self.rows_quarantined / kept if kept else 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("published", "unchanged", "empty")
