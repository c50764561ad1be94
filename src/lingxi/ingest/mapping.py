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
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lingxi.errors import SpecError
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


class CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: str | None = Field(default=None, description="Field separator; detected when unset.")
    encoding: Literal["auto", "utf-8", "gb18030"] = Field(default="auto")


class Mapping(BaseModel):
    """A bank's column mapping for one contract table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str | None = None
    columns: dict[str, str | ColumnSource] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    csv: CsvOptions = Field(default_factory=CsvOptions)

    @field_validator("values", mode="before")
    @classmethod
    def _stringify(cls, value: object) -> object:
        if isinstance(value, dict):  # YAML reads 1 and true as numbers and booleans; codes are text
            return {k: {str(s): str(t) for s, t in (v or {}).items()} for k, v in value.items()}
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
