"""Corrections of a customer's data (PIPL art. 46): recorded, applied to the operational store, and
applied to the lake as an overlay in a new snapshot (see docs/privacy.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import insert, select, update

from lingxi.auth.audit import Who
from lingxi.errors import InputError, SpecError
from lingxi.keys import HashKey
from lingxi.privacy.dsr import (
    DSR_ACTION,
    HASHED_INPUTS,
    Receipt,
    _close_request,
    _now,
    _open_request,
    rewrite_dataset,
)
from lingxi.privacy.erased import load_registry
from lingxi.privacy.identifiers import NORMALISERS, keyed_hash
from lingxi.privacy.tables import (
    Correction,
    subject_ref,
)
from lingxi.schema.contract import TABLES
from lingxi.schema.types import Column
from lingxi.store.lake import Lake

#: The earliest date a correction may set; earlier ones are typos (year 1, 0001-01-01) rather than facts.
EARLIEST_DATE = date(1900, 1, 1)


def correct_customer(
    lake: Lake,
    customer_id: str,
    changes: Mapping[str, str | None],
    *,
    actor: Who,
    hash_key: HashKey,
    now: datetime | None = None,
    apply_now: bool = True,
) -> Receipt:
    """Record a correction of the customer's `customers` columns (R17) and apply it to the lake.

    `changes` maps contract column names to new values as text (None clears); only the columns the contract
    marks `correctable` are accepted (`correctable_fields`), anything else is refused with a `SpecError`
    naming the field. `phone` and `id_no` take the raw number, normalised and hashed into `phone_hash` /
    `id_no_hash` as the loader does. No
    operational table holds these fields today, so the lake is where the correction lands: as an
    overlay that `apply_corrections` writes into a new snapshot now (`apply_now`) and again after every
    later load until the bank's own extract carries the corrected value.
    """
    at = _now(now)
    table, problems, values = TABLES["customers"], [], {}
    allowed = correctable_fields()
    for name, value in changes.items():
        if name not in allowed:
            problems.append(f"`{name}`: not a field a customer may have corrected (correctable: {', '.join(allowed)})")
            continue
        column_name, normaliser = HASHED_INPUTS.get(name, (name, None))
        if normaliser is not None and value is not None:
            normalised = NORMALISERS[normaliser](value)
            if normalised is None:
                problems.append(f"`{name}`: not a valid value")
                continue
            value = keyed_hash(normalised, hash_key)
        column = table.column(column_name)
        if value is not None and column.allowed and value not in column.allowed:
            problems.append(f"`{name}`: must be one of {', '.join(column.allowed)}")
        elif value is not None and not _castable(value, column.arrow_type):
            problems.append(f"`{name}`: `{value}` is not a valid {column.type}")
        elif value is not None and column.type in ("date", "timestamp") and not _plausible(value, column, at):
            problems.append(f"`{name}`: `{value}` is out of range ({EARLIEST_DATE.isoformat()} to today)")
        values[column_name] = value
    if problems or not values:
        raise SpecError("correction", problems or ["no changes given"], hint="see docs/data-contract.md#customers")
    ref = subject_ref(customer_id, hash_key)
    if load_registry(lake.store, hash_key).erased_customers([customer_id]):
        raise InputError(
            f"customer `{customer_id}` was erased on request: there is nothing to correct",
            hint="an erasure is final; the tombstone is in `lx_erasure`",
        )
    request_id = _open_request(lake.store, "correction", ref, actor, at)
    with lake.store.begin() as conn:
        for column_name, value in values.items():
            conn.execute(
                insert(Correction).values(
                    request_id=request_id,
                    customer_id=customer_id,
                    dataset="customers",
                    column=column_name,
                    value=value,
                    status="pending",
                    created_at=at,
                )
            )
    applied = apply_corrections(lake, now=now) if apply_now else {}
    stores = {
        "lake": {"overlay": sorted(values), "applied_version": applied.get("customers")},
        "operational": {"rows_changed": 0, "note": "no operational table holds these fields"},
    }
    receipt = Receipt(request_id, "correction", ref, actor.actor, _now(now), stores)
    return _close_request(lake.store, receipt, action=DSR_ACTION, detail=f"fields {','.join(sorted(values))}")


def correctable_fields() -> list[str]:
    """What a correction may change: the `customers` columns the contract marks correctable, hashed ones by
    their raw input (`phone`, `id_no`). Scope (`branch_id`), risk level and assessment, keys, status and
    flags the bank decides are not among them."""
    hashed = {column: raw for raw, (column, _) in HASHED_INPUTS.items()}
    return [hashed.get(c, c) for c in TABLES["customers"].correctable]


def _plausible(value: str, column: Column, at: datetime) -> bool:
    """A corrected date is a fact of the customer's past (a birth date): from 1900 up to today, not year 1 or 9999."""
    cast = pa.array([value], pa.string()).cast(column.arrow_type)[0]
    try:
        when = cast.as_py()
    except (ValueError, OverflowError):  # before year 1 or after 9999: no Python date
        return False
    day = when.date() if isinstance(when, datetime) else when
    return bool(EARLIEST_DATE <= day <= at.date())


def _castable(value: str, arrow_type: pa.DataType) -> bool:
    try:
        pa.array([value], pa.string()).cast(arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def apply_corrections(lake: Lake, *, now: datetime | None = None) -> dict[str, int | None]:
    """Write pending corrections into new snapshots; returns the version published per dataset (None: no change).

    Run after each load (the pipeline's next snapshot): a correction is re-applied to every version
    that still carries the old value, and is `settled` once the bank's extract agrees with it.
    """
    with lake.store.connect() as conn:
        open_rows = conn.execute(select(Correction).where(Correction.status != "settled")).all()
    published: dict[str, int | None] = {}
    for dataset in sorted({c.dataset for c in open_rows}):
        snap = lake.snapshot(dataset)
        todo = [c for c in open_rows if c.dataset == dataset and snap and c.applied_version != snap.version]
        if snap is None or not todo:
            continue
        corrections = CorrectionPass(todo)
        version, _ = rewrite_dataset(lake, snap, corrections.file_edit)
        published[dataset] = version
        corrections.record(lake, version=version, settled_version=snap.version, now=now)
    return published


def corrections_since(lake: Lake, dataset: str, version: int) -> CorrectionPass:
    """The corrections an earlier `version` of `dataset` may lack: those not settled, and those settled later.

    A rollback to `version` writes them into the version it publishes (lingxi.ingest.rollback).
    """
    with lake.store.connect() as conn:
        rows = conn.execute(select(Correction).where(Correction.dataset == dataset)).all()
    return CorrectionPass(
        [c for c in rows if c.status != "settled" or c.applied_version is None or c.applied_version > version]
    )


@dataclass
class CorrectionPass:
    """Corrections written into one rewrite of a dataset; the edit notes which it changed or found in place."""

    todo: list[Any]
    matched: set[int] = field(default_factory=set)  # customer found in the rewrite
    changed: set[int] = field(default_factory=set)  # the value was changed

    def __bool__(self) -> bool:
        return bool(self.todo)

    def file_edit(self, path: Path) -> pa.Table | None:
        """A `FileEdit` (lingxi.privacy.dsr.rewrite_dataset): the file's rows corrected, or None if unchanged."""
        return self.edit(pq.read_table(path))

    def edit(self, table: pa.Table) -> pa.Table | None:
        """`table` with the corrections written in, or None when none changes it."""
        if "customer_id" not in table.column_names:
            return None
        touched = False
        for c in self.todo:
            if c.column not in table.column_names:
                continue
            mask = pc.fill_null(pc.equal(table["customer_id"], c.customer_id), False)
            if not pc.any(mask).as_py():
                continue
            self.matched.add(c.id)
            col = table[c.column]
            value = pa.scalar(None, col.type) if c.value is None else pa.array([c.value]).cast(col.type)[0]
            same = pc.is_null(col) if c.value is None else pc.fill_null(pc.equal(col, value), False)
            if pc.any(pc.and_(mask, pc.invert(same))).as_py():
                index = table.column_names.index(c.column)
                table = table.set_column(index, table.field(index), pc.if_else(mask, value, col))
                self.changed.add(c.id)
                touched = True
        return table if touched else None

    def record(self, lake: Lake, *, version: int | None, settled_version: int, now: datetime | None = None) -> None:
        """Record what the rewrite did: changed -> applied in `version`; found as corrected -> settled."""
        with lake.store.begin() as conn:
            for c in self.todo:
                if c.id in self.changed:
                    values = {"status": "applied", "applied_version": version, "applied_at": _now(now)}
                elif c.id in self.matched:  # the snapshot already holds the corrected value
                    values = {"status": "settled", "applied_version": settled_version, "applied_at": _now(now)}
                else:
                    continue  # the customer is not in this snapshot yet: keep waiting
                conn.execute(update(Correction).where(Correction.id == c.id).values(**values))
