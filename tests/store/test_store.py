"""The operational store on SQLite and PostgreSQL: migrations, snapshot publishing, concurrency."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy
from sqlalchemy import inspect, text

from lingxi.errors import StoreError
from lingxi.store import Lake, connect, migrate, require_migrated
from lingxi.store.db import alembic_config, current_revision, head_revision


def test_migrations_create_the_tables_and_are_idempotent(store: sqlalchemy.Engine) -> None:
    names = set(inspect(store).get_table_names())
    assert {"lx_dataset", "lx_dataset_version", "lx_load", "alembic_version"} <= names
    migrate(store)  # a second run changes nothing and does not fail
    assert current_revision(store) == head_revision()
    require_migrated(store)


def test_downgrade_then_upgrade_round_trips(store: sqlalchemy.Engine) -> None:
    from alembic import command

    command.downgrade(alembic_config(store), "base")
    assert "lx_dataset" not in inspect(store).get_table_names()
    migrate(store)
    assert "lx_dataset" in inspect(store).get_table_names()


def test_unmigrated_store_is_refused_with_a_hint(store_url: str) -> None:
    engine = connect(store_url)
    with pytest.raises(StoreError, match="not initialised") as info:
        require_migrated(engine)
    assert "lingxi init" in str(info.value)
    engine.dispose()


def test_sqlite_store_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def _write_rows(folder: Path, n: int, marker: int) -> None:
    pq.write_table(
        pa.table({"customer_id": [f"C{i}" for i in range(n)], "marker": [marker] * n}), folder / "part-0.parquet"
    )


def test_replace_publishes_one_folder_and_append_accumulates(store: sqlalchemy.Engine, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake", store)
    assert lake.snapshot("customers") is None
    first = lake.new_folder("customers")
    _write_rows(first, 3, 1)
    assert lake.publish("customers", first, mode="replace", row_count=3, contract_version=1) == 1
    second = lake.new_folder("customers")
    assert lake.publish("customers", second, mode="replace", row_count=5, contract_version=1) == 2
    snap = lake.snapshot("customers")
    assert snap is not None and snap.paths == (second,) and snap.row_count == 5

    a, b = lake.new_folder("transactions"), lake.new_folder("transactions")
    lake.publish("transactions", a, mode="append", row_count=10, contract_version=1)
    lake.publish("transactions", b, mode="append", row_count=7, contract_version=1)
    snap = lake.snapshot("transactions")
    assert snap is not None and snap.paths == (a, b) and snap.row_count == 17 and snap.version == 2
    assert [s.dataset for s in lake.snapshots()] == ["customers", "transactions"]


def test_concurrent_publishers_get_distinct_consecutive_versions(store: sqlalchemy.Engine, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake", store)
    errors: list[BaseException] = []

    def publish_many() -> None:
        try:
            for _ in range(10):
                lake.publish("events", lake.new_folder("events"), mode="append", row_count=1, contract_version=1)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=publish_many) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    snap = lake.snapshot("events")
    assert snap is not None
    assert snap.version == 30 and snap.row_count == 30 and len(set(snap.paths)) == 30


def _writer(url: str, root: str, rounds: int, rows: int) -> None:
    engine = connect(url)
    lake = Lake(Path(root), engine)
    for marker in range(1, rounds + 1):
        folder = lake.new_folder("customers")
        for part in range(4):  # several files per snapshot, written one after another
            pq.write_table(pa.table({"marker": [marker] * rows}), folder / f"part-{part}.parquet")
        lake.publish("customers", folder, mode="replace", row_count=rows * 4, contract_version=1)
    engine.dispose()


def test_reader_in_another_process_never_sees_half_a_snapshot(store_url: str, tmp_path: Path) -> None:
    from lingxi.engine.duckdb import DuckDBEngine

    engine = connect(store_url)
    migrate(engine)
    root = tmp_path / "lake"
    lake = Lake(root, engine)
    rows = 250
    writer = multiprocessing.get_context("spawn").Process(target=_writer, args=(store_url, str(root), 25, rows))
    writer.start()
    seen = set()
    duck = DuckDBEngine()
    while writer.is_alive() or not seen:
        snap = lake.snapshot("customers")
        if snap is None:
            continue
        duck.register_dataset("customers", [str(p) for p in snap.paths])
        result = duck.run("SELECT count(*) AS n, count(DISTINCT marker) AS m FROM customers", label="read")
        assert result.to_pylist() == [{"n": rows * 4, "m": 1}]
        seen.add(snap.version)
    writer.join()
    assert writer.exitcode == 0
    assert len(seen) >= 1
    engine.dispose()
