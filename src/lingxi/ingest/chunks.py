"""An input cut into chunks of about `chunk_rows` rows, each within one file.

A CSV or fixed-width chunk is an Arrow table (pyarrow parses it; fixed.py cuts the records). A Parquet
chunk is, where no value needs Python, a range of the file's rows that DuckDB reads in place
(`file_row_number` ranges prune row groups): that skips building Arrow strings only to hand them to
DuckDB, a sixth of a Parquet load's time. A mapping that hashes identifiers or asks for the reader
stage (formats.py) needs the values in Python, so its Parquet chunks are Arrow tables too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lingxi.errors import InputError
from lingxi.ingest.fixed import iter_fixed
from lingxi.ingest.readers import Progress, SourceFiles, TextLayout, iter_csv, iter_parquet

ProgressCallback = Callable[[int, int], None]  # (bytes done, bytes total)


@dataclass(frozen=True)
class Chunk:
    """Rows of one file: in memory (`table`), or rows `first` to `end` (0-based, end excluded) of a Parquet file."""

    path: Path
    table: pa.Table | None = None
    first: int = 0
    end: int = 0

    @property
    def num_rows(self) -> int:
        return self.table.num_rows if self.table is not None else self.end - self.first


def parquet_metadata(path: Path) -> pq.FileMetaData:
    try:
        return pq.ParquetFile(path).metadata
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"`{path}` is not a readable Parquet file: {e}") from e


def parquet_ranges(meta: pq.FileMetaData, chunk_rows: int) -> Iterator[tuple[int, int]]:
    """Row ranges of about `chunk_rows` rows that start and end on row-group boundaries where they can."""
    first = end = 0
    for index in range(meta.num_row_groups):
        end += meta.row_group(index).num_rows
        if end - first >= chunk_rows:
            while end - first >= 2 * chunk_rows:  # a large row group is cut; DuckDB filters inside it
                yield first, first + chunk_rows
                first += chunk_rows
            yield first, end
            first = end
    if end > first:
        yield first, end


def iter_batches(
    source: SourceFiles,
    *,
    layout: TextLayout,
    batch_rows: int,
    on_bytes: Progress | None = None,
) -> Iterator[tuple[Path, pa.RecordBatch]]:
    """Every batch of every file of `source`, with the file it came from."""
    for path in source.files:
        batches: Iterator[pa.RecordBatch]
        if source.kind == "parquet":
            batches = iter_parquet(path, batch_rows=batch_rows, on_bytes=on_bytes)
        else:
            read = iter_fixed if source.kind == "fixed" else iter_csv
            batches = read(path, layout=layout, malformed=source.malformed, trailers=source.trailers, on_bytes=on_bytes)
        for batch in batches:
            yield path, batch


def iter_chunks(
    source: SourceFiles,
    *,
    chunk_rows: int,
    layout: TextLayout,
    in_place: bool,
    on_progress: ProgressCallback | None = None,
) -> Iterator[Chunk]:
    """The chunks of every file of `source`, in order; Parquet read in place when `in_place`."""
    done = 0

    def on_bytes(n: int) -> None:
        nonlocal done
        done += n
        if on_progress is not None:
            on_progress(min(done, source.total_bytes), source.total_bytes)

    if source.kind == "parquet" and in_place:
        for path in source.files:
            meta = parquet_metadata(path)
            size, rows = path.stat().st_size, max(meta.num_rows, 1)
            for first, end in parquet_ranges(meta, chunk_rows):
                yield Chunk(path, first=first, end=end)
                on_bytes(int(size * (end - first) / rows))
        return
    pending: list[pa.RecordBatch] = []
    pending_file: Path | None = None
    for path, batch in iter_batches(source, layout=layout, batch_rows=chunk_rows, on_bytes=on_bytes):
        if pending and (path != pending_file or sum(b.num_rows for b in pending) >= chunk_rows):
            yield Chunk(pending_file or path, pa.Table.from_batches(pending))
            pending = []
        pending.append(batch)
        pending_file = path
    if pending:
        yield Chunk(pending_file or source.files[-1], pa.Table.from_batches(pending))
