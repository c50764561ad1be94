"""`lingxi pipeline run` honours LINGXI_ENGINE: its analytic stages run on Spark (seen from the SparkSession's
status tracker) and give what they give on DuckDB; loading stays on DuckDB.

The stages checked are the consent import and the worked example of issue 9, the segments capability's
AUM tier snapshot: written by Spark's executors into the lake, and equal row for row to DuckDB's.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lingxi.cli.main import app
from lingxi.engine.spark import job_group
from lingxi.privacy.tables import ConsentEventRow
from lingxi.segments.service import TIER_DATASET
from lingxi.store import Lake, connect


def _pipeline(runner: CliRunner, monkeypatch: pytest.MonkeyPatch, data: Path, extracts: Path, engine: str) -> str:
    monkeypatch.setenv("LINGXI_DATA_DIR", str(data))
    monkeypatch.setenv("LINGXI_ENGINE", engine)
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["pipeline", "run", "--extracts", str(extracts), "--as-of", "2025-01-31"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _tiers(data: Path) -> list[dict[str, Any]]:
    """The published tier snapshot's rows, sorted, and the version's business date."""
    store = connect(f"sqlite:///{data / 'lingxi.db'}")
    try:
        snapshot = Lake(data / "lake", store).snapshot(TIER_DATASET)
    finally:
        store.dispose()
    assert snapshot is not None and snapshot.as_of == date(2025, 1, 31)
    rows = pq.read_table([str(f) for p in snapshot.paths for f in sorted(p.rglob("*.parquet"))]).to_pylist()
    assert len(rows) == snapshot.row_count
    return sorted(rows, key=lambda r: r["customer_id"])


def _ledger(data: Path) -> list[tuple[Any, ...]]:
    store = connect(f"sqlite:///{data / 'lingxi.db'}")
    try:
        with store.connect() as conn:
            rows = conn.execute(
                select(
                    ConsentEventRow.idempotency_key,
                    ConsentEventRow.customer_id,
                    ConsentEventRow.purpose,
                    ConsentEventRow.channel,
                    ConsentEventRow.status,
                    ConsentEventRow.occurred_at,
                    ConsentEventRow.evidence,
                )
            ).all()
    finally:
        store.dispose()
    return sorted(tuple(r) for r in rows)


@pytest.mark.spark
def test_pipeline_run_uses_spark_when_asked_and_agrees_with_duckdb(  # type: ignore[no-untyped-def]
    spark_session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lingxi.sim import SimConfig, generate

    extracts = tmp_path / "extracts"
    generate(extracts, SimConfig(customers=200, days=10, seed=3))
    monkeypatch.delenv("LINGXI_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    tracker = spark_session.sparkContext.statusTracker()
    group = job_group("consent events of the lake")
    tiers_group = job_group("segments: AUM tier snapshot")
    before = set(tracker.getJobIdsForGroup(group))
    tiers_before = set(tracker.getJobIdsForGroup(tiers_group))

    on_spark = _pipeline(runner, monkeypatch, tmp_path / "spark", extracts, "spark")
    assert "analytic engine: spark; loading on duckdb" in on_spark
    assert set(tracker.getJobIdsForGroup(group)) - before, "the consent stage did not run on the SparkSession"
    assert set(tracker.getJobIdsForGroup(tiers_group)) - tiers_before, "the tier snapshot was not written by Spark"
    assert "200 customers on spark" in on_spark

    on_duckdb = _pipeline(runner, monkeypatch, tmp_path / "duckdb", extracts, "duckdb")
    assert "analytic engine: duckdb" in on_duckdb
    assert "200 customers on duckdb" in on_duckdb
    spark_ledger = _ledger(tmp_path / "spark")
    assert spark_ledger and spark_ledger == _ledger(tmp_path / "duckdb")
    spark_tiers = _tiers(tmp_path / "spark")
    assert len(spark_tiers) == 200 and spark_tiers == _tiers(tmp_path / "duckdb")
    assert len({r["tier"] for r in spark_tiers}) > 1  # not a degenerate bank: several tiers are compared
