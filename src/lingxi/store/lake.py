"""The lake: immutable Parquet folders, published by one pointer update in the operational store.

A writer puts new files in a folder no snapshot references yet, then publishes: one transaction
inserts the new version (the list of folders that make up the dataset) and moves the dataset's
pointer to it. A reader in another process resolves the pointer once and reads only folders that are
complete, so it never sees half a snapshot. `replace` versions hold one folder; `append` versions
hold the previous version's folders plus the new one, so a daily file costs only its own rows.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from lingxi.engine.base import Engine as AnalyticEngine
from lingxi.engine.base import Query
from lingxi.errors import StoreError
from lingxi.schema.types import LoadMode
from lingxi.store.db import session_factory
from lingxi.store.locks import dataset_lock
from lingxi.store.tables import Dataset, DatasetVersion

QUARANTINE = "_quarantine"


def utcnow() -> datetime:
    """Naive UTC timestamp: every `*_at` column of the operational store is UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def link_or_copy(source: Path, target: Path) -> None:
    """Share an immutable lake file with a new folder: a hard link, or a copy where links are not possible."""
    try:
        os.link(source, target)
    except OSError:  # another file system, or no hard links
        shutil.copy2(source, target)


@dataclass(frozen=True)
class Snapshot:
    """A published version of a dataset."""

    dataset: str
    version: int
    paths: tuple[Path, ...]
    row_count: int
    as_of: date | None
    created_at: datetime
    contract_version: int
    note: str | None = None  # what published it when not a load: `rollback to version 3`, `compaction`...
    load_id: str | None = None
    carries: tuple[str, ...] = ()  # folders (relative to the lake root) whose rows its first folder carries over

    @property
    def parquet_globs(self) -> list[str]:
        """A glob per folder of the version, for DuckDB's `read_parquet` (Hive partitions below)."""
        return [str(p / "**" / "*.parquet") for p in self.paths]


class Lake:
    """The lake under `root`, with its pointers kept in the operational store `store`."""

    def __init__(self, root: Path, store: Engine) -> None:
        self.root = Path(root)
        self.store = store
        self._sessions = session_factory(store)

    def new_folder(self, dataset: str) -> Path:
        """A fresh, empty folder for the files of the next version of `dataset`."""
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        folder = self.root / dataset / f"{stamp}-{secrets.token_hex(4)}"
        folder.mkdir(parents=True, exist_ok=False)
        return folder

    def writing(self, dataset: str, doing: str, *, wait: float = 30.0) -> AbstractContextManager[None]:
        """Hold `dataset`'s writer lock for the block (lingxi.store.locks): one writer per dataset."""
        return dataset_lock(self.root, dataset, doing, wait=wait)

    def quarantine_folder(self, dataset: str, load_id: str) -> Path:
        folder = self.root / QUARANTINE / dataset / load_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def publish(
        self,
        dataset: str,
        folder: Path | Sequence[Path],
        *,
        mode: LoadMode,
        row_count: int,
        contract_version: int,
        as_of: date | None = None,
        load_id: str | None = None,
        note: str | None = None,
        carries: Sequence[str] = (),
        expected_version: int | None = None,
    ) -> int:
        """Make `folder` (or several folders) part of the visible dataset; returns the new version number.

        Several folders: a period replacement publishes its base and the loaded folder together, a rollback
        an earlier version's folders again (folders are immutable, so versions share them at no cost).
        `expected_version`: publish only if the dataset is still at that version (a rewrite computed from
        it), else raise StoreError without publishing. `note` and `carries` are kept with the version.
        """
        folders = [folder] if isinstance(folder, Path) else list(folder)
        parts = [self.relative(f) for f in folders]
        new = _Version(parts, mode, row_count, contract_version, as_of, load_id, note, list(carries))
        for attempt in range(100):
            try:
                return self._publish_once(dataset, new, expected_version)
            except (IntegrityError, OperationalError) as e:
                # another writer published the same version first (or holds SQLite's write lock): retry
                if isinstance(e, OperationalError) and "locked" not in str(e):
                    raise
                time.sleep(random.uniform(0.001, 0.01) * min(attempt + 1, 10))
        raise StoreError(f"could not publish `{dataset}`: too many concurrent writers", hint="retry the load")

    def relative(self, folder: Path) -> str:
        """A folder of the lake as versions record it: relative to the lake root."""
        return folder.resolve().relative_to(self.root.resolve()).as_posix()

    def publish_query(
        self,
        engine: AnalyticEngine,
        dataset: str,
        query: Query,
        *,
        label: str,
        as_of: date | None = None,
        partition_by: Sequence[str] = (),
        sort_by: Sequence[str] = ("customer_id",),
        contract_version: int = 0,
    ) -> Snapshot:
        """Write `query`'s result as the next version of `dataset` (replacing it) and return the new snapshot.

        The engine writes the files into a new folder (on Spark, the executors do), then the folder is
        published; a failed write leaves the published snapshot as it was and its folder removed.
        """
        with self.writing(dataset, label):
            folder = self.new_folder(dataset)
            try:
                rows = engine.write_snapshot(query, folder, label=label, partition_by=partition_by, sort_by=sort_by)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            version = self.publish(
                dataset, folder, mode="replace", row_count=rows, contract_version=contract_version, as_of=as_of
            )
        with self._sessions() as session:
            row = session.scalars(
                select(DatasetVersion).where(DatasetVersion.dataset == dataset, DatasetVersion.version == version)
            ).one()
        return self._to_snapshot(row)

    def _publish_once(self, dataset: str, new: _Version, expected_version: int | None) -> int:
        now = utcnow()
        with self._sessions.begin() as session:
            pointer = session.get(Dataset, dataset, with_for_update=True)
            if pointer is None:
                pointer = Dataset(name=dataset, current_version=0, updated_at=now)
                session.add(pointer)
                session.flush()
            old = pointer.current_version
            if expected_version is not None and old != expected_version:
                raise StoreError(
                    f"`{dataset}` changed while it was being rewritten (version {old}, expected {expected_version})",
                    hint="run the command again: it starts from the new version",
                )
            previous = None
            if old:
                previous = session.scalars(
                    select(DatasetVersion).where(DatasetVersion.dataset == dataset, DatasetVersion.version == old)
                ).one()
            parts, rows = list(new.parts), new.row_count
            if new.mode == "append" and previous is not None:
                parts = [*previous.parts, *parts]
                rows += previous.row_count
            version = old + 1
            session.add(
                DatasetVersion(
                    dataset=dataset,
                    version=version,
                    parts=parts,
                    row_count=rows,
                    contract_version=new.contract_version,
                    as_of=new.as_of,
                    load_id=new.load_id,
                    created_at=now,
                    note=new.note,
                    carries=new.carries or None,
                )
            )
            session.flush()
            moved = session.execute(
                update(Dataset)
                .where(Dataset.name == dataset, Dataset.current_version == old)
                .values(current_version=version, updated_at=now, stale_reason=None, stale_since=None)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                raise IntegrityError("pointer moved", None, Exception("concurrent publish"))
        return version

    def snapshot(self, dataset: str) -> Snapshot | None:
        """The published snapshot of `dataset`, or None if nothing was ever published."""
        with self._sessions() as session:
            row = session.execute(
                select(DatasetVersion)
                .join(Dataset, Dataset.name == DatasetVersion.dataset)
                .where(Dataset.name == dataset, DatasetVersion.version == Dataset.current_version)
            ).scalar_one_or_none()
        return None if row is None else self._to_snapshot(row)

    def snapshots(self) -> list[Snapshot]:
        """Every dataset's published snapshot, by name."""
        with self._sessions() as session:
            rows = session.scalars(
                select(DatasetVersion)
                .join(Dataset, Dataset.name == DatasetVersion.dataset)
                .where(DatasetVersion.version == Dataset.current_version)
                .order_by(DatasetVersion.dataset)
            ).all()
        return [self._to_snapshot(r) for r in rows]

    def register(self, engine: AnalyticEngine, datasets: Iterable[str] | None = None) -> list[str]:
        """Expose each published dataset to `engine` as a view of the same name; returns the names."""
        wanted = set(datasets) if datasets is not None else None
        names = []
        for snap in self.snapshots():
            if wanted is not None and snap.dataset not in wanted:
                continue
            engine.register_dataset(snap.dataset, [str(p) for p in snap.paths])
            names.append(snap.dataset)
        return names

    def versions(self, dataset: str) -> list[Snapshot]:
        """Every recorded version of `dataset`, oldest first (their folders may have been pruned since)."""
        with self._sessions() as session:
            rows = session.scalars(
                select(DatasetVersion).where(DatasetVersion.dataset == dataset).order_by(DatasetVersion.version)
            ).all()
        return [self._to_snapshot(r) for r in rows]

    def version(self, dataset: str, version: int) -> Snapshot | None:
        """Version `version` of `dataset`, or None if there is no such version."""
        with self._sessions() as session:
            row = session.scalars(
                select(DatasetVersion).where(DatasetVersion.dataset == dataset, DatasetVersion.version == version)
            ).one_or_none()
        return None if row is None else self._to_snapshot(row)

    def carried_folders(self, snapshot: Snapshot) -> set[Path]:
        """The folders whose rows `snapshot` shows: its own, and those its folders carry over (compaction...)."""
        carried: dict[str, set[str]] = {}
        for v in self.versions(snapshot.dataset):
            if v.carries and v.paths:  # what a version carries over is in its first folder, the rewritten one
                carried.setdefault(self.relative(v.paths[0]), set()).update(v.carries)
        seen: set[str] = set()
        todo = [self.relative(p) for p in snapshot.paths]
        while todo:
            part = todo.pop()
            if part not in seen:
                seen.add(part)
                todo.extend(carried.get(part, ()))
        return {self.root / p for p in seen}

    def mark_stale(self, datasets: Iterable[str], reason: str) -> list[str]:
        """Mark published `datasets` stale for `reason` (until their next publish); returns those marked."""
        names = sorted(set(datasets))
        if not names:
            return []
        with self._sessions.begin() as session:
            found = session.scalars(select(Dataset).where(Dataset.name.in_(names))).all()
            for row in found:
                row.stale_reason, row.stale_since = reason[:300], utcnow()
        return sorted(r.name for r in found)

    def stale(self) -> dict[str, tuple[str, datetime]]:
        """Datasets marked stale: name -> (reason, since)."""
        with self._sessions() as session:
            rows = session.scalars(select(Dataset).where(Dataset.stale_reason.is_not(None))).all()
        return {r.name: (r.stale_reason or "", r.stale_since or r.updated_at) for r in rows}

    def _to_snapshot(self, row: DatasetVersion) -> Snapshot:
        return Snapshot(
            dataset=row.dataset,
            version=row.version,
            paths=tuple(self.root / p for p in row.parts),
            row_count=row.row_count,
            as_of=row.as_of,
            created_at=row.created_at,
            contract_version=row.contract_version,
            note=row.note,
            load_id=row.load_id,
            carries=tuple(row.carries or ()),
        )


@dataclass(frozen=True)
class _Version:
    """What a publish adds: its folders and the facts kept with the version."""

    parts: list[str]
    mode: LoadMode
    row_count: int
    contract_version: int
    as_of: date | None
    load_id: str | None
    note: str | None
    carries: list[str]
