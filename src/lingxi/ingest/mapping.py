"""Column mapping files: how a bank's own extract names and codes become the contract's.

```yaml
table: transactions            # optional; checked against the table being loaded
columns:
  txn_id: JYLSH                # contract column: source column
  ts: {source: JYSJ, format: "%Y%m%d%H%M%S"}
  phone_hash: {source: SJHM, transform: hash_phone}
  channel: {const: counter}                                       # a constant
  category: {expr: "CASE WHEN JYLX = 'GZ' THEN 'salary' ELSE 'other' END"}   # SQL over the file's columns
  customer_id: {lookup: {table: accounts, by: {account_id: ZH}, value: customer_id}}
values:
  direction: {"借": debit, "贷": credit}
csv: {delimiter: "|", encoding: gb18030}
```

Expressions and lookups are compiled by `lingxi.ingest.derive` against the file's header; the line of
each column in the mapping file is kept so an error can point at it.

How the file itself is laid out and delivered (headerless and fixed-width unloads, numbers, control
totals, done flags, unknown codes) is in the `file`, `control` and `unknown` sections: see layout.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from lingxi.errors import SpecError
from lingxi.ingest.layout import (
    ControlOptions,
    FileOptions,
    NumberFormat,
    UnknownCodes,
    layout_problems,
    parse_delimiter,
)
from lingxi.ingest.provenance import mapping_lines
from lingxi.schema.types import Table

Transform = Literal["hash_phone", "hash_id_no", "hash"]


class Lookup(BaseModel):
    """A column filled from a table already loaded, e.g. a transaction's customer from `accounts` by account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(description="Contract table to look up in (its published snapshot).")
    by: dict[str, str] = Field(
        description="Lookup-table column -> expression over the file's columns that must equal it (usually a column)."
    )
    value: str = Field(description="Lookup-table column whose value fills the target column.")
    where: str | None = Field(default=None, description="Condition over the lookup table's columns (SQL).")
    order: str | None = Field(
        default=None,
        description="Where several rows match: an ORDER BY over the lookup table's columns; the first one is used. "
        "Without it, a key that matches several rows is quarantined as `lookup_ambiguous`.",
    )


class ColumnSource(BaseModel):
    """Where a contract column comes from: a source column, an expression, a constant or a lookup."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = Field(default=None, description="Column name in the source file.")
    expr: str | None = Field(default=None, description="SQL expression over the file's columns (DuckDB dialect).")
    const: str | int | float | bool | None = Field(default=None, description="A constant value for every row.")
    lookup: Lookup | None = Field(default=None, description="Fill from a table already loaded.")
    format: str | None = Field(default=None, description="strptime format for dates and timestamps, e.g. `%Y%m%d`.")
    pivot: int | None = Field(
        default=None,
        description="With a two-digit year (`%y`) in `format`: the earliest year it may mean (1930: 30-99 -> 19xx, "
        "00-29 -> 20xx).",
    )
    transform: Transform | None = Field(
        default=None,
        description="Normalise and hash a raw identifier with the keyed hash (the keyring's hash key).",
    )
    number: NumberFormat | None = Field(default=None, description="How this numeric column is written.")

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnSource:
        given = [n for n in ("source", "expr", "lookup") if getattr(self, n) is not None]
        if "const" in self.model_fields_set:
            given.append("const")
        if len(given) != 1:
            raise ValueError(f"give exactly one of source, expr, const, lookup (got {', '.join(given) or 'none'})")
        if self.transform and self.source is None:
            raise ValueError("a transform applies to a source column (`source:`)")
        return self

    @property
    def derived(self) -> bool:
        """Computed by the mapping stage (an expression, a constant or a lookup) rather than read as it is."""
        return self.source is None


class CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: str | None = Field(default=None, description="Field separator; detected when unset.")
    encoding: Literal["auto", "utf-8", "gb18030"] = Field(default="auto")

    @field_validator("delimiter", mode="before")
    @classmethod
    def _delimiter(cls, value: object) -> object:
        return parse_delimiter(value) if isinstance(value, str) else value


class Mapping(BaseModel):
    """A bank's column mapping for one contract table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str | None = None
    columns: dict[str, str | ColumnSource] = Field(default_factory=dict)
    values: dict[str, dict[str, str | None]] = Field(default_factory=dict)  # a code may map to null
    csv: CsvOptions = Field(default_factory=CsvOptions)
    file: FileOptions = Field(default_factory=FileOptions)
    control: ControlOptions | None = None
    unknown: dict[str, UnknownCodes] = Field(default_factory=dict)
    _origin: str = PrivateAttr(default="the mapping")
    _lines: dict[str, int] = PrivateAttr(default_factory=dict)

    def where(self, column: str) -> str:
        """Where `column` is mapped, for error messages: `mapping.yaml line 7 (birth_date)`."""
        line = self._lines.get(column)
        return f"{self._origin} line {line} (`{column}`)" if line else f"{self._origin}, column `{column}`"

    def derived_columns(self) -> dict[str, ColumnSource]:
        """Contract columns computed by the mapping stage: expressions, constants and lookups."""
        specs = {name: self.source_of(name) for name in self.columns}
        return {name: spec for name, spec in specs.items() if spec.derived}

    @field_validator("values", mode="before")
    @classmethod
    def _stringify(cls, value: object) -> object:
        if isinstance(value, dict):  # YAML reads 1 and true as numbers and booleans; codes are text
            return {k: {str(s): None if t is None else str(t) for s, t in (v or {}).items()} for k, v in value.items()}
        return value

    def source_of(self, column: str) -> ColumnSource:
        spec = self.columns.get(column, column)
        return ColumnSource(source=spec) if isinstance(spec, str) else spec

    def check(self, table: Table) -> None:
        """Every problem with this mapping for `table`, at once."""
        problems = []
        if self.table is not None and self.table != table.name:
            problems.append(f"the mapping is for table `{self.table}`, not `{table.name}`")
        known = set(table.column_names)
        for name in [*self.columns, *self.values]:
            if name not in known:
                problems.append(f"`{name}` is not a column of `{table.name}` (known: {', '.join(table.column_names)})")
        for name, spec in self.columns.items():
            if isinstance(spec, ColumnSource) and spec.format and name in known:
                if table.column(name).type not in ("date", "timestamp"):
                    problems.append(f"{self.where(name)}: a format applies only to date and timestamp columns")
                elif TWO_DIGIT_YEAR.search(spec.format) and spec.pivot is None:
                    problems.append(
                        f"{self.where(name)}: format `{spec.format}` has a two-digit year; say which century with "
                        "`pivot:` (the earliest year it may mean, e.g. `pivot: 1930` for birth dates)"
                    )
            if isinstance(spec, ColumnSource) and spec.pivot is not None:
                if not (spec.format and TWO_DIGIT_YEAR.search(spec.format)):
                    problems.append(f"{self.where(name)}: `pivot` needs a `format` with a two-digit year (`%y`)")
                elif not 1000 <= spec.pivot <= 9000:
                    problems.append(f"{self.where(name)}: `pivot` is a four-digit year, e.g. 1930, got {spec.pivot}")
        sources = {c: src for c in self.columns if (src := self.source_of(c).source) is not None}
        numbers = {c: s.number for c, s in self.columns.items() if isinstance(s, ColumnSource) and s.number}
        problems += layout_problems(table, self.file, self.control, self.unknown, self.values, sources, numbers)
        if problems:
            raise SpecError(f"Mapping for `{table.name}`", problems, hint="see docs/loading.md#mapping-files")


def read_mapping(path: Path) -> Mapping:
    """Parse a YAML or JSON mapping file, reporting every problem with its location."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise SpecError(f"Mapping file `{path}`", [str(e)], hint="check the YAML syntax") from e
    named = list(raw.get("columns") or {}) if isinstance(raw, dict) else []
    lines = {e.column: e.line for e in mapping_lines(path, [str(n) for n in named]).entries if e.section == "columns"}
    try:
        mapping = Mapping.model_validate(raw)
    except ValidationError as e:
        errors = e.errors()
        # `columns.x` is a name or an object: when an object was given, what the name branch says is noise
        objects = {tuple(err["loc"][:2]) for err in errors if len(err["loc"]) > 2 and err["loc"][2] != "str"}
        kept = [
            err
            for err in errors
            if not (len(err["loc"]) > 2 and err["loc"][2] == "str" and tuple(err["loc"][:2]) in objects)
        ]
        problems = [_located(err, path, lines) for err in kept]
        raise SpecError(f"Mapping file `{path}`", problems, hint="see docs/loading.md#mapping-files") from e
    mapping._origin, mapping._lines = path.name, lines
    return mapping


TWO_DIGIT_YEAR = re.compile(r"%y")


def _located(err: Any, path: Path, lines: dict[str, int]) -> str:
    loc = [str(p) for p in err["loc"]]
    message = err["msg"].removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "columns" and loc[1] in lines:
        return f"{path.name} line {lines[loc[1]]} (`{loc[1]}`): {message}"
    return f"{'.'.join(loc)}: {message}"
