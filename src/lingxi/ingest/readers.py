"""Reading bank extracts (CSV, fixed-width or Parquet, a file or a folder of them) in bounded-size chunks.

CSV columns are read as text so that a bad value becomes a quarantined row with a reason, not a failed
load; the validator casts them. A row with the wrong number of fields is kept too, as a malformed row.
A delimited file may be headerless (the mapping names its fields), start with lines to skip and end
with a trailer record, which is left out of the data and kept for the control totals (control.py).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lingxi.errors import InputError

# The format an extension means when neither --format nor the mapping says (`.del`: DB2's delimited unload).
SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".del": "csv", ".parquet": "parquet", ".pq": "parquet"}
# The files of a folder that are read once the format is known (`.asc` and `.dat` may be either text kind).
FORMAT_SUFFIXES = {
    "csv": (".csv", ".txt", ".tsv", ".del", ".asc", ".dat"),
    "fixed": (".txt", ".asc", ".dat", ".fix"),
    "parquet": (".parquet", ".pq"),
}
FORMAT_HINT = (
    "say what it is with --format csv (delimited: .asc, .del, .dat unloads too), --format fixed (fixed-width) "
    "or --format parquet, or with `file: {format: ...}` in the mapping (see docs/loading.md#unloads)"
)
Progress = Callable[[int], None]  # called with the number of input bytes just consumed


@dataclass
class MalformedRow:
    """A CSV line that could not be split into the header's fields."""

    file: str
    line: int | None  # the record's number in the file, the header being 1
    text: str
    reason: str
    row: int | None = None  # as the quarantine numbers rows: from 1 for the first data record


@dataclass
class SourceFiles:
    """The files of one input, with their total size and a content fingerprint."""

    files: list[Path]
    kind: str
    total_bytes: int
    malformed: list[MalformedRow] = field(default_factory=list)
    trailers: dict[Path, str] = field(default_factory=dict)  # each file's trailer record, when it has one

    def fingerprint(self) -> str:
        """SHA-256 over the files' names and contents: the same input always gives the same value."""
        digest = hashlib.sha256()
        for path in self.files:
            digest.update(path.name.encode() + b"\0")
            with path.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
        return digest.hexdigest()


def find_files(path: Path, fmt: str | None = None) -> SourceFiles:
    """The files at `path` (a file, or a folder searched recursively) read as `fmt`, else by extension."""
    if not path.exists():
        raise InputError(f"`{path}` does not exist", hint="check the path; a folder of CSV or Parquet files works too")
    if path.is_dir():
        wanted = FORMAT_SUFFIXES[fmt] if fmt else tuple(SUFFIXES)
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in wanted)
        if not files:
            raise InputError(f"folder `{path}` holds no {', '.join(wanted)} files", hint=FORMAT_HINT)
    else:
        files = [path]
    if fmt is not None:
        return SourceFiles(files=files, kind=fmt, total_bytes=sum(p.stat().st_size for p in files))
    kinds = {SUFFIXES.get(p.suffix.lower()) for p in files}
    if None in kinds:
        raise InputError(
            f"`{path}` is not a file Lingxi reads by its extension ({path.suffix or 'none'})", hint=FORMAT_HINT
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


@dataclass(frozen=True)
class TextLayout:
    """How a text file is read: encoding, separator, header or field names, lines around the data."""

    encoding: str = "auto"
    delimiter: str | None = None  # detected from the first line when None
    header: bool = True
    names: tuple[str, ...] = ()  # a headerless file's field names, in order
    skip_lines: int = 0  # lines before the header or the first data record
    quote: str | None = '"'
    trailer: str | None = None  # regular expression of a trailer record on the file's last line
    fields: tuple[tuple[str, int, int], ...] = ()  # fixed width: name, first byte (0-based), end byte (excluded)
    pad_short_lines: bool = False  # fixed width: a shorter line has empty trailing fields

    @property
    def first_data_line(self) -> int:
        """The line number (from 1) of the first data record."""
        return self.skip_lines + (1 if self.header else 0) + 1


def resolve_encoding(path: Path, encoding: str) -> str:
    return detect_encoding(path) if encoding == "auto" else encoding


def split_trailer(path: Path, encoding: str, pattern: str) -> tuple[int, str]:
    """The byte length of the data before the trailer record on the last line, and the trailer's text.

    A missing trailer most often means a file cut short in transit, so it stops the load.
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        start = max(0, size - (1 << 16))
        handle.seek(start)
        tail = handle.read()
    tail = tail.rstrip(b"\r\n\x1a")  # \x1a: the end-of-file mark some DOS-era unloads still write
    line_start = tail.rfind(b"\n") + 1
    if line_start == 0 and start > 0:
        raise InputError(f"the last line of `{path}` is longer than 64 KiB; it cannot be a trailer record")
    try:
        line = tail[line_start:].decode(encoding).rstrip("\r")
    except UnicodeDecodeError as e:
        raise InputError(f"the last line of `{path}` is not valid {encoding}", hint="check the encoding") from e
    if not re.search(pattern, line):
        shown = line if len(line) <= 80 else line[:77] + "..."
        raise InputError(
            f"the last line of `{path}` is not a trailer record matching `{pattern}`: {shown!r}",
            hint="a file cut short in transit has no trailer: ask the sender for it again "
            "(or correct control.trailer in the mapping)",
        )
    return start + line_start, line


def _open(path: Path, data_end: int | None) -> str | pa.NativeFile:
    """The file, or only its first `data_end` bytes (the records before a trailer), memory-mapped."""
    if data_end is None:
        return str(path)
    return pa.BufferReader(pa.memory_map(str(path)).read_buffer(data_end))


def _first_line(path: Path, encoding: str, layout: TextLayout, data_end: int | None) -> str:
    """The header line, or a headerless file's first record (empty when there is none)."""
    with path.open("rb") as handle:
        for _ in range(layout.skip_lines):
            handle.readline()
        start = handle.tell()
        first = handle.readline()
    if data_end is not None and start >= data_end:
        first = b""
    return first.decode(encoding).lstrip("\ufeff")


def _header(path: Path, encoding: str, layout: TextLayout, data_end: int | None) -> tuple[list[str], str]:
    first = _first_line(path, encoding, layout, data_end)
    if not first.strip():
        what = "has no header line" if layout.header else "has no data line"
        raise InputError(f"`{path}` is empty or {what}", hint="the first line must name the columns")
    delimiter = layout.delimiter
    if delimiter is None:
        counts = {d: first.count(d) for d in (",", "|", "\t", ";", "\x1e", "\x1f", "\x01")}
        delimiter = max(counts, key=lambda d: counts[d])
    quoting = {"quotechar": layout.quote} if layout.quote else {"quoting": csv.QUOTE_NONE}
    fields = [n.strip() for n in next(csv.reader(io.StringIO(first), delimiter=delimiter, **quoting))]
    if not layout.header:
        if len(fields) != len(layout.names):
            raise InputError(
                f"the first line of `{path}` has {len(fields)} fields, but the mapping names {len(layout.names)} "
                f"(file.columns: {', '.join(layout.names)})",
                hint="name every field of the file, in order, in file.columns (check file.delimiter)",
            )
        return list(layout.names), delimiter
    duplicated = sorted({n for n in fields if fields.count(n) > 1})
    if duplicated:
        raise InputError(f"`{path}` has duplicate column names: {', '.join(duplicated)}")
    return fields, delimiter


def iter_csv(
    path: Path,
    *,
    layout: TextLayout | None = None,
    malformed: list[MalformedRow],
    trailers: dict[Path, str] | None = None,
    on_bytes: Progress | None = None,
    block_size: int = 16 << 20,
) -> Iterator[pa.RecordBatch]:
    """Record batches of all-text columns from one delimited file."""
    layout = layout or TextLayout()
    encoding = resolve_encoding(path, layout.encoding)
    data_end = None
    try:
        if layout.trailer is not None:
            data_end, trailer = split_trailer(path, encoding, layout.trailer)
            if trailers is not None:
                trailers[path] = trailer
        names, delimiter = _header(path, encoding, layout, data_end)
    except UnicodeDecodeError as e:
        raise InputError(
            f"`{path}` is not valid {encoding} (byte {e.start} of the first line)",
            hint="pass --encoding gb18030 or --encoding utf-8",
        ) from e

    first_malformed = len(malformed)
    offset = layout.first_data_line - 1

    def keep_malformed(row: Any) -> str:
        malformed.append(
            MalformedRow(
                str(path),
                row.number,
                row.text,
                f"expected {row.expected_columns} fields, found {row.actual_columns}",
                None if row.number is None else row.number - offset,
            )
        )
        return "skip"

    read_options = pacsv.ReadOptions(
        block_size=block_size,
        encoding="utf8" if encoding == "utf-8" else encoding,
        use_threads=True,
        skip_rows=layout.skip_lines,
        column_names=None if layout.header else names,
    )
    parse_options = pacsv.ParseOptions(
        delimiter=delimiter, quote_char=layout.quote or False, invalid_row_handler=keep_malformed
    )
    reader = pacsv.open_csv(
        _open(path, data_end),
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
                _open(path, data_end),
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
