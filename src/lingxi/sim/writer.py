"""Deterministic, atomic Parquet parts: the same table always becomes the same bytes.

Byte-identical output for a seed needs fixed writer settings (compression, row-group size, no
statistics surprises) and nothing time-dependent in the file: pyarrow writes no timestamps into
Parquet metadata, and the only key-value metadata is the Arrow schema, which is fixed by the contract.
A part is written to a temporary name and renamed, so a crash never leaves a half-written part that a
resumed run would mistake for a finished one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 131_072
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 3


def part_path(out: Path, table: str, chunk: int) -> Path:
    return out / table / f"part-{chunk:05d}.parquet"


def write_part(table: pa.Table, path: Path) -> None:
    """Write `table` to `path` atomically (temp file + rename) with fixed settings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(
        table,
        tmp,
        row_group_size=ROW_GROUP_ROWS,
        compression=COMPRESSION,
        compression_level=COMPRESSION_LEVEL,
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
    )
    os.replace(tmp, path)
