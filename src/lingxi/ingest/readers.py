"""Reading bank extracts (CSV or Parquet, a file or a folder of them) in bounded-size chunks.

CSV columns are read as text so that a bad value becomes a quarantined row with a reason, not a failed
load; the validator casts them. A row with the wrong number of fields is kept too, as a malformed row.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lingxi.errors import InputError

SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}
Progress = Callable[[int], None]  # called with the number of input bytes just consumed


@dataclass
class MalformedRow:
    """A CSV line that could not be split into the header's fields."""

    file: str
    line: int | None  # the record's number in the file, the header being 1
    text: str
    reason: str


@dataclass
class SourceFiles:
    """The files of one input, with their total size and a content fingerprint."""

    files: list[Path]
    kind: str
    total_bytes: int
    malformed: list[MalformedRow] = field(default_factory=list)

    def fingerprint(self) -> str:
        """SHA-256 over the files' names and contents: the same input always gives the same value."""
        digest = hashlib.sha256()
        for path in self.files:
            digest.update(path.name.encode() + b"\0")
            with path.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
        return digest.hexdigest()


def find_files(path: Path) -> SourceFiles:
    """The CSV or Parquet files at `path` (a file, or a folder searched recursively)."""
    if not path.exists():
        raise InputError(f"`{path}` does not exist", hint="check the path; a folder of CSV or Parquet files works too")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            raise InputError(f"folder `{path}` holds no .csv or .parquet files")
    else:
        files = [path]
    kinds = {SUFFIXES.get(p.suffix.lower()) for p in files}
    if None in kinds:
        raise InputError(
            f"`{path}` is not a CSV or Parquet file",
            hint="name it .csv, .txt, .tsv or .parquet",
        )
    if len(kinds) > 1:
        raise InputError(f"folder `{path}` mixes CSV and Parquet files", hint="load each kind separately")
    return SourceFiles(files=files, kind=kinds.pop() or "csv", total_bytes=sum(p.stat().st_size for p in files))


def detect_encoding(path: Path) -> str:
    """`utf-8` when the first megabyte decodes as UTF-8, else `gb18030` (common in core-banking extracts)."""
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the block's end is not an error
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _header(path: Path, encoding: str, delimiter: str | None) -> tuple[list[str], str]:
    with path.open("r", encoding=encoding, errors="strict", newline="") as handle:
        first = handle.readline()
    first = first.lstrip("\ufeff")
    if not first.strip():
        raise InputError(f"`{path}` is empty or has no header line", hint="the first line must name the columns")
    if delimiter is None:
        counts = {d: first.count(d) for d in (",", "|", "\t", ";")}
        delimiter = max(counts, key=lambda d: counts[d])
    names = next(csv.reader(io.StringIO(first), delimiter=delimiter))
    names = [n.strip() for n in names]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(f"`{path}` has duplicate column names: {', '.join(duplicated)}")
    return names, delimiter


def iter_csv(
    path: Path,
    *,
    encoding: str = "auto",
    delimiter: str | None = None,
    malformed: list[MalformedRow],
    on_bytes: Progress | None = None,
    block_size: int = 16 << 20,
) -> Iterator[pa.RecordBatch]:
    """Record batches of all-text columns from one CSV file."""
    if encoding == "auto":
        encoding = detect_encoding(path)
    try:
        names, delimiter = _header(path, encoding, delimiter)
    except UnicodeDecodeError as e:
        raise InputError(
            f"`{path}` is not valid {encoding} (byte {e.start} of the header)",
            hint="pass --encoding gb18030 or --encoding utf-8",
        ) from e

    first_malformed = len(malformed)

    def keep_malformed(row: Any) -> str:
        malformed.append(
            MalformedRow(
                str(path),
                row.number,
                row.text,
                f"expected {row.expected_columns} fields, found {row.actual_columns}",
            )
        )
        return "skip"

    read_options = pacsv.ReadOptions(
        block_size=block_size, encoding="utf8" if encoding == "utf-8" else encoding, use_threads=True
    )
    parse_options = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=keep_malformed)
    reader = pacsv.open_csv(
        path,
        read_options=read_options,
        parse_options=parse_options,
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
    )
    size = path.stat().st_size
    seen = 0
    try:
        for batch in reader:
            if on_bytes is not None and batch.num_rows:
                # pyarrow does not report its byte position; spread the file's size over its rows
                step = min(size - seen, max(1, int(batch.nbytes * 0.9)))
                seen += step
                on_bytes(step)
            yield batch.rename_columns([n.lstrip("\ufeff").strip() for n in batch.schema.names])
        if len(malformed) > first_malformed:
            # The parallel reader cannot say where a bad line was; one serial pass over this file does.
            del malformed[first_malformed:]
            read_options.use_threads = False
            numbered = pacsv.open_csv(
                path,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=pacsv.ConvertOptions(include_columns=names[:1], column_types={names[0]: pa.string()}),
            )
            for _ in numbered:
                pass
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise InputError(f"cannot read `{path}` as {encoding} CSV: {e}", hint="check --encoding and --delimiter") from e
    if on_bytes is not None and size > seen:
        on_bytes(size - seen)


def iter_parquet(path: Path, *, batch_rows: int, on_bytes: Progress | None = None) -> Iterator[pa.RecordBatch]:
    """Record batches from one Parquet file (used where a mapping hashes identifiers; see chunks.py)."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"`{path}` is not a readable Parquet file: {e}") from e
    size = path.stat().st_size
    total = max(parquet.metadata.num_rows, 1)
    for batch in parquet.iter_batches(batch_size=batch_rows):
        if on_bytes is not None:
            on_bytes(int(size * batch.num_rows / total))
        yield batch


def iter_batches(
    source: SourceFiles,
    *,
    encoding: str,
    delimiter: str | None,
    batch_rows: int,
    on_bytes: Progress | None = None,
) -> Iterator[tuple[Path, pa.RecordBatch]]:
    """Every batch of every file of `source`, with the file it came from."""
    for path in source.files:
        if source.kind == "csv":
            batches = iter_csv(
                path, encoding=encoding, delimiter=delimiter, malformed=source.malformed, on_bytes=on_bytes
            )
        else:
            batches = iter_parquet(path, batch_rows=batch_rows, on_bytes=on_bytes)
        for batch in batches:
            yield path, batch
