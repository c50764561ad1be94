"""Currencies on load: an empty currency taken from the row it refers to, and every amount's rate checked.

Defaults. A contract column with `default_from` (`holdings.currency` from `products.currency`,
`transactions.currency` from `accounts.currency`) that is absent from the file, or empty on a row, is
filled from the row that the table's reference points at (the holding's product, the transaction's
account), and is CNY when that is empty too or the row has no such reference. This happens on load, not
when the data is read: the published rows say their currency explicitly, so readers need no join to
know it, and a later change to a product's or an account's currency does not re-price history. The
filled value is then checked like any other (ISO 4217: three capital letters). Only references with a
currency other than CNY are looked up (a few percent of accounts at most), so the join costs little.
The referenced table must be published when the file has the reference column; without
`--no-check-references` the reference check already requires that.

Rates. A table with an `fx_date` (`holdings.snapshot_date`, `transactions.ts`) converts its amounts at
the `fx_rates` rate of that date, the latest on or before it (lingxi.schema.fx). A load whose good rows
hold a currency other than CNY dated before that currency's first published rate fails as a whole, with
an error naming each currency and its first date without a rate: publishing them would leave amounts
that convert to nothing, or tempt a reader to take them at 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
from sqlglot import exp

from lingxi.engine import Engine
from lingxi.engine.sql import col, lit
from lingxi.engine.sql import table as sql_table
from lingxi.errors import InputError
from lingxi.ingest.checks import CheckPlan, quoted, read_parquet, temp_table, varchar
from lingxi.schema.contract import CNY
from lingxi.schema.fx import RATES, missing_rate_error, missing_rates, needed_rates, rates_table
from lingxi.schema.types import Table
from lingxi.store.lake import Lake


@dataclass(frozen=True)
class Default:
    """A column filled from the row another table's key points at: `column` from `ref_table.ref_column`."""

    column: str  # "currency"
    key: str  # this table's reference column: "product_id"
    ref_table: str  # "products"
    ref_key: str  # "product_id"
    ref_column: str  # "currency"

    @property
    def lookup(self) -> str:
        """The temporary table of the references whose value is not the default."""
        return f"lx_default_{self.column}_{self.ref_table}"


def defaults_of(table: Table) -> list[Default]:
    """The `default_from` columns of `table`, each with the reference column that leads to its value."""
    found = []
    for column in table.columns:
        if column.default_from is None:
            continue
        ref_table, ref_column = column.default_from.split(".")
        via = [c for c, t, _ in table.references if t == ref_table]
        if len(via) != 1:
            raise AssertionError(f"`{table.name}.{column.name}` needs one reference to `{ref_table}`, found {len(via)}")
        reference = via[0].reference or ("", "")
        found.append(Default(column.name, via[0].name, ref_table, reference[1], ref_column))
    return found


def _trimmed(expression: exp.Expr) -> exp.Expr:
    """Text of a raw value without padding, NULL when empty."""
    return exp.Nullif(this=exp.Trim(this=varchar(expression)), expression=lit(""))


@dataclass
class Currencies:
    """The currency work of one load: defaults filled into each chunk, rates checked over the whole input."""

    lake: Lake
    engine: Engine
    table: Table
    defaults: list[Default] = field(init=False)
    lookups: dict[str, bool] = field(default_factory=dict)  # Default.lookup -> has rows
    rates_scan: exp.Expr | None = None
    first_unpriced: dict[str, date] = field(default_factory=dict)  # currency -> first date without a rate

    def __post_init__(self) -> None:
        self.defaults = defaults_of(self.table)

    @property
    def temp_tables(self) -> list[str]:
        return list(self.lookups)

    def prepare(self, present: list[str]) -> None:
        """Before the first chunk: the lookups the defaults need, and where the rates are."""
        for default in self.defaults:
            if default.key not in present:
                continue  # no reference on any row: the default is CNY
            snapshot = self.lake.snapshot(default.ref_table)
            if snapshot is None:
                raise InputError(
                    f"`{self.table.name}.{default.column}` defaults to the {default.ref_column} of the row in "
                    f"`{default.ref_table}` that `{default.key}` names, and `{default.ref_table}` is not loaded yet",
                    hint=f"load `{default.ref_table}` first",
                )
            scan = read_parquet(list(snapshot.parquet_globs), hive_partitioning=True, union_by_name=True)
            value = quoted(default.ref_column)
            keys = (
                exp.select(quoted(default.ref_key).as_("k"), value.copy().as_("v"))
                .distinct()
                .from_(scan)
                .where(exp.and_(value.copy().is_(exp.null()).not_(), exp.NEQ(this=value.copy(), expression=lit(CNY))))
            )
            self.engine.execute(temp_table(default.lookup, keys), label=f"{default.column} of `{default.ref_table}`")
            count = self.engine.run(exp.select(exp.Count(this=exp.Star()).as_("n")).from_(default.lookup), label="n")
            self.lookups[default.lookup] = bool(count.column("n")[0].as_py())
        if self.table.fx_date is not None:
            rates = self.lake.snapshot(RATES)
            self.rates_scan = (
                None
                if rates is None
                else read_parquet(list(rates.parquet_globs), hive_partitioning=True, union_by_name=True)
            )

    def fill(self, relation: exp.Expr, types: dict[str, pa.DataType]) -> tuple[exp.Expr, dict[str, pa.DataType]]:
        """`relation` with each default column set: the file's value, else the referenced row's, else CNY."""
        if not self.defaults:
            return relation, types
        columns: list[exp.Expr] = [quoted(name, "c") for name in types if name not in {d.column for d in self.defaults}]
        query = exp.select(*columns).from_(exp.alias_(relation.copy(), "c", table=True))
        for i, default in enumerate(self.defaults):
            values: list[exp.Expr] = []
            if default.column in types:
                values.append(exp.Upper(this=_trimmed(quoted(default.column, "c"))))
            if self.lookups.get(default.lookup):
                alias = f"d{i}"
                on = col("k", alias).eq(_trimmed(quoted(default.key, "c")))
                query = query.join(sql_table(default.lookup, alias=alias), on=on, join_type="left")
                values.append(col("v", alias))
            filled = exp.Coalesce(this=values[0], expressions=[*values[1:], lit(CNY)]) if values else lit(CNY)
            query = query.select(exp.alias_(filled, exp.to_identifier(default.column, quoted=True)))
        filled_types = {n: t for n, t in types.items() if n not in {d.column for d in self.defaults}}
        filled_types |= {d.column: pa.string() for d in self.defaults}
        return query.subquery(), filled_types

    def record(self, plan: CheckPlan) -> None:
        """After a chunk is checked: the first date of each currency among its good rows that has no rate."""
        date_column = self.table.fx_date
        if date_column is None or "currency" not in plan.present:
            return
        good = exp.select("*").from_(sql_table("lx_typed")).where(plan.good.copy()).subquery()
        on_date = exp.cast(quoted(date_column), exp.DataType.Type.DATE)
        rates = self.rates_scan if self.rates_scan is not None else rates_table(False)
        found = self.engine.run(missing_rates(needed_rates(good, on_date), rates), label="FX rates of the amounts")
        for row in found.to_pylist():
            currency, first = str(row["currency"]), row["first_date"]
            if currency not in self.first_unpriced or first < self.first_unpriced[currency]:
                self.first_unpriced[currency] = first

    def check(self) -> None:
        """After the last chunk: refuse the load when some amount has no rate (see the module's docstring)."""
        if self.first_unpriced:
            missing = [{"currency": c, "first_date": d} for c, d in self.first_unpriced.items()]
            raise missing_rate_error(f"`{self.table.name}`", missing)
