"""The `file`, `control` and `unknown` sections of a mapping file: how an unload is laid out and delivered.

Core-banking systems unload tables as DB2 `.del` files, Oracle `|` or 0x1E dumps and fixed-width
records with a trailer; the sections describe such a file so it loads without a prep script:

```yaml
file:
  format: csv                 # csv | parquet | fixed; when unset, taken from the extension
  header: false               # a headerless unload: name its fields, in order
  columns: [JYLSH, KHH, JYSJ, JYJE, JDBZ, QD]
  delimiter: "0x1e"           # one character; 0xHH, \\t and `tab` are read too
  encoding: gb18030
  quote: null                 # the fields are never quoted: a `"` is data
  skip_lines: 1               # a header record before the data
  number: {sign: trailing, implied_decimals: 2}   # every numeric column (a column may set its own)
control:
  trailer: "^T"               # the last line of each file is a trailer record, not data
  count_field: 2              # ... whose field 2 is the number of data records
  sum_field: 3                # ... and field 3 the total of `amount`
  sum_of: amount
  done_flag: "{name}.done"    # wait for the sender's flag file before reading
  wait_seconds: 600
unknown:
  category: {fallback: other} # a code outside the contract's list becomes `other`, counted
```
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import get_close_matches
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lingxi.schema.types import Table

Format = Literal["csv", "parquet", "fixed"]
NUMERIC_TYPES = ("int", "decimal", "rate")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAMED_DELIMITERS = {"tab": "\t", "\\t": "\t", "comma": ",", "pipe": "|", "semicolon": ";"}


def parse_delimiter(text: str | None) -> str | None:
    """One separator character from `|`, `0x1e`, `\\x1e`, `\\t` or `tab`; None stays None (detected)."""
    if text is None:
        return None
    value = _NAMED_DELIMITERS.get(text.lower(), text)
    hexadecimal = re.fullmatch(r"(?:0x|\\x)([0-9a-fA-F]{2})", value)
    if hexadecimal:
        value = chr(int(hexadecimal.group(1), 16))
    if len(value) != 1 or value in "\r\n":
        raise ValueError(f"a delimiter is one character (`|`, `;`, `0x1e`, `tab`), not {text!r}")
    return value


def fill_template(template: str, *, name: str, stem: str) -> str:
    """`{name}` (the file's name) and `{stem}` (without its extension) filled in: `txn.del` -> `txn.del.done`."""
    return template.replace("{name}", name).replace("{stem}", stem)


def _check_template(template: str | None, where: str) -> str | None:
    if template is not None:
        unknown = [p for p in _PLACEHOLDER.findall(template) if p not in ("name", "stem")]
        if unknown:
            raise ValueError(f"{where}: only {{name}} and {{stem}} may be filled in, not {{{unknown[0]}}}")
    return template


class NumberFormat(BaseModel):
    """How signed, zero-padded and implied-decimal numbers are written (`+00001234.50`, `0000123450-`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sign: Literal["leading", "trailing"] = Field(
        default="leading", description="Where the sign is: `-12.30` (leading) or `12.30-` (trailing, COBOL)."
    )
    implied_decimals: int = Field(
        default=0,
        ge=0,
        le=9,
        description="Digits after an implied decimal point: `0000123450` with 2 is 1234.50. A value that "
        "has a point of its own is read as written.",
    )

    @property
    def is_plain(self) -> bool:
        """Read as DuckDB reads numbers already (a leading `+` and zero padding are fine)."""
        return self.sign == "leading" and self.implied_decimals == 0


class FileOptions(BaseModel):
    """How the file is laid out: its format, names of a headerless file's fields, fixed-width positions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Format | None = Field(default=None, description="csv, parquet or fixed; else from the extension.")
    header: bool = Field(default=True, description="false: the first line is data; `columns` names the fields.")
    columns: list[str] | None = Field(default=None, description="Names of a headerless file's fields, in order.")
    widths: dict[str, int] | None = Field(default=None, description="Fixed width: field -> width in bytes, in order.")
    positions: dict[str, tuple[int, int]] | None = Field(
        default=None, description="Fixed width: field -> [first, last] byte, counted from 1 (DB2's METHOD L)."
    )
    short_lines: Literal["malformed", "pad"] = Field(
        default="malformed",
        description="Fixed width: a line shorter than the record is malformed, or (pad) its missing fields are "
        "empty, as when the unload strips trailing blanks.",
    )
    skip_lines: int = Field(default=0, ge=0, description="Lines before the header or the first data record.")
    delimiter: str | None = Field(default=None, description="Field separator (`|`, `0x1e`, `tab`); detected.")
    quote: str | None = Field(default='"', description="Quote character; null when fields are never quoted.")
    encoding: Literal["auto", "utf-8", "gb18030"] | None = Field(default=None, description="Text encoding.")
    number: NumberFormat | None = Field(default=None, description="How every numeric column is written.")

    @field_validator("delimiter", mode="before")
    @classmethod
    def _delimiter(cls, value: object) -> object:
        return parse_delimiter(value) if isinstance(value, str) else value

    @field_validator("quote")
    @classmethod
    def _quote(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError("a quote is one character, or null for none")
        return value

    def fixed_fields(self) -> list[tuple[str, int, int]]:
        """(name, first byte, end byte) of each fixed-width field, 0-based with the end excluded."""
        if self.positions:
            return [(name, first - 1, last) for name, (first, last) in self.positions.items()]
        fields, start = [], 0
        for name, width in (self.widths or {}).items():
            fields.append((name, start, start + width))
            start += width
        return fields

    def field_names(self) -> list[str] | None:
        """The file's field names when the mapping gives them (headerless or fixed width), else None."""
        if self.format == "fixed":
            return [name for name, _, _ in self.fixed_fields()]
        return list(self.columns) if self.columns else None

    def problems(self) -> list[str]:
        out = []
        if self.columns is not None and self.header:
            out.append("file.columns names the fields of a headerless file: add `header: false`")
        if not self.header and not self.columns and self.format != "fixed":
            out.append("file.header is false: name the fields in order with file.columns")
        if self.format == "fixed":
            if bool(self.widths) == bool(self.positions):
                out.append("file: a fixed-width file needs `widths` or `positions` (one of them)")
            for name, width in (self.widths or {}).items():
                if width < 1:
                    out.append(f"file.widths.{name}: a width is at least 1 byte")
            ranges = sorted((first, last, name) for name, (first, last) in (self.positions or {}).items())
            for index, (first, last, name) in enumerate(ranges):
                if first < 1 or last < first:
                    out.append(f"file.positions.{name}: [first, last] counts bytes from 1, first ≤ last")
                elif index + 1 < len(ranges) and ranges[index + 1][0] <= last:
                    out.append(f"file.positions: `{name}` and `{ranges[index + 1][2]}` overlap")
        elif self.widths or self.positions:
            out.append("file.widths and file.positions describe a fixed-width file: add `format: fixed`")
        names = self.field_names() or []
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            out.append(f"file: the field names {', '.join(repeated)} appear more than once")
        return out


class ControlOptions(BaseModel):
    """How a delivery proves itself complete: a done flag, and record counts and totals to check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trailer: str | None = Field(
        default=None,
        description="Regular expression the last line of each file matches: a trailer record, not data. "
        "Named groups `count` and `sum` may capture the figures (fixed-width trailers).",
    )
    file: str | None = Field(
        default=None, description="A control file beside each data file: `{stem}.ctl`, `{name}.ok`."
    )
    match: str | None = Field(
        default=None, description="Regular expression with groups `count` and `sum`, searched in the control file."
    )
    count_field: int | None = Field(default=None, ge=1, description="Field number (from 1) of the record count.")
    sum_field: int | None = Field(default=None, ge=1, description="Field number (from 1) of the control total.")
    sum_of: str | None = Field(default=None, description="The contract column the control total adds up.")
    separator: str | None = Field(
        default=None, description="Splits the control record into fields; default: the file's delimiter."
    )
    done_flag: str | None = Field(default=None, description="A file that says the extract is complete: `{name}.done`.")
    wait_seconds: float = Field(default=0, ge=0, le=86_400, description="How long to wait for the done flag.")

    @field_validator("separator", mode="before")
    @classmethod
    def _separator(cls, value: object) -> object:
        return parse_delimiter(value) if isinstance(value, str) else value

    @field_validator("file", "done_flag")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return _check_template(value, "a file name")

    def pattern(self) -> re.Pattern[str] | None:
        """The regular expression that reads the control record (trailer or control file), if any."""
        text = self.trailer if self.trailer is not None else self.match
        return re.compile(text) if text is not None else None

    @property
    def checks_figures(self) -> bool:
        named = self.pattern()
        groups = set(named.groupindex) if named else set()
        return bool(self.count_field or self.sum_field or groups & {"count", "sum"})

    def problems(self, table: Table) -> list[str]:
        out = []
        for name, text in (("trailer", self.trailer), ("match", self.match)):
            if text is not None:
                try:
                    re.compile(text)
                except re.error as e:
                    out.append(f"control.{name}: `{text}` is not a regular expression ({e})")
        if out:
            return out
        if self.trailer is not None and self.file is not None:
            out.append("control: the figures come from a trailer or from a control file, not both")
        if self.match is not None and self.file is None:
            out.append("control.match reads a control file: add control.file")
        if (self.count_field or self.sum_field) and self.trailer is None and self.file is None:
            out.append("control: count_field and sum_field need a trailer or a control file to read")
        groups = set(self.pattern().groupindex) if self.pattern() else set()  # type: ignore[union-attr]
        has_sum = self.sum_field is not None or "sum" in groups
        if has_sum and self.sum_of is None:
            out.append("control: name the column the total adds up with `sum_of`")
        if self.sum_of is not None:
            if not has_sum:
                out.append("control.sum_of needs `sum_field` (or a `sum` group) to read the total from")
            if self.sum_of not in table.column_names:
                out.append(f"control.sum_of: `{self.sum_of}` is not a column of `{table.name}`")
            elif table.column(self.sum_of).type not in NUMERIC_TYPES:
                out.append(f"control.sum_of: `{self.sum_of}` is not a numeric column")
        if self.wait_seconds and self.done_flag is None:
            out.append("control.wait_seconds waits for a done flag: add control.done_flag")
        return out


class Fallback(BaseModel):
    """The contract value an unknown code becomes (null for none)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fallback: str | None


UnknownCodes = Literal["quarantine"] | Fallback


def did_you_mean(name: str, known: Sequence[str]) -> str:
    """`; did you mean `X`?` for the nearest of `known` (case aside), else the list of them."""
    by_lower = {k.lower(): k for k in known}
    close = get_close_matches(name.lower(), list(by_lower), n=1)
    return f"; did you mean `{by_lower[close[0]]}`?" if close else f" (known: {', '.join(known)})"


def layout_problems(
    table: Table,
    file: FileOptions,
    control: ControlOptions | None,
    unknown: dict[str, UnknownCodes],
    values: dict[str, dict[str, str | None]],
    sources: dict[str, str],
    numbers: dict[str, NumberFormat],
) -> list[str]:
    """Every problem of the sections for `table`; `sources` maps contract columns to the file's names."""
    out = file.problems() + (control.problems(table) if control else [])
    names = file.field_names()
    if names:
        for column, source in sources.items():
            if source not in names:
                out.append(f"`{column}`: `{source}` is not a field of the file{did_you_mean(source, names)}")
    for column in numbers:
        if column in table.column_names and table.column(column).type not in NUMERIC_TYPES:
            out.append(f"`{column}`: a number format applies only to int, decimal and rate columns")
    for column, rule in unknown.items():
        if column not in table.column_names:
            out.append(f"unknown.{column}: not a column of `{table.name}`{did_you_mean(column, table.column_names)}")
            continue
        allowed = table.column(column).allowed
        if not allowed:
            out.append(f"unknown.{column}: `{column}` has no list of allowed codes in the contract")
        elif isinstance(rule, Fallback):
            if rule.fallback is None and table.column(column).required:
                out.append(f"unknown.{column}: `{column}` is required, so its fallback cannot be null")
            elif rule.fallback is not None and rule.fallback not in allowed:
                out.append(f"unknown.{column}: fallback `{rule.fallback}` is not one of {', '.join(allowed)}")
            elif rule.fallback in values.get(column, {}):
                out.append(f"unknown.{column}: fallback `{rule.fallback}` is also a code of values.{column}")
    for column, codes in values.items():
        if column in table.column_names and table.column(column).allowed:
            allowed = table.column(column).allowed
            wrong = sorted({str(v) for v in codes.values() if v is not None and v not in allowed})
            if wrong:
                out.append(f"values.{column}: {', '.join(wrong)} not among {', '.join(allowed)}")
    return out
