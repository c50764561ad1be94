"""Fixed-width files: every record cut into fields at byte positions, as DB2's ASC unloads and COBOL
copybooks define them.

Positions count bytes in the file's encoding, not characters: a 10-byte GB18030 name field holds five
Chinese characters, and a UTF-8 one three. So the records are cut as bytes (Arrow's `binary_slice`, no
Python loop per value) and each field is decoded afterwards; a field that cuts a character in two is an
error naming the field and the line, as it means the layout or the encoding is wrong. A line of another
length than the record is a malformed row, quarantined and counted like a CSV line with the wrong
number of fields (`file.short_lines: pad` accepts shorter lines, as unloads that strip trailing blanks
write them). Blank lines are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lingxi.errors import InputError
from lingxi.ingest.readers import MalformedRow, Progress, TextLayout, resolve_encoding, split_trailer


def iter_fixed(
    path: Path,
    *,
    layout: TextLayout,
    malformed: list[MalformedRow],
    trailers: dict[Path, str] | None = None,
    on_bytes: Progress | None = None,
    block_size: int = 16 << 20,
) -> Iterator[pa.RecordBatch]:
    """Record batches of all-text columns, one per field of `layout.fields`, from one fixed-width file."""
    if not layout.fields:
        raise InputError(f"`{path}` is read as fixed width, but the mapping gives no fields", hint="set file.widths")
    encoding = resolve_encoding(path, layout.encoding)
    size = path.stat().st_size
    data_end = size
    if layout.trailer is not None:
        data_end, trailer = split_trailer(path, encoding, layout.trailer)
        if trailers is not None:
            trailers[path] = trailer
    cutter = _Cutter(path, layout, encoding, malformed)
    with path.open("rb") as handle:
        for _ in range(layout.skip_lines):
            if handle.tell() < data_end:
                handle.readline()
                cutter.line += 1
        position = handle.tell()
        if on_bytes is not None and position:
            on_bytes(position)
        rest = b""
        while position < data_end:
            block = handle.read(min(block_size, data_end - position))
            if not block:
                break
            position += len(block)
            if on_bytes is not None:
                on_bytes(len(block))
            block, rest = rest + block, b""
            if position < data_end:  # keep the last, partial line for the next block
                cut = block.rfind(b"\n") + 1
                block, rest = block[:cut], block[cut:]
            if block:
                batch = cutter.cut(block)
                if batch.num_rows:
                    yield batch
    if on_bytes is not None and size > data_end:
        on_bytes(size - data_end)


class _Cutter:
    """Cuts blocks of whole lines into record batches, numbering lines across blocks."""

    def __init__(self, path: Path, layout: TextLayout, encoding: str, malformed: list[MalformedRow]) -> None:
        self.path, self.layout, self.encoding, self.malformed = path, layout, encoding, malformed
        self.record = max(end for _, _, end in layout.fields)
        self.line = 0  # lines read so far

    def cut(self, block: bytes) -> pa.RecordBatch:
        """The records of `block` (whole lines): each line is a value of one binary array, no copy made."""
        if not block.endswith(b"\n"):
            block += b"\n"  # the file's last line
        data = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(data == 10) + 1  # after each `\n`
        offsets = np.concatenate(([0], ends)).astype(np.int32)
        lines = pa.Array.from_buffers(pa.binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(block)])
        crlf = (ends >= 2) & (data[np.maximum(ends - 2, 0)] == 13)
        lengths = np.diff(offsets) - 1 - crlf  # without the line end
        first = self.line + 1
        self.line += len(ends)
        blank = lengths == 0
        whole = lengths == self.record
        if self.layout.pad_short_lines:
            whole |= (lengths < self.record) & ~blank
        for index in np.flatnonzero(~whole & ~blank):
            number = first + int(index)
            text = block[offsets[index] : offsets[index] + lengths[index]]
            self.malformed.append(
                MalformedRow(
                    str(self.path),
                    number,
                    text.decode(self.encoding, errors="replace"),
                    f"expected {self.record} bytes, found {int(lengths[index])}",
                    number - self.layout.skip_lines,
                )
            )
        kept = lines.filter(pa.array(whole))
        numbers = first + np.flatnonzero(whole)
        columns = [
            self._decode(pc.binary_slice(kept, start, end), name, numbers) for name, start, end in self.layout.fields
        ]
        return pa.RecordBatch.from_arrays(columns, names=[name for name, _, _ in self.layout.fields])

    def _decode(self, values: pa.Array, name: str, numbers: np.ndarray) -> pa.Array:
        """A field's bytes as trimmed text.

        ASCII is the same in every encoding this reads, so only a field with other bytes is decoded. The
        blank padding goes here, cheaply in Arrow, so that the checks need not trim nearly every value.
        """
        if self.layout.pad_short_lines:  # a short line's slice may take in its line end
            values = pc.replace_substring_regex(values, pattern="[\r\n]+$", replacement="")
        data = values.buffers()[2]
        if data is None or len(data) == 0 or int(np.frombuffer(data, dtype=np.uint8).max()) < 0x80:
            return pc.ascii_trim(values.cast(pa.string()), " ")
        return pc.utf8_trim_whitespace(self._decode_text(values, name, numbers))  # also U+3000, the CJK blank

    def _decode_text(self, values: pa.Array, name: str, numbers: np.ndarray) -> pa.Array:
        """All of a block's values decoded at once, joined with one `\n` after each."""
        if self.encoding == "utf-8":
            try:
                return values.cast(pa.string())
            except pa.ArrowInvalid:
                pass  # found below, with its line
        joined = pc.binary_join_element_wise(values, pa.scalar(b"", pa.binary()), pa.scalar(b"\n", pa.binary()))
        offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)[joined.offset : joined.offset + len(joined) + 1]
        raw = joined.buffers()[2].to_pybytes()[int(offsets[0]) : int(offsets[-1])]
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError as e:
            index = int(np.searchsorted(offsets - offsets[0], e.start, side="right")) - 1
            first, end = next((s, t) for n, s, t in self.layout.fields if n == name)
            raise InputError(
                f"field `{name}` (bytes {first + 1}-{end}) on line {int(numbers[index])} of `{self.path}` is not "
                f"valid {self.encoding}: the field's bounds cut a character in two, or the encoding is wrong",
                hint="positions count bytes, not characters (a Chinese character is 2 bytes in GB18030, 3 in "
                "UTF-8): check file.widths or file.positions and file.encoding",
            ) from e
        return pa.array(text.split("\n")[:-1], pa.string())
