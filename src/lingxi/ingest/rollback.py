"""`lingxi rollback TABLE [--to VERSION]`: show an earlier version of a dataset again, without losing anything since.

Versions only go forward. A rollback publishes the earlier version's folders again as a new version (one
pointer update: readers switch from the current data to the earlier data at once), so the version rolled
back from stays available to roll forward to. What happened since that earlier version is not undone:

- **erasures**: every row of an erased customer, and every anonymous row carrying an erased identifier,
  is left out (the erasure registry, lingxi.privacy.erased). Erasures also scrub the earlier versions
  themselves, so this is a second line of defence, not the only one;
- **data-subject corrections** recorded since (not settled, or settled by a later version) are written
  into the version published (lingxi.privacy.correction);
- **derived datasets** computed from it (the pipeline stages that declare it in `reads`) are marked stale
  until their stage runs again (`lingxi status` shows why).

When either of the first two changes a file, the version is written as a new folder (unchanged files
hard-linked) rather than shared, still published in one step. A version whose folders were pruned (older
than the retention period, lingxi.store.retention) cannot be rolled back to: the refusal says so.
The rollback holds the dataset's writer lock and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lingxi import registry
from lingxi.auth import audit
from lingxi.auth.audit import Who
from lingxi.errors import InputError, NotFound
from lingxi.keys import HashKey
from lingxi.privacy import holdings
from lingxi.privacy.correction import corrections_since
from lingxi.privacy.dsr import rewrite_dataset
from lingxi.privacy.erased import load_registry
from lingxi.store.lake import Lake, Snapshot

#: The audit action of a rollback (declared by the ingest capability).
ROLLBACK_ACTION = "lake_rollback"


@dataclass
class RollbackReport:
    """What a rollback published."""

    dataset: str
    from_version: int  # the version that was current
    to_version: int  # the earlier version whose data is shown again
    version: int  # the new version
    row_count: int
    rows_erased: int = 0  # rows of erased customers left out
    corrections: int = 0  # corrections written in
    files_rewritten: int = 0
    stale: list[str] = field(default_factory=list)


def target_version(lake: Lake, dataset: str, current: Snapshot, to: int | None) -> Snapshot:
    """The version to roll back to (default: the one before the current), checked to exist and be kept."""
    number = current.version - 1 if to is None else to
    if number < 1 or number >= current.version:
        span = f"1–{current.version - 1}" if current.version > 1 else "none: it has a single version"
        raise InputError(
            f"cannot roll `{dataset}` back to version {number}: it is at version {current.version} "
            f"(earlier versions: {span})",
            hint=f"see `lingxi lake versions {dataset}`",
        )
    target = lake.version(dataset, number)
    if target is None:
        raise NotFound(f"`{dataset}` has no version {number}", hint=f"see `lingxi lake versions {dataset}`")
    missing = [p for p in target.paths if not p.is_dir()]
    if missing:
        raise InputError(
            f"version {number} of `{dataset}` is no longer kept: {len(missing)} of its folders were removed by "
            "`lingxi lake prune` after the retention period (LINGXI_VERSION_RETENTION_DAYS)",
            hint=f"roll back to a later version (see `lingxi lake versions {dataset}`)",
        )
    return target


def rollback(
    lake: Lake,
    dataset: str,
    *,
    actor: Who,
    hash_key: HashKey,
    to: int | None = None,
    wait: float = 30.0,
) -> RollbackReport:
    """Publish version `to` (default: the one before the current) of `dataset` again; see the module docstring."""
    with lake.writing(dataset, f"rollback by {actor.actor}", wait=wait):
        current = lake.snapshot(dataset)
        if current is None:
            raise NotFound(f"`{dataset}` has no published version", hint="`lingxi status` lists the datasets")
        target = target_version(lake, dataset, current, to)
        note = f"rollback to version {target.version}"
        erased = load_registry(lake.store, hash_key)
        corrections = corrections_since(lake, dataset, target.version)
        key = holdings.lake_customer_column(dataset)
        report = RollbackReport(dataset, current.version, target.version, 0, target.row_count)

        def edit(path: Path) -> pa.Table | None:
            table = pq.read_table(path)
            mask = erased.erased_rows(table, key)
            changed = None
            if mask is not None:
                changed = table = table.filter(pc.invert(mask))
                report.rows_erased += int(pc.sum(mask).as_py() or 0)
            corrected = corrections.edit(table) if corrections else None
            return corrected if corrected is not None else changed

        version = None
        if erased or corrections:
            version, report.files_rewritten = rewrite_dataset(
                lake,
                target,
                edit,
                expected_version=current.version,
                note=note,
                carries=[lake.relative(p) for p in target.paths],  # its loads stay known as loaded
            )
        if version is None:  # nothing to re-apply: the earlier folders are published again as they are
            version = lake.publish(
                dataset,
                target.paths,
                mode="replace",
                row_count=target.row_count,
                contract_version=target.contract_version,
                as_of=target.as_of,
                note=note,
                expected_version=current.version,
            )
        if corrections:
            corrections.record(lake, version=version, settled_version=version)
            report.corrections = len(corrections.changed)
        published = lake.version(dataset, version)
        report.version, report.row_count = version, published.row_count if published else 0
        report.stale = lake.mark_stale(registry.downstream([dataset]), f"{dataset}: {note} (version {version})")
        audit.record(
            lake.store,
            ROLLBACK_ACTION,
            actor,
            target=f"dataset:{dataset}",
            reason="rollback to an earlier version",
            detail=f"version {current.version} -> {version} (data of version {target.version}); "
            f"{report.rows_erased} erased rows left out; {report.corrections} corrections re-applied; "
            f"stale: {', '.join(report.stale) or 'none'}",
        )
    return report
