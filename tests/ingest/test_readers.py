"""Reading extracts: Parquet files are read whole row groups at a time, in order, in bounded batches."""

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
    # gathered row groups stop at the first to reach the batch size; a larger group is sliced
    assert all(b.num_rows < 2 * batch_rows for b in batches)
