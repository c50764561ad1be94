"""Reading extracts (Parquet in order, in bounded batches) and partition folder names."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lingxi.ingest.readers import iter_parquet


@pytest.mark.parametrize("batch_rows", [1, 5, 7, 100])
def test_parquet_batches_keep_the_file_order_and_stay_near_the_batch_size(tmp_path: Path, batch_rows: int) -> None:
    path = tmp_path / "mixed.parquet"
    schema = pa.schema([("i", pa.int64())])
    start = 0
    with pq.ParquetWriter(path, schema) as writer:
        for n in [3, 4, 50, 2, 0, 9, 1]:  # small, large and empty row groups
            writer.write_table(pa.table({"i": pa.array(range(start, start + n), pa.int64())}), row_group_size=1000)
            start += n
    batches = list(iter_parquet(path, batch_rows=batch_rows))
    assert [i for b in batches for i in b.column(0).to_pylist()] == list(range(start))
    assert all(b.num_rows < 2 * batch_rows for b in batches)


def test_partition_keys_render_as_hive_folder_values() -> None:
    from dataclasses import replace

    from lingxi.ingest.checks import partition_text
    from lingxi.schema import get_table
    from lingxi.schema.types import Partition

    txns = get_table("transactions")
    assert partition_text(txns, 202611) == "2026-11"
    assert partition_text(get_table("events"), 20261105) == "2026-11-05"
    assert partition_text(replace(txns, partition=Partition("txn_year", "ts", "year")), 2026) == "2026"
    assert partition_text(replace(txns, partition=Partition("by_channel", "channel", "value")), "app") == "app"
    assert partition_text(txns, None) is None
