"""The rest of the Engine interface on every engine: stream, execute, explain, write_snapshot, bound values,
and Lake.publish_query; on Spark, that each action runs under its job group `lingxi:<label>`."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lingxi.engine import Engine
from lingxi.errors import EngineError
from lingxi.store import Lake

from .test_engines import normalise

SPEND = (
    "SELECT customer_id, direction, sum(amount) AS total, count(*) AS n FROM transactions "
    "GROUP BY customer_id, direction"
)


def test_stream_reads_the_result_in_bounded_batches(engine: Engine) -> None:
    query = "SELECT txn_id, customer_id, amount, ts FROM transactions"
    reader = engine.stream(query, label="stream transactions", batch_rows=300)
    batches = list(reader)
    assert all(b.num_rows <= 300 for b in batches) and len(batches) >= 7
    streamed = pa.Table.from_batches(batches, schema=reader.schema)
    assert streamed.num_rows == 2000
    assert normalise(streamed) == normalise(engine.run(query, label="all transactions"))


def test_values_are_bound_not_formatted(engine: Engine) -> None:
    query = "SELECT count(*) AS n FROM customers WHERE customer_id = ?"
    assert engine.run(query, label="one customer", params=["C000001"]).to_pylist() == [{"n": 1}]
    hostile = "C000001' OR '1'='1"
    assert engine.run(query, label="hostile", params=[hostile]).to_pylist() == [{"n": 0}]
    rows = pa.Table.from_batches(list(engine.stream(query, label="streamed", params=[hostile])))
    assert rows.to_pylist() == [{"n": 0}]


def test_execute_runs_a_statement_for_its_effect(engine: Engine) -> None:
    engine.execute(
        "CREATE OR REPLACE TEMP VIEW lx_tmp_credits AS SELECT * FROM transactions WHERE direction = 'credit'",
        label="credits view",
    )
    credits = engine.run("SELECT count(*) AS n FROM lx_tmp_credits", label="credits")
    expected = engine.run("SELECT count(*) AS n FROM transactions WHERE direction = 'credit'", label="count")
    assert credits.to_pylist() == expected.to_pylist() and credits.column("n")[0].as_py() > 0
    with pytest.raises(EngineError, match="broken statement"):
        engine.execute("CREATE OR REPLACE TEMP VIEW lx_tmp_bad AS SELECT nope FROM customers", label="broken statement")


def test_explain_gives_the_engines_plan(engine: Engine) -> None:
    plan = engine.explain("SELECT branch_id, count(*) AS n FROM customers GROUP BY branch_id", label="plan")
    assert isinstance(plan, str) and "branch_id" in plan


def _files_sorted_by(folder: Path, column: str) -> bool:
    files = sorted(folder.rglob("*.parquet"))
    assert files, f"no Parquet file under {folder}"
    for path in files:
        values = pq.read_table(path).column(column).to_pylist()
        if values != sorted(values):
            return False
    return True


def test_write_snapshot_writes_sorted_parquet_files(engine: Engine, reference: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "spend"
    folder.mkdir()
    rows = engine.write_snapshot(SPEND, folder, label="spend snapshot", sort_by=["customer_id"])
    expected = reference.run(SPEND, label="spend")
    assert rows == expected.num_rows > 0
    assert _files_sorted_by(folder, "customer_id")
    reference.register_dataset("lx_tmp_written", [str(folder)])
    assert normalise(reference.run("SELECT * FROM lx_tmp_written", label="read back")) == normalise(expected)


def test_write_snapshot_partitions_hive_style(engine: Engine, reference: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "spend"
    folder.mkdir()
    rows = engine.write_snapshot(
        SPEND, folder, label="partitioned spend", partition_by=["direction"], sort_by=["customer_id"]
    )
    expected = reference.run(SPEND, label="spend")
    assert rows == expected.num_rows
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["direction=credit", "direction=debit"]
    assert _files_sorted_by(folder, "customer_id")
    reference.register_dataset("lx_tmp_partitioned", [str(folder)])
    back = reference.run("SELECT customer_id, direction, total, n FROM lx_tmp_partitioned", label="read back")
    assert normalise(back) == normalise(expected)


def test_write_snapshot_needs_an_empty_folder(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "old.parquet").write_bytes(b"")
    with pytest.raises(EngineError, match="must exist and be empty"):
        engine.write_snapshot(SPEND, tmp_path, label="into a used folder")


def test_publish_query_writes_and_publishes_a_new_snapshot(engine: Engine, reference: Engine, bank_lake: Lake) -> None:
    dataset = f"lx_test_spend_{engine.name}"
    first = bank_lake.publish_query(engine, dataset, SPEND, label="publish spend")
    expected = reference.run(SPEND, label="spend")
    assert first.row_count == expected.num_rows and first.contract_version == 0
    second = bank_lake.publish_query(
        engine, dataset, SPEND + " HAVING count(*) > 1", label="publish spend again", sort_by=()
    )
    assert second.version == first.version + 1 and second.paths != first.paths
    assert bank_lake.snapshot(dataset) == second
    bank_lake.register(reference, [dataset])
    back = reference.run(f"SELECT * FROM {dataset}", label="published")
    assert normalise(back) == normalise(reference.run(SPEND + " HAVING count(*) > 1", label="expected"))


def test_a_failed_write_publishes_nothing_and_leaves_no_folder(engine: Engine, bank_lake: Lake) -> None:
    dataset = f"lx_test_broken_{engine.name}"
    with pytest.raises(EngineError, match="broken publish"):
        bank_lake.publish_query(engine, dataset, "SELECT nope FROM customers", label="broken publish", sort_by=())
    assert bank_lake.snapshot(dataset) is None
    assert not any((bank_lake.root / dataset).iterdir())


@pytest.mark.spark
def test_spark_actions_run_under_their_job_group(spark_session, bank_lake: Lake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from lingxi.engine.spark import SparkEngine, job_group

    engine = SparkEngine(spark_session)
    bank_lake.register(engine)
    tracker = spark_session.sparkContext.statusTracker()
    folder = tmp_path / "spend"
    folder.mkdir()
    engine.write_snapshot(SPEND, folder, label="tier snapshot test", sort_by=["customer_id"])
    assert tracker.getJobIdsForGroup(job_group("tier snapshot test")), "the write ran outside its job group"
    assert job_group("tier snapshot test") == "lingxi:tier snapshot test"
    list(engine.stream("SELECT * FROM customers", label="stream test", batch_rows=10))
    assert tracker.getJobIdsForGroup("lingxi:stream test")
    engine.run("SELECT count(*) FROM transactions", label="run test")
    assert tracker.getJobIdsForGroup("lingxi:run test")
    assert spark_session.sparkContext.getLocalProperty("spark.jobGroup.id") is None, "the group was not reset"
