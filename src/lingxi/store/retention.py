"""How long earlier lake versions stay available to a rollback, and pruning the folders of those past it.

Folders are immutable and shared between versions (an append version lists the folders of the one before
it, a rollback publishes an earlier version's folders again), so nothing is deleted when a version is
superseded. `prune` removes what no version within the retention period needs: a version is kept while it
is current or was current at some time in the last `keep_days` days (its successor is younger than that);
a folder is removed when no kept version lists it. Folders of no version at all (a write that crashed
before publishing) are removed once older than the period. Erasures do not wait for this: they reach every
kept version at once (lingxi.privacy.dsr).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from lingxi.store.lake import QUARANTINE, Lake, utcnow
from lingxi.store.locks import LOCKS
from lingxi.store.tables import Dataset


@dataclass
class PruneReport:
    """What `prune` removed, per dataset: folders of expired versions, and folders of no version."""

    cutoff: datetime
    folders: dict[str, int] = field(default_factory=dict)
    orphans: dict[str, int] = field(default_factory=dict)
    versions_expired: dict[str, list[int]] = field(default_factory=dict)

    @property
    def removed(self) -> int:
        return sum(self.folders.values()) + sum(self.orphans.values())


def kept_versions(lake: Lake, dataset: str, cutoff: datetime) -> tuple[set[int], set[int]]:
    """(versions kept, versions expired) of `dataset` for a retention period that began at `cutoff`."""
    versions = lake.versions(dataset)
    current = lake.snapshot(dataset)
    kept, expired = set(), set()
    for i, v in enumerate(versions):
        successor = versions[i + 1] if i + 1 < len(versions) else None
        if (current is not None and v.version == current.version) or successor is None:
            kept.add(v.version)
        elif successor.created_at >= cutoff:
            kept.add(v.version)
        else:
            expired.add(v.version)
    return kept, expired


def prune(lake: Lake, *, keep_days: float, now: datetime | None = None, wait: float = 30.0) -> PruneReport:
    """Remove the folders only versions older than `keep_days` need (see the module docstring)."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    report = PruneReport(cutoff)
    with lake.store.connect() as conn:
        datasets = list(conn.execute(select(Dataset.name).order_by(Dataset.name)).scalars())
    for dataset in datasets:
        with lake.writing(dataset, "pruning expired versions", wait=wait):
            kept, expired = kept_versions(lake, dataset, cutoff)
            versions = lake.versions(dataset)
            needed = {p for v in versions if v.version in kept for p in v.paths}
            listed = {p for v in versions for p in v.paths}
            gone = [p for p in sorted(listed - needed) if p.exists()]
            for folder in gone:
                shutil.rmtree(folder)
            orphans = [p for p in _orphans(lake.root / dataset, listed, cutoff)]
            for folder in orphans:
                shutil.rmtree(folder)
        if gone:
            report.folders[dataset] = len(gone)
        if orphans:
            report.orphans[dataset] = len(orphans)
        if expired:
            report.versions_expired[dataset] = sorted(expired)
    return report


def _orphans(folder: Path, listed: set[Path], cutoff: datetime) -> list[Path]:
    """Folders under a dataset's folder that no version lists, last changed before `cutoff`."""
    if not folder.is_dir() or folder.name in (QUARANTINE, LOCKS):
        return []
    limit = time.time() - (utcnow() - cutoff).total_seconds()
    return [p for p in sorted(folder.iterdir()) if p.is_dir() and p not in listed and p.stat().st_mtime < limit]


def available(snapshot_paths: tuple[Path, ...]) -> bool:
    """Whether every folder of a version is still there (not pruned)."""
    return all(p.is_dir() for p in snapshot_paths)
