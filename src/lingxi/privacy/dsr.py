"""Data-subject requests (PIPL arts. 45-47): export, correction and erasure across every store, with receipts.

What each request does, store by store (docs/privacy.md has the reasoning):

- lake, every dataset with `customer_id`: export reads the rows (and anonymous events on the
  customer's devices); correction records an overlay, applied when the dataset is next rewritten;
  erasure publishes a new version without the rows (one pointer update) and scrubs them from the
  earlier versions kept for rollback;
- lake quarantine: erasure removes rows carrying any of the customer's identifiers, file by file;
- consent ledger: exported; erasure pseudonymises it (`erased:<ref>`), kept 3 years as evidence;
- other operational rows (RM books, pending corrections): exported; erasure deletes them;
- audit log: exported; every request is audited, and entries are never changed.

A receipt (request id, the customer's keyed reference, what was done per store, time, actor) is stored
in `lx_dsr_request` and returned. Nothing stored about a request names the customer in clear, so the
receipt outlives the erasure it proves. Erasure is resumable: running it again finishes what a crash left.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Engine, delete, insert, select, update
from sqlglot import exp

from lingxi.auth import audit
from lingxi.auth.audit import Action, Who
from lingxi.capability import Subject
from lingxi.engine import Engine as AnalyticEngine
from lingxi.keys import HashKey, Keys
from lingxi.privacy import holdings
from lingxi.privacy.erased import IDENTIFIER_COLUMNS, register_identifiers
from lingxi.privacy.tables import (
    CONSENT_EVIDENCE_RETENTION,
    ERASED_PREFIX,
    ConsentEventRow,
    DsrRequest,
    Erasure,
    subject_ref,
    subject_refs,
)
from lingxi.schema.contract import TABLES
from lingxi.store.lake import QUARANTINE, Lake, Snapshot, link_or_copy
from lingxi.store.tables import DatasetVersion

EXPORT_FORMAT = "lingxi.dsr.export/1"
#: The audit action of erasures and corrections (exports are audited as `export`).
DSR_ACTION = Action.DATA_SUBJECT_REQUEST
#: Raw identifiers a correction may carry, hashed into the contract column like the loader does.
HASHED_INPUTS = {"phone": ("phone_hash", "hash_phone"), "id_no": ("id_no_hash", "hash_id_no")}


@dataclass(frozen=True)
class Receipt:
    """Proof of a request: what was done in each store. Names the customer only by keyed reference."""

    request_id: str
    kind: str
    subject_ref: str
    actor: str
    completed_at: datetime
    stores: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "kind": self.kind,
            "subject_ref": self.subject_ref,
            "actor": self.actor,
            "completed_at": self.completed_at.isoformat(),
            "stores": self.stores,
        }


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)


def jsonable(value: Any) -> Any:
    """`value` with dates as ISO text and decimals as text, ready for JSON."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _open_request(store: Engine, kind: str, ref: str, actor: Who, at: datetime) -> str:
    """Record the request before any work, so a crash leaves a `running` request to finish or investigate."""
    request_id = secrets.token_hex(8)
    with store.begin() as conn:
        conn.execute(
            insert(DsrRequest).values(
                id=request_id,
                kind=kind,
                status="running",
                subject_ref=ref,
                actor=actor.actor,
                requested_at=at,
                receipt={},
            )
        )
    return request_id


def _close_request(store: Engine, receipt: Receipt, *, action: Action, detail: str) -> Receipt:
    with store.begin() as conn:
        conn.execute(
            update(DsrRequest)
            .where(DsrRequest.id == receipt.request_id)
            .values(status="done", completed_at=receipt.completed_at, receipt=jsonable(receipt.as_dict()))
        )
        audit.append(
            conn,
            action,
            Who(receipt.actor),
            target=f"subject:{receipt.subject_ref}",
            reason="DATA_SUBJECT_REQUEST",
            detail=f"{receipt.kind} {receipt.request_id}: {detail}",
            now=receipt.completed_at,
        )
    return receipt


def _receipt(r: Any) -> Receipt:
    return Receipt(r.id, r.kind, r.subject_ref, r.actor, r.completed_at or r.requested_at, r.receipt.get("stores", {}))


def latest_receipts(store: Engine, limit: int = 50) -> list[Receipt]:
    """The latest requests' receipts, newest first (they name customers only by keyed reference)."""
    with store.connect() as conn:
        rows = conn.execute(select(DsrRequest).order_by(DsrRequest.requested_at.desc()).limit(limit)).all()
    return [_receipt(r) for r in rows]


def receipts(store: Engine, customer_id: str, hash_key: HashKey) -> list[Receipt]:
    """The stored receipts of a customer's requests, oldest first (found by reference, so also after erasure)."""
    with store.connect() as conn:
        refs = subject_refs(customer_id, hash_key)
        stmt = select(DsrRequest).where(DsrRequest.subject_ref.in_(refs)).order_by(DsrRequest.requested_at)
        rows = conn.execute(stmt).all()
    return [_receipt(r) for r in rows]


# --- reading a customer's lake rows -------------------------------------------------------------------------


def find_subject(lake: Lake, engine: AnalyticEngine, customer_id: str, hash_key: HashKey = "") -> Subject:
    """The customer's identifiers from the `customers` and `identities` datasets (empty if not loaded)."""
    return _find_subject(lake, engine, customer_id, hash_key)[0]


def _find_subject(
    lake: Lake, engine: AnalyticEngine, customer_id: str, hash_key: HashKey
) -> tuple[Subject, dict[str, str]]:
    """The customer as `find_subject` gives it, and each linked identifier's kind (value -> kind)."""
    kinds: dict[str, str] = {}
    for row in _lake_rows(lake, engine, Subject(customer_id, frozenset(), frozenset()), ["customers", "identities"]):
        for name in ("phone_hash", "id_no_hash"):
            if row.get(name):
                kinds.setdefault(str(row[name]), name)
        if row.get("id_value"):
            kinds[str(row["id_value"])] = str(row.get("id_type") or "id_value")
    kinds.pop(customer_id, None)  # the customer id itself is the tombstone's (`lx_erasure`)
    devices = {value for value, kind in kinds.items() if kind == "device_id"}
    ref = subject_ref(customer_id, hash_key) if hash_key else ""
    subject = Subject(customer_id, frozenset({customer_id, *kinds}), frozenset(devices), ref, hash_key)
    return subject, kinds


def _anonymous_ids(records: dict[str, list[dict[str, Any]]], who: Subject) -> dict[str, str]:
    """Identifiers carried by the customer's anonymous lake rows (an app's anonymous id on their device)."""
    seen: dict[str, str] = {}
    for rows in records.values():
        for row in rows:
            if row.get("customer_id") is None:
                for column in IDENTIFIER_COLUMNS:
                    value = row.get(column)
                    if value and str(value) not in who.identifiers:
                        seen.setdefault(str(value), column)
    return seen


def _lake_rows(lake: Lake, engine: AnalyticEngine, who: Subject, only: list[str] | None = None) -> list[dict[str, Any]]:
    return [r for rows in lake_records(lake, engine, who, only).values() for r in rows]


def lake_records(
    lake: Lake, engine: AnalyticEngine, who: Subject, only: list[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every published dataset's rows about the customer, by dataset (over the current snapshot)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in lake.register(engine, only):
        table = exp.to_identifier(name, quoted=True)
        columns = set(engine.run(exp.select("*").from_(table).limit(0), label=f"columns of {name}").column_names)
        key = holdings.lake_customer_column(name)
        if key not in columns:
            continue
        condition: exp.Condition = exp.column(key).eq(exp.Placeholder())  # request values are bound
        params: list[Any] = [who.customer_id]
        values = sorted(_linked_values(who))
        for col in sorted(set(IDENTIFIER_COLUMNS) & columns):
            linked = exp.column(col).isin(*(exp.Placeholder() for _ in values))
            condition = exp.or_(condition, exp.and_(exp.column(key).is_(exp.null()), linked))
            params += values
        query = exp.select("*").from_(table).where(condition)
        rows = engine.run(query, label=f"{name} rows of a customer", params=params).to_pylist()
        out[name] = [jsonable(r) for r in rows]
    return out


def _count(part: Any) -> Any:
    """What a receipt records of an export's part: row counts, never values."""
    if isinstance(part, dict):
        return {k: _count(v) for k, v in part.items()}
    return len(part) if isinstance(part, list) else 1


# --- export --------------------------------------------------------------------------------------------------


def export_customer(
    lake: Lake, engine: AnalyticEngine, customer_id: str, *, actor: Who, hash_key: HashKey, now: datetime | None = None
) -> tuple[dict[str, Any], Receipt]:
    """Everything Lingxi holds on a customer as one JSON-ready document (R15, R16), and the request's receipt.

    The lake part covers every published dataset; the operational part every holding the capabilities
    declare (lingxi.privacy.holdings), which refuses to run while some customer data is undeclared. The
    document carries each lake column's description, PI class and purpose, so it can be read and
    re-imported without Lingxi's source (portability).
    """
    requested_at = _now(now)
    who = find_subject(lake, engine, customer_id, hash_key)
    lake_part = lake_records(lake, engine, who)
    store = lake.store
    holdings.check_declared(store, lake_part)
    store_part = jsonable(holdings.export_store(store, who))
    request_id = _open_request(store, "export", who.ref, actor, requested_at)
    document = {
        "format": EXPORT_FORMAT,
        "request_id": request_id,
        "generated_at": requested_at.isoformat(),
        "customer_id": customer_id,
        "lake": lake_part,
        "fields": {name: _field_notes(name) for name in lake_part},
        **store_part,
    }
    counts = {name: len(rows) for name, rows in lake_part.items()}
    stores = {"lake": counts, **{section: _count(part) for section, part in store_part.items()}}
    receipt = Receipt(request_id, "export", who.ref, actor.actor, requested_at, stores)
    return document, _close_request(store, receipt, action=Action.EXPORT, detail=f"{sum(counts.values())} lake rows")


def _field_notes(dataset: str) -> dict[str, dict[str, Any]]:
    table = TABLES.get(dataset)
    if table is None:
        return {}
    return {
        c.name: {
            "type": c.type,
            "description": c.description,
            "pi_class": c.pi_class,
            "personal": c.personal,
            "purpose": c.purpose,
        }
        for c in table.columns
    }


# --- rewriting the lake --------------------------------------------------------------------------------------

FileEdit = Callable[[Path], pa.Table | None]  # a file's new content, or None when it does not change


def rewrite_dataset(
    lake: Lake,
    snap: Snapshot,
    edit: FileEdit,
    *,
    expected_version: int | None = None,
    note: str | None = None,
    carries: Sequence[str] = (),
) -> tuple[int | None, int]:
    """Publish a new version of `snap` with `edit` applied to each file; returns (version or None, files changed).

    Files that do not change are hard-linked (immutable, so sharing them is safe) into the new folder,
    keeping their partition folders; the new version replaces the old in one pointer update, so readers
    see the dataset before or after the change, never half of it. It runs under the dataset's writer
    lock and publishes only while the dataset is still at `expected_version` (default: `snap`'s own; a
    rollback rewrites an earlier version on top of the current one).
    """
    with lake.writing(snap.dataset, note or "a data-subject request"):
        plan = [(i, f, edit(f)) for i, part in enumerate(snap.paths) for f in sorted(part.rglob("*.parquet"))]
        changed = sum(1 for *_, new in plan if new is not None)
        if not changed:
            return None, 0
        folder, rows = lake.new_folder(snap.dataset), 0
        try:
            for i, path, new in plan:
                target = folder / path.parent.relative_to(snap.paths[i]) / f"p{i:04d}-{path.name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                if new is None:
                    link_or_copy(path, target)
                    rows += pq.read_metadata(target).num_rows
                elif new.num_rows:
                    pq.write_table(new, target, compression="zstd")
                    rows += new.num_rows
            version = lake.publish(
                snap.dataset,
                folder,
                mode="replace",
                row_count=rows,
                contract_version=snap.contract_version,
                as_of=snap.as_of,
                note=note,
                carries=carries,
                expected_version=snap.version if expected_version is None else expected_version,
            )
        except BaseException:  # a load published meanwhile (StoreError), or the write failed: nothing is visible
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return version, changed


def _scrub_superseded(lake: Lake, dataset: str, current: Snapshot, without: FileEdit) -> tuple[int, int]:
    """Remove the customer's rows from every kept earlier version of `dataset`; returns (folders, files) changed.

    Earlier versions stay available to a rollback for the retention period (lingxi.store.retention), and an
    erasure must reach them too: each file holding the customer is rewritten in place, atomically (a reader
    sees the old file or the new one; other versions' hard links to the old file are rewritten in turn).
    The row counts of the versions that list a changed folder are recounted.
    """
    folders = files = 0
    touched: set[str] = set()
    for folder in sorted(_folders_of(lake, dataset) - set(current.paths)):
        if not folder.exists():
            continue
        hit = 0
        for path in sorted(folder.rglob("*.parquet")):
            new = without(path)
            if new is None:
                continue
            tmp = path.with_name(path.name + ".tmp")
            pq.write_table(new, tmp, compression="zstd")
            os.replace(tmp, path)
            hit += 1
        if hit:
            folders, files = folders + 1, files + hit
            touched.add(lake.relative(folder))
    if touched:
        with lake.store.begin() as conn:
            query = select(DatasetVersion.id, DatasetVersion.parts).where(DatasetVersion.dataset == dataset)
            for row_id, parts in conn.execute(query).all():
                if touched & set(parts):
                    count = sum(pq.read_metadata(f).num_rows for p in parts for f in (lake.root / p).rglob("*.parquet"))
                    conn.execute(update(DatasetVersion).where(DatasetVersion.id == row_id).values(row_count=count))
    return folders, files


def _rows_of(table: pa.Table, who: Subject, key: str) -> pa.ChunkedArray | pa.Array:
    """Boolean mask of the rows about the customer (their id in `key`, or anonymous rows carrying their identifiers)."""
    names = table.column_names
    mask = pc.fill_null(pc.equal(table[key], who.customer_id), False)
    values = pa.array(sorted(_linked_values(who)), pa.string())
    for col in IDENTIFIER_COLUMNS:
        if col in names and pa.types.is_string(table.schema.field(col).type):
            linked = pc.and_(pc.is_null(table[key]), pc.is_in(table[col], value_set=values))
            mask = pc.or_(mask, pc.fill_null(linked, False))
    return mask


def _linked_values(who: Subject) -> set[str]:
    """Values that make an anonymous row (no customer id) the customer's: any of their identifiers or devices."""
    return {*who.identifiers, *who.devices}


def _without(who: Subject, key: str = "customer_id") -> FileEdit:
    def edit(path: Path) -> pa.Table | None:
        if key not in pq.read_schema(path).names:
            return None
        table = pq.read_table(path)
        mask = _rows_of(table, who, key)
        return table.filter(pc.invert(mask)) if pc.any(mask).as_py() else None

    return edit


def _folders_of(lake: Lake, dataset: str) -> set[Path]:
    with lake.store.connect() as conn:
        parts = conn.execute(select(DatasetVersion.parts).where(DatasetVersion.dataset == dataset)).scalars().all()
    return {lake.root / p for ps in parts for p in ps}


def _scrub_quarantine(lake: Lake, who: Subject) -> dict[str, int]:
    """Remove quarantined rows that carry any of the customer's identifiers (as a value or inside raw JSON)."""
    files = rows = 0
    needles = sorted(who.identifiers)
    for path in sorted((lake.root / QUARANTINE).rglob("*.parquet")):
        table = pq.read_table(path)
        hit = pa.array([False] * table.num_rows, pa.bool_())
        for name in table.column_names:
            if pa.types.is_string(table.schema.field(name).type):
                col = pc.fill_null(table[name], "")
                for needle in needles:
                    found = pc.or_(pc.equal(col, needle), pc.match_substring(col, json.dumps(needle)))
                    hit = pc.or_(hit, found)
        removed = pc.sum(hit).as_py() or 0
        if removed:
            kept = table.filter(pc.invert(hit))
            tmp = path.with_suffix(".tmp")
            pq.write_table(kept, tmp, compression="zstd")
            os.replace(tmp, path)  # atomic: a reader sees the old file or the new one
            files, rows = files + 1, rows + removed
    return {"files_rewritten": files, "rows_removed": rows}


# --- erasure -------------------------------------------------------------------------------------------------


def erase_customer(
    lake: Lake,
    engine: AnalyticEngine,
    customer_id: str,
    *,
    actor: Who,
    hash_key: HashKey,
    now: datetime | None = None,
    scrub_superseded: bool = True,
) -> Receipt:
    """Erase a customer from every store (R18) and return the receipt; see the table in the module docstring.

    The operational store goes first, in one transaction: the tombstone and a keyed hash of every linked
    identifier (so no import brings the customer, or their anonymous rows, back while the lake is
    rewritten: `lingxi.privacy.erased`), then each declared holding (deleted, pseudonymised or retained, as
    its capability declares). Then each lake dataset is republished without the customer, under its writer
    lock, and their rows are scrubbed from the files of earlier versions kept for rollback
    (`_scrub_superseded`). Running it again after a crash finishes the job.
    """
    at, store = _now(now), lake.store
    who, kinds = _find_subject(lake, engine, customer_id, hash_key)
    records = lake_records(lake, engine, who)
    holdings.check_declared(store, records)
    seen = _anonymous_ids(records, who)  # so a re-sent anonymous row without its device id stays out too
    who = replace(who, identifiers=who.identifiers | frozenset(seen))
    request_id = _open_request(store, "deletion", who.ref, actor, at)
    with store.begin() as conn:
        if conn.execute(select(Erasure.subject_ref).where(Erasure.subject_ref == who.ref)).first() is None:
            kid = Keys.of(hash_key).active_id
            conn.execute(insert(Erasure).values(subject_ref=who.ref, request_id=request_id, erased_at=at, key_id=kid))
        registered = register_identifiers(conn, who.ref, {**seen, **kinds}, hash_key=hash_key, at=at)
        store_done = holdings.erase_store(conn, who, at)
    lake_done: dict[str, Any] = {}
    for name in [s.dataset for s in lake.snapshots()]:
        with lake.writing(name, "an erasure"):  # no load publishes the customer's rows between the steps
            snap = lake.snapshot(name)
            if snap is None:
                continue
            without = _without(who, holdings.lake_customer_column(name))
            version, files = rewrite_dataset(lake, snap, without, note="erasure")
            current = lake.snapshot(name)
            folders = scrubbed = 0
            if scrub_superseded and current is not None:
                folders, scrubbed = _scrub_superseded(lake, name, current, without)
        if version is not None or folders:
            removed = snap.row_count - current.row_count if version is not None and current else 0
            lake_done[name] = {
                "rows_removed": removed,
                "version": version,
                "files_rewritten": files,
                "superseded_folders_scrubbed": folders,
                "superseded_files_scrubbed": scrubbed,
            }
    stores = {
        "lake": lake_done,
        "quarantine": _scrub_quarantine(lake, who),
        **store_done,
        "tombstone": {"lx_erasure": who.ref, "identifiers_registered": registered},
    }
    receipt = Receipt(request_id, "deletion", who.ref, actor.actor, _now(now), stores)
    return _close_request(store, receipt, action=DSR_ACTION, detail=f"{len(lake_done)} datasets rewritten")


def is_erased(store: Engine, customer_id: str, hash_key: HashKey) -> bool:
    """Whether the customer has an erasure tombstone (loaders and restores must drop their rows)."""
    with store.connect() as conn:
        refs = subject_refs(customer_id, hash_key)
        return conn.execute(select(Erasure.subject_ref).where(Erasure.subject_ref.in_(refs))).first() is not None


def purge_expired_evidence(store: Engine, *, now: datetime | None = None) -> int:
    """Delete pseudonymised consent evidence of customers erased more than the retention period ago.

    The period runs from the erasure (the end of the processing the consent justified), not from each
    event, so evidence is available for three years after the customer left. Returns the events deleted.
    """
    cutoff = _now(now) - CONSENT_EVIDENCE_RETENTION
    deleted = 0
    with store.begin() as conn:
        refs = conn.execute(select(Erasure.subject_ref).where(Erasure.erased_at < cutoff)).scalars().all()
        for ref in refs:
            stmt = delete(ConsentEventRow).where(ConsentEventRow.customer_id == ERASED_PREFIX + ref)
            deleted += conn.execute(stmt).rowcount
    return deleted


# --- correction ----------------------------------------------------------------------------------------------
