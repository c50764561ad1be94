"""Corrections without loss: rollback, period replacement, compaction and retention of lake versions."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from lingxi.auth.audit import Who
from lingxi.auth.tables import AuditEntry
from lingxi.errors import InputError, StoreError
from lingxi.ingest.compact import compact, compact_stage
from lingxi.ingest.replace import Period
from lingxi.ingest.rollback import rollback
from lingxi.pipeline import StageContext
from lingxi.privacy import correction, dsr
from lingxi.segments.service import TIER_DATASET, publish_tier_snapshot
from lingxi.store.lake import utcnow
from lingxi.store.retention import prune

from .. import factories
from .conftest import Loader

KEY = "test-key"
OPERATOR = Who("cli:ops")


def days_of_transactions(ids: list[str], days: int = 3, per_day: int = 40) -> dict[int, list[dict[str, Any]]]:
    """`per_day` transactions on each of 2026-11-01.. (txn ids rise through the days)."""
    rows = factories.transactions(days * per_day, ids)
    out: dict[int, list[dict[str, Any]]] = {}
    for i, row in enumerate(rows):
        day = i // per_day + 1
        row["ts"] = f"2026-11-{day:02d} {8 + i % 10:02d}:{i % 60:02d}:00"
        out.setdefault(day, []).append(row)
    return out


def lake_rows(loader: Loader, table: str, order: str = "txn_id") -> list[dict[str, Any]]:
    return loader.rows(table, f"SELECT * EXCLUDE (txn_month) FROM {table} ORDER BY {order}")


def audit_actions(loader: Loader) -> list[tuple[str, str | None]]:
    with loader.lake.store.connect() as conn:
        return [(r.action, r.target) for r in conn.execute(select(AuditEntry).order_by(AuditEntry.seq))]


# --- rollback --------------------------------------------------------------------------------------------------


def test_rollback_publishes_the_earlier_version_again_as_a_new_version(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    days = days_of_transactions(ids)
    for day, rows in days.items():
        assert loader("transactions", factories.write_csv(tmp_path / f"d{day}.csv", rows)).version == day
    report = rollback(loader.lake, "transactions", actor=OPERATOR, hash_key=KEY)  # default: the one before
    assert (report.from_version, report.to_version, report.version) == (3, 2, 4)
    assert [r["txn_id"] for r in lake_rows(loader, "transactions")] == sorted(r["txn_id"] for r in days[1] + days[2])
    snap = loader.lake.snapshot("transactions")
    earlier = loader.lake.version("transactions", 2)
    assert snap is not None and earlier is not None
    assert snap.paths == earlier.paths and snap.row_count == 80 and snap.note == "rollback to version 2"
    # versions only go forward: rolling "forward" is a rollback to the version rolled back from
    assert rollback(loader.lake, "transactions", to=3, actor=OPERATOR, hash_key=KEY).version == 5
    assert len(lake_rows(loader, "transactions")) == 120
    assert audit_actions(loader)[-2:] == [("lake_rollback", "dataset:transactions")] * 2
    # a re-sent day is still known as loaded after going back and forth
    assert loader("transactions", tmp_path / "d3.csv").status == "unchanged"


def test_rollback_refuses_versions_that_are_not_earlier_or_no_longer_kept(loader: Loader, tmp_path: Path) -> None:
    loader.base()
    with pytest.raises(InputError, match="single version"):
        rollback(loader.lake, "customers", actor=OPERATOR, hash_key=KEY)
    for n in (2, 3):
        loader("customers", factories.write_csv(tmp_path / f"c{n}.csv", factories.customers(40, seed=n)))
    with pytest.raises(InputError, match="it is at version 3"):
        rollback(loader.lake, "customers", to=3, actor=OPERATOR, hash_key=KEY)
    # retention: versions superseded before the cutoff lose their folders and cannot come back
    report = prune(loader.lake, keep_days=1, now=utcnow() + timedelta(days=2))
    assert report.versions_expired["customers"] == [1, 2] and report.folders["customers"] == 2
    with pytest.raises(InputError, match="no longer kept") as info:
        rollback(loader.lake, "customers", to=1, actor=OPERATOR, hash_key=KEY)
    assert "lingxi lake prune" in str(info.value) and "lingxi lake versions customers" in str(info.value.hint)
    snap = loader.lake.snapshot("customers")
    assert snap is not None and all(p.is_dir() for p in snap.paths)  # the current version is never pruned


def two_days_then_an_erasure(
    loader: Loader, tmp_path: Path, *, scrub: bool
) -> tuple[dict[int, list[dict[str, Any]]], str]:
    """Two daily transaction loads (versions 1 and 2), then the erasure of a customer of day 1."""
    days = days_of_transactions(loader.base())
    for day in (1, 2):
        loader("transactions", factories.write_csv(tmp_path / f"d{day}.csv", days[day]))
    gone = str(days[1][0]["customer_id"])
    dsr.erase_customer(loader.lake, loader.engine, gone, actor=Who("dpo"), hash_key=KEY, scrub_superseded=scrub)
    return days, gone


def test_an_erased_customer_does_not_come_back_with_a_rollback(loader: Loader, tmp_path: Path) -> None:
    days, gone = two_days_then_an_erasure(loader, tmp_path, scrub=True)
    theirs = {r["txn_id"] for r in days[1] + days[2] if r["customer_id"] == gone}
    assert theirs
    # the erasure reached the earlier versions too: they stay available for rollback, without the customer
    first = loader.lake.version("transactions", 1)
    assert first is not None and all(p.is_dir() for p in first.paths)
    report = rollback(loader.lake, "transactions", to=1, actor=OPERATOR, hash_key=KEY)
    rows = lake_rows(loader, "transactions")
    assert gone not in {r["customer_id"] for r in rows}
    assert {r["txn_id"] for r in rows} == {r["txn_id"] for r in days[1]} - theirs
    assert report.row_count == len(rows) and report.rows_erased == 0  # nothing left to re-apply


def test_a_rollback_re_applies_erasures_to_files_an_erasure_did_not_reach(loader: Loader, tmp_path: Path) -> None:
    """The registry is consulted as the version is published again (a second line of defence)."""
    days, gone = two_days_then_an_erasure(loader, tmp_path, scrub=False)
    report = rollback(loader.lake, "transactions", to=1, actor=OPERATOR, hash_key=KEY)
    assert report.rows_erased == sum(r["customer_id"] == gone for r in days[1]) > 0
    assert gone not in {r["customer_id"] for r in lake_rows(loader, "transactions")}
    snap = loader.lake.snapshot("transactions")
    assert snap is not None and snap.row_count == len(days[1]) - report.rows_erased


def test_a_rollback_keeps_corrections_made_since(loader: Loader, tmp_path: Path) -> None:
    loader.base()
    loader("customers", factories.write_csv(tmp_path / "c2.csv", factories.customers(40, seed=2)))
    correction.correct_customer(loader.lake, "C000002", {"name": "李四"}, actor=Who("dpo"), hash_key=KEY)
    report = rollback(loader.lake, "customers", to=1, actor=OPERATOR, hash_key=KEY)
    assert report.corrections == 1
    rows = {r["customer_id"]: r for r in loader.rows("customers")}
    assert rows["C000002"]["name"] == "李四"
    assert rows["C000003"]["name"] == factories.customers(40)[2]["name"]  # version 1's data otherwise


def test_a_rollback_marks_the_tier_snapshot_stale_until_it_is_computed_again(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    holdings = [
        {"snapshot_date": "2026-11-01", "customer_id": c, "product_id": "P001", "balance": "1000.00"} for c in ids
    ]
    loader("holdings", factories.write_csv(tmp_path / "h1.csv", holdings))
    loader(
        "holdings", factories.write_csv(tmp_path / "h2.csv", [dict(r, snapshot_date="2026-11-02") for r in holdings])
    )
    assert publish_tier_snapshot(loader.lake, loader.engine) is not None
    report = rollback(loader.lake, "holdings", actor=OPERATOR, hash_key=KEY)
    assert report.stale == [TIER_DATASET]
    reason, _ = loader.lake.stale()[TIER_DATASET]
    assert reason == f"holdings: rollback to version 1 (version {report.version})"
    publish_tier_snapshot(loader.lake, loader.engine)  # the pipeline's tiers stage
    assert loader.lake.stale() == {}


# --- replacing a period ----------------------------------------------------------------------------------------


def test_a_wrong_day_is_replaced_by_its_corrected_file(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    days = days_of_transactions(ids)
    for day, rows in days.items():
        loader("transactions", factories.write_csv(tmp_path / f"d{day}.csv", rows))
    fixed = [dict(r, amount="12.34") for r in days[2][:-5]]  # five rows of the wrong day should not be there
    path = factories.write_csv(tmp_path / "d2-fixed.csv", fixed)
    refused = loader("transactions", path)  # as an append: every key is already loaded
    assert refused.status == "rejected" and refused.reasons == {"key: key_already_loaded": len(fixed)}
    report = loader("transactions", path, replace=Period.parse("2026-11-02"), actor="cli:ops")
    assert report.status == "published" and report.version == 4
    rows = lake_rows(loader, "transactions")
    expected = {r["txn_id"]: r["amount"] for r in days[1] + days[3] + fixed}
    assert {r["txn_id"]: str(r["amount"]) for r in rows} == expected
    snap = loader.lake.snapshot("transactions")
    assert snap is not None and snap.row_count == len(expected) and snap.note == "replace 2026-11-02"
    assert ("lake_replace", "dataset:transactions") in audit_actions(loader)
    # the other days' files are still known as loaded; the old wrong day is not part of the data any more
    assert loader("transactions", tmp_path / "d1.csv").status == "unchanged"


def test_a_replacement_with_rows_outside_the_period_is_refused_and_changes_nothing(
    loader: Loader, tmp_path: Path
) -> None:
    ids = loader.base()
    days = days_of_transactions(ids)
    loader("transactions", factories.write_csv(tmp_path / "d1.csv", days[1] + days[2]))
    folders = set((loader.lake.root / "transactions").iterdir())
    mixed = factories.write_csv(tmp_path / "mixed.csv", days[2] + days[3][:7])
    with pytest.raises(InputError, match="7 rows of the file have `ts` outside 2026-11-02") as info:
        loader("transactions", mixed, replace=Period.parse("2026-11-02"))
    assert "2026-11-03" in str(info.value)  # an example of a value outside
    snap = loader.lake.snapshot("transactions")
    assert snap is not None and snap.version == 1
    assert set((loader.lake.root / "transactions").iterdir()) == folders  # no base or load folder left behind


def test_a_month_of_holdings_is_replaced_whatever_the_partitioning(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base(10)
    rows = [
        {"snapshot_date": f"2026-{m:02d}-28", "customer_id": c, "product_id": "P001", "balance": "100.00"}
        for m in (10, 11)
        for c in ids
    ]
    loader("holdings", factories.write_csv(tmp_path / "h.csv", rows))  # one load, both months
    fixed = [dict(r, balance="7.00") for r in rows if r["snapshot_date"].startswith("2026-11")][:6]
    report = loader("holdings", factories.write_csv(tmp_path / "h11.csv", fixed), replace=Period.parse("2026-11"))
    assert report.status == "published"
    found = loader.rows("holdings", "SELECT snapshot_date, balance FROM holdings")
    assert sum(1 for r in found if str(r["snapshot_date"]).startswith("2026-10")) == 10
    assert [str(r["balance"]) for r in found if str(r["snapshot_date"]).startswith("2026-11")] == ["7.00"] * 6


def test_replace_is_refused_for_tables_replaced_whole_and_for_bad_periods(loader: Loader, tmp_path: Path) -> None:
    loader.base()
    with pytest.raises(InputError, match="replaced whole by each load"):
        loader("customers", tmp_path / "base" / "customers.csv", replace=Period.parse("2026-11-03"))
    for text in ("2026-13", "2026-11-31", "yesterday", "2026/11/03"):
        with pytest.raises(InputError, match="not a day or a month"):
            Period.parse(text)
    assert Period.parse("2026-12").end.isoformat() == "2027-01-01"


# --- compaction ------------------------------------------------------------------------------------------------


def test_compaction_merges_each_partition_into_one_sorted_file_with_the_same_rows(
    loader: Loader, tmp_path: Path
) -> None:
    ids = loader.base()
    days = days_of_transactions(ids, days=4)
    days[4] = [dict(r, ts=r["ts"].replace("2026-11", "2026-10")) for r in days[4]]  # a second month
    for day, rows in days.items():
        loader("transactions", factories.write_csv(tmp_path / f"d{day}.csv", rows))
    before = lake_rows(loader, "transactions")
    report = compact(loader.lake, loader.engine, "transactions", hash_key=KEY, min_files=2)
    assert report.version == 5 and report.groups == {"txn_month=2026-11": 3}  # October has one file: linked
    assert (report.files_in, report.files_out, report.rows) == (3, 2, len(before))
    assert lake_rows(loader, "transactions") == before
    snap = loader.lake.snapshot("transactions")
    assert snap is not None and len(snap.paths) == 1 and snap.note == "compaction"
    merged = pq.read_table(snap.paths[0] / "txn_month=2026-11" / "part-00000.parquet").to_pylist()
    keys = [(r["customer_id"], r["ts"]) for r in merged]
    assert keys == sorted(keys) and len(merged) == 120
    assert pq.read_schema(snap.paths[0] / "txn_month=2026-11" / "part-00000.parquet") == pq.read_schema(
        next((snap.paths[0] / "txn_month=2026-10").glob("*.parquet"))
    )
    # an extract loaded before compaction is still loaded; nothing left to merge the second time
    assert loader("transactions", tmp_path / "d2.csv").status == "unchanged"
    assert compact(loader.lake, loader.engine, "transactions", hash_key=KEY).version is None


def test_the_compact_stage_waits_for_enough_files_and_prunes_expired_versions(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    for day, rows in days_of_transactions(ids, days=3).items():
        loader("transactions", factories.write_csv(tmp_path / f"d{day}.csv", rows))
    ctx = StageContext(lake=loader.lake, engine=loader.engine, loader=loader.engine, hash_key=KEY)
    ctx.compact_min_files, ctx.version_retention_days = 4, 30
    assert compact_stage(ctx) == "nothing to compact"
    ctx.compact_min_files, ctx.version_retention_days = 3, 0
    summary = compact_stage(ctx)
    assert "transactions 3 files -> 1 (version 4)" in summary and "pruned" in summary
    snap = loader.lake.snapshot("transactions")
    assert snap is not None
    assert sorted(p for p in (loader.lake.root / "transactions").iterdir()) == list(snap.paths)


def test_a_second_writer_waits_for_the_dataset_lock_and_is_told_who_holds_it(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    for day, rows in days_of_transactions(ids, days=2).items():
        loader("transactions", factories.write_csv(tmp_path / f"d{day}.csv", rows))
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with loader.lake.writing("transactions", "load of d3.csv"):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)
    try:
        with pytest.raises(StoreError, match=r"being written by load of d3.csv \(pid \d+"):
            compact(loader.lake, loader.engine, "transactions", hash_key=KEY, wait=0.2)
    finally:
        release.set()
        thread.join()
    assert compact(loader.lake, loader.engine, "transactions", hash_key=KEY).version == 3
