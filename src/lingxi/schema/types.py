"""Column and table definitions for the bank data contract.

A contract table is data, not code: the loader validates against it, the engines read its Arrow schema,
the docs are generated from it and the privacy pages read its personal-information annotations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

ColumnType = Literal["string", "int", "decimal", "rate", "date", "timestamp", "boolean", "json"]
PiClass = Literal["C1", "C2", "C3"]
Grain = Literal["day", "month", "year", "value"]
LoadMode = Literal["replace", "append"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "decimal": pa.decimal128(18, 2),
    "rate": pa.decimal128(18, 6),  # exchange rates: 0.047123 CNY a yen needs more than the fen
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
    "json": pa.string(),
}

SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "decimal": "DECIMAL(18,2)",
    "rate": "DECIMAL(18,6)",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
    "json": "VARCHAR",
}


@dataclass(frozen=True)
class Column:
    """One column of a contract table, with the checks the loader applies to it."""

    name: str
    type: ColumnType
    description: str
    example: str | int | float | bool | None
    required: bool = False
    allowed: tuple[str, ...] = ()
    pattern: str | None = None
    min_value: float | None = None
    max_value: float | None = None  # plausibility bound of an amount (`above_maximum`)
    may_be_future: bool = False  # a date or time after the load's as-of date is plausible (a sale's end)
    max_age_years: int | None = None  # a birth date: at most this many years before the as-of date
    references: str | None = None  # "customers.customer_id"
    pi_class: PiClass = "C1"
    personal: bool = False
    purpose: str = ""
    correctable: bool = False  # a data-subject correction (PIPL art. 46) may change it; see docs/privacy.md
    # "products.currency": an empty value is taken, on load, from the row this table's reference to that
    # table points at (lingxi.ingest.currency); CNY when that is empty too
    default_from: str | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]

    @property
    def reference(self) -> tuple[str, str] | None:
        if self.references is None:
            return None
        table, column = self.references.split(".")
        return table, column


@dataclass(frozen=True)
class Partition:
    """A Hive-style partition column derived from a source column (e.g. `txn_month` from `ts`)."""

    name: str
    source: str
    grain: Grain


@dataclass(frozen=True)
class Table:
    """A canonical table of the lake."""

    name: str
    version: int
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    mode: LoadMode = "replace"
    partition: Partition | None = None
    sort_by: tuple[str, ...] = ("customer_id",)
    any_of: tuple[tuple[str, ...], ...] = field(default=())  # at least one of these columns is set
    fx_date: str | None = None  # the column whose date picks the rate converting the row's amounts to CNY

    @property
    def correctable(self) -> list[str]:
        """Columns a data-subject correction may change: facts about the person, never what the bank decides."""
        return [c.name for c in self.columns if c.correctable]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self) -> pa.Schema:
        fields = [pa.field(c.name, c.arrow_type, nullable=not c.required) for c in self.columns]
        return pa.schema(fields, metadata={"lingxi.table": self.name, "lingxi.version": str(self.version)})

    @property
    def references(self) -> list[tuple[Column, str, str]]:
        return [(c, *c.reference) for c in self.columns if c.reference is not None]
