"""The lake: immutable Parquet folders, published by one pointer update in the operational store.

A writer puts new files in a folder no snapshot references yet, then publishes: one transaction
inserts the new version (the list of folders that make up the dataset) and moves the dataset's
pointer to it. A reader in another process resolves the pointer once and reads only folders that are
complete, so it never sees half a snapshot. `replace` versions hold one folder; `append` versions
hold the previous version's folders plus the new one, so a daily file costs only its own rows.
"""

from __future__ import annotations

import random
import secrets
import shutil
import time
from collections.abc import Iterable, Sequence
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
from lingxi.store.tables import Dataset, DatasetVersion

QUARANTINE = "_quarantine"


def utcnow() -> datetime:
    """Naive UTC timestamp: every `*_at` column of the operational store is UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


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

    def quarantine_folder(self, dataset: str, load_id: str) -> Path:
        folder = self.root / QUARANTINE / dataset / load_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def publish(
        self,
        dataset: str,
        folder: Path,
        *,
        mode: LoadMode,
        row_count: int,
        contract_version: int,
        as_of: date | None = None,
        load_id: str | None = None,
    ) -> int:
        """Make `folder` part of the visible dataset; returns the new version number."""
        relative = folder.resolve().relative_to(self.root.resolve()).as_posix()
        for attempt in range(100):
            try:
                return self._publish_once(dataset, relative, mode, row_count, contract_version, as_of, load_id)
            except (IntegrityError, OperationalError) as e:
                # another writer published the same version first (or holds SQLite's write lock): retry
                if isinstance(e, OperationalError) and "locked" not in str(e):
                    raise
                time.sleep(random.uniform(0.001, 0.01) * min(attempt + 1, 10))
        raise StoreError(f"could not publish `{dataset}`: too many concurrent writers", hint="retry the load")

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

    def _publish_once(
        self,
        dataset: str,
        relative: str,
        mode: LoadMode,
        row_count: int,
        contract_version: int,
        as_of: date | None,
        load_id: str | None,
    ) -> int:
        now = utcnow()
        with self._sessions.begin() as session:
            pointer = session.get(Dataset, dataset, with_for_update=True)
            if pointer is None:
                pointer = Dataset(name=dataset, current_version=0, updated_at=now)
                session.add(pointer)
                session.flush()
            previous = None
            if pointer.current_version:
                previous = session.scalars(
                    select(DatasetVersion).where(
                        DatasetVersion.dataset == dataset, DatasetVersion.version == pointer.current_version
                    )
                ).one()
            parts = [relative]
            rows = row_count
            if mode == "append" and previous is not None:
                parts = [*previous.parts, relative]
                rows += previous.row_count
            old = pointer.current_version
            version = old + 1
            session.add(
                DatasetVersion(
                    dataset=dataset,
                    version=version,
                    parts=parts,
                    row_count=rows,
                    contract_version=contract_version,
                    as_of=as_of,
                    load_id=load_id,
                    created_at=now,
                )
            )
            session.flush()
            moved = session.execute(
                update(Dataset)
                .where(Dataset.name == dataset, Dataset.current_version == old)
                .values(current_version=version, updated_at=now)
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

    def _to_snapshot(self, row: DatasetVersion) -> Snapshot:
        return Snapshot(
            dataset=row.dataset,
            version=row.version,
            paths=tuple(self.root / p for p in row.parts),
            row_count=row.row_count,
            as_of=row.as_of,
            created_at=row.created_at,
            contract_version=row.contract_version,
        )
