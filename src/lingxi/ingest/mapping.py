"""Column mapping files: how a bank's own extract names and codes become the contract's.

```yaml
table: transactions            # optional; checked against the table being loaded
columns:
  txn_id: JYLSH                # contract column: source column
  ts: {source: JYSJ, format: "%Y%m%d%H%M%S"}
  phone_hash: {source: SJHM, transform: hash_phone}
values:
  direction: {"借": debit, "贷": credit}
csv: {delimiter: "|", encoding: gb18030}
```
How the file itself is laid out and delivered (headerless and fixed-width unloads, numbers, control
totals, done flags, unknown codes) is in the `file`, `control` and `unknown` sections: see layout.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lingxi.errors import SpecError
from lingxi.ingest.layout import (
    ControlOptions,
    FileOptions,
    NumberFormat,
    UnknownCodes,
    layout_problems,
    parse_delimiter,
)
from lingxi.schema.types import Table

Transform = Literal["hash_phone", "hash_id_no", "hash"]


class ColumnSource(BaseModel):
    """Where a contract column comes from in the source file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(description="Column name in the source file.")
    format: str | None = Field(default=None, description="strptime format for dates and timestamps, e.g. `%Y%m%d`.")
    transform: Transform | None = Field(
        default=None,
        description="Normalise and hash a raw identifier with the keyed hash (LINGXI_HASH_KEY).",
    )
    number: NumberFormat | None = Field(default=None, description="How this numeric column is written.")


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
                    problems.append(f"`{name}`: a format applies only to date and timestamp columns")
        sources = {c: s if isinstance(s, str) else s.source for c, s in self.columns.items()}
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
    try:
        return Mapping.model_validate(raw)
    except ValidationError as e:
        problems = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()]
        raise SpecError(f"Mapping file `{path}`", problems, hint="see docs/loading.md#mapping-files") from e
