"""The reader stage of a load: what a mapping's `file`, `number` and `unknown` settings do to each chunk.

It runs on the Arrow chunk, after the columns get their contract names and before DuckDB types and
checks them (checks.py), so the quarantine still shows each row as it was in the file:
- numbers written as unloads write them become text DuckDB reads: `0000123450` with two implied
  decimals is `0001234.50`, a trailing sign `12.30-` moves to the front (a leading `+` and zero padding
  need nothing: DuckDB reads `+00001234.50`);
- a code outside the contract's list, where the mapping declares a fallback for the column, becomes
  the fallback, and each such value is counted (the load report prints `category: fallback other ×12`);
- the rows and the control total of each file are tallied for the control check (control.py).
All of it is vectorised Arrow compute: a mapping without these settings costs nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from lingxi.errors import InputError
from lingxi.ingest.control import ControlTotals
from lingxi.ingest.layout import NUMERIC_TYPES, Fallback, NumberFormat
from lingxi.ingest.mapping import Mapping
from lingxi.ingest.readers import SourceFiles, TextLayout
from lingxi.schema.types import Table

Values: TypeAlias = Any  # a pa.Array or pa.ChunkedArray of text (pyarrow has no stubs)


def text_layout(mapping: Mapping, *, encoding: str | None = None, delimiter: str | None = None) -> TextLayout:
    """How to read a text file: the command's --encoding and --delimiter first, then the mapping's."""
    file = mapping.file
    return TextLayout(
        encoding=encoding or file.encoding or mapping.csv.encoding,
        delimiter=delimiter or file.delimiter or mapping.csv.delimiter,
        header=file.header,
        names=tuple(file.columns or ()),
        skip_lines=file.skip_lines,
        quote=file.quote,
        trailer=mapping.control.trailer if mapping.control else None,
        fields=tuple(file.fixed_fields()),
        pad_short_lines=file.short_lines == "pad",
    )


def normalise_numbers(values: Values, number: NumberFormat) -> Values:
    """Numbers as DuckDB reads them: trailing signs moved to the front, implied decimal points written.

    String kernels only, and each step only where some value needs it: a regular expression
    replacement, or padding every value, costs ten times as much per value.
    """
    text = pc.ascii_trim_whitespace(values)
    if number.sign == "trailing":
        signed = pc.or_(pc.ends_with(text, "-"), pc.ends_with(text, "+"))
        if pc.any(signed).as_py():
            moved = _join(pc.utf8_slice_codeunits(text, -1), pc.utf8_slice_codeunits(text, 0, -1))
            text = pc.if_else(signed, moved, text)
    if number.implied_decimals:
        places = number.implied_decimals
        sign: Values = ""
        digits = text
        signed = pc.or_(pc.starts_with(text, "-"), pc.starts_with(text, "+"))
        if pc.any(signed).as_py():
            sign = pc.if_else(signed, pc.utf8_slice_codeunits(text, 0, 1), "")
            digits = pc.if_else(signed, pc.utf8_slice_codeunits(text, 1), text)
        length = pc.utf8_length(digits)
        short = pc.and_(pc.less_equal(length, places), pc.greater(length, 0))  # blank stays blank: missing, not 0
        if pc.any(short).as_py():  # `5` with two implied decimals is `0.05`
            padded = pc.utf8_lpad(pc.filter(digits, short), places + 1, "0")
            digits = pc.replace_with_mask(digits, pc.fill_null(short, False), padded)
        whole, fraction = pc.utf8_slice_codeunits(digits, 0, -places), pc.utf8_slice_codeunits(digits, -places)
        # else as written: a value with a point of its own, or not a number (DuckDB says bad_type)
        text = pc.if_else(pc.ascii_is_decimal(digits), _join(sign, whole, ".", fraction), text)
    return text


def _join(*parts: Values | str) -> Values:
    return pc.binary_join_element_wise(*parts, "")


def normalise_number(text: str, number: NumberFormat | None) -> str:
    """One value, exactly as `normalise_numbers` does it (a trailer's control total)."""
    if number is None:
        return text.strip()
    return str(normalise_numbers(pa.array([text], pa.string()), number)[0].as_py())


def _check_source(mapping: Mapping, source: SourceFiles) -> None:
    """Settings that the files' format cannot honour stop the load before any row is read."""
    if source.kind == "parquet" and mapping.control is not None and mapping.control.trailer is not None:
        raise InputError("a Parquet file has no trailer record", hint="use control.file for its control figures")
    if source.kind == "fixed" and not mapping.file.fixed_fields():
        raise InputError(
            "a fixed-width file needs its layout: the mapping gives no field widths",
            hint="add `file: {format: fixed, widths: {FIELD: bytes, ...}}` (see docs/loading.md#fixed-width-files)",
        )


class ReaderStage:
    """The per-chunk transformations a mapping asks for, and what they counted."""

    def __init__(self, mapping: Mapping, table: Table, source: SourceFiles, *, delimiter: str | None) -> None:
        _check_source(mapping, source)
        self.numbers: dict[str, NumberFormat] = {}
        for column in table.columns:
            number = mapping.source_of(column.name).number or mapping.file.number
            if column.type in NUMERIC_TYPES and number is not None and not number.is_plain:
                self.numbers[column.name] = number
        self.unknown: dict[str, tuple[pa.Array, str | None]] = {}  # column -> (known codes, fallback)
        for name, rule in mapping.unknown.items():
            if isinstance(rule, Fallback):
                known = {*mapping.values.get(name, {}), *table.column(name).allowed}
                self.unknown[name] = (pa.array(sorted(known), pa.string()), rule.fallback)
        self.totals: ControlTotals | None = None
        control = mapping.control
        if control is not None and control.checks_figures:
            number = self.numbers.get(control.sum_of or "")
            self.totals = ControlTotals(
                control, source, delimiter=delimiter, normalise=lambda text: normalise_number(text, number)
            )
        self.fallbacks: dict[str, Counter[str]] = {}  # column -> the file's value -> rows given the fallback

    @property
    def needs_rows(self) -> bool:
        """Whether chunks must be in memory (Arrow), not read by DuckDB where they lie."""
        return bool(self.numbers or self.unknown or self.totals)

    def apply(self, path: Path, chunk: pa.Table) -> pa.Table:
        for name, number in self.numbers.items():
            if name in chunk.column_names and pa.types.is_string(chunk.schema.field(name).type):
                chunk = chunk.set_column(chunk.column_names.index(name), name, normalise_numbers(chunk[name], number))
        for name, (known, fallback) in self.unknown.items():
            if name in chunk.column_names:
                chunk = self._fall_back(chunk, name, known, fallback)
        if self.totals is not None:
            self.totals.tally(path, chunk)
        return chunk

    def _fall_back(self, chunk: pa.Table, name: str, known: pa.Array, fallback: str | None) -> pa.Table:
        values = chunk[name] if pa.types.is_string(chunk.schema.field(name).type) else chunk[name].cast(pa.string())
        text = pc.utf8_trim_whitespace(values)  # as checks.py trims before it decodes and checks
        unknown = pc.and_(pc.not_equal(text, ""), pc.invert(pc.is_in(text, value_set=known)))
        if not pc.any(unknown).as_py():
            return chunk
        counts = self.fallbacks.setdefault(name, Counter())
        for item in pc.value_counts(pc.filter(text, unknown)).to_pylist():
            counts[str(item["values"])] += int(item["counts"])
        replaced = pc.if_else(unknown, pa.scalar(fallback, pa.string()), values)
        return chunk.set_column(chunk.column_names.index(name), name, replaced)
