"""Data-subject requests reach every table and lake dataset of every capability, because each one is declared.

A marker customer is written to every operational table that has a customer column and to every lake
dataset a capability declares (the whole data contract, the tier snapshot, and the loyalty plug-in's table
and dataset), generically: the rows are made from the tables' own column types, so a table added later is
covered without editing this test. The export must find the marker in every one of them, and after the
erasure it must be nowhere but in the holdings declared `retain` (the audit log). With the plug-in's
holdings left undeclared, the same requests refuse to run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, MetaData, Numeric, String, Table, insert, select

from lingxi import registry
from lingxi.auth import audit
from lingxi.auth.audit import Who
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.errors import ConfigError
from lingxi.privacy import dsr, holdings
from lingxi.schema import TABLES
from lingxi.store import Lake, connect, migrate

from ..plugins import PLUGIN, UNDECLARED, use_plugins

MARKER = "CMARKER0001"
KEY = "test-key"
STAFF = Who("dpo.test", "approver")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=[PLUGIN])
def plugin(request: pytest.FixtureRequest) -> Iterator[str]:
    use_plugins(request.param)
    yield request.param
    use_plugins()


def value_for(column: sqlalchemy.Column[Any], n: int) -> Any:
    """A plausible value of a column's type (unique per call where the column is unique)."""
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return n
    if isinstance(kind, Numeric):
        return Decimal(n)
    if isinstance(kind, DateTime):
        return datetime(2026, 11, 1, 9, 0)
    if isinstance(kind, Date):
        return date(2026, 11, 1)
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, String):
        text = f"x{n}"
        return text[: kind.length] if kind.length else text
    return f"x{n}"


def arrow_value(kind: pa.DataType) -> Any:
    """A plausible value of a lake column's type."""
    if pa.types.is_boolean(kind):
        return False
    if pa.types.is_integer(kind):
        return 1
    if pa.types.is_floating(kind):
        return 1.0
    if pa.types.is_decimal(kind):
        return Decimal(1)
    if pa.types.is_timestamp(kind):
        return datetime(2026, 11, 1, 9, 0)
    if pa.types.is_date(kind):
        return date(2026, 11, 1)
    if pa.types.is_dictionary(kind):
        return arrow_value(kind.value_type)
    return "x"


class Writer:
    """Inserts a row into any table, making the parent rows its foreign keys need first."""

    def __init__(self, conn: sqlalchemy.Connection) -> None:
        self.conn = conn
        self.n = 0

    def row(self, table: Table, customer_column: str | None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column in table.columns:
            self.n += 1
            if column.name == customer_column:
                values[column.name] = MARKER
            elif column.foreign_keys:
                (fk,) = column.foreign_keys
                parent = self.row(fk.column.table, None)
                values[column.name] = parent[fk.column.name]
            elif column.primary_key and isinstance(column.type, Integer) and column.autoincrement is not False:
                continue
            else:
                values[column.name] = value_for(column, self.n)
        key = self.conn.execute(insert(table).values(**values)).inserted_primary_key
        for column, value in zip(table.primary_key.columns, key or (), strict=False):
            values[column.name] = value
        return values


def customer_tables() -> dict[str, tuple[Table, str]]:
    """Every declared table with a customer column: the declared holding's column, or `customer_id`."""
    declared = {h.table: h.customer_column for h in registry.store_holdings()}
    found = {}
    for table in registry.tables():
        column = declared.get(table.name, "customer_id")
        if column in table.columns:
            found[table.name] = (table, column)
    return found


def write_marker_everywhere(lake: Lake, also: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """The marker in every customer table and every declared lake dataset (and `also`); (tables, datasets)."""
    tables = customer_tables()
    with lake.store.begin() as conn:
        writer = Writer(conn)
        for name, (table, column) in tables.items():
            if name == "lx_audit":  # the hash chain has one writer: the audit module
                audit.append(conn, audit.Action.CUSTOMER_READ, STAFF, target=MARKER)
            else:
                writer.row(table, column)
    datasets = [n for n, t in TABLES.items() if "customer_id" in t.column_names]
    datasets += [h.dataset for h in registry.lake_holdings() if h.dataset != holdings.CONTRACT]
    datasets += list(also)
    for name in datasets:
        contract = TABLES.get(name)
        if contract is not None:
            schema = contract.arrow_schema()
            row = {f.name: arrow_value(f.type) for f in schema}
            row["customer_id"] = MARKER
            data = pa.Table.from_pylist([row], schema=schema)
        else:
            column = holdings.lake_customer_column(name)
            data = pa.table({column: [MARKER], "note": ["a capability's own dataset"]})
        folder = lake.new_folder(name)
        pq.write_table(data, folder / "part-0.parquet")
        lake.publish(name, folder, mode="replace", row_count=1, contract_version=1)
    return sorted(tables), datasets


def marker_in_store(store: sqlalchemy.Engine) -> set[str]:
    meta = MetaData()
    meta.reflect(store)
    found = set()
    with store.connect() as conn:
        for table in meta.sorted_tables:
            if any(MARKER in str(tuple(r)) for r in conn.execute(select(table)).all()):
                found.add(table.name)
    return found


def marker_in_lake(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.parquet")
        if MARKER in json.dumps(pq.read_table(p).to_pylist(), default=str)
    )


def test_a_marker_customer_is_exported_from_everywhere_and_erased_from_everywhere(plugin: str, tmp_path: Path) -> None:
    store = connect(f"sqlite:///{tmp_path / 'lingxi.db'}")
    migrate(store)  # Lingxi's history and the plug-in's branch
    lake = Lake(tmp_path / "lake", store)
    tables, datasets = write_marker_everywhere(lake)
    assert {"lx_consent_event", "lx_user_customer", "lx_correction", "lx_audit", "lx_loyalty_points"} <= set(tables)
    assert {"customers", "transactions", "events", "aum_tiers", "loyalty_points"} <= set(datasets)
    assert marker_in_store(store) == set(tables)

    with DuckDBEngine(threads=1) as engine:
        document, _ = dsr.export_customer(lake, engine, MARKER, actor=STAFF, hash_key=KEY, now=NOW)
        for name in datasets:
            assert [r[holdings.lake_customer_column(name)] for r in document["lake"][name]] == [MARKER], name
        for holding in registry.store_holdings():
            part = document[holding.section]
            if holding.section == "operational":
                part = part[holding.table]
            assert MARKER in json.dumps(part, default=str), holding.table

        receipt = dsr.erase_customer(lake, engine, MARKER, actor=STAFF, hash_key=KEY, now=NOW)
    retained = {h.table for h in registry.store_holdings() if h.erase == "retain"}
    assert retained == {"lx_audit"}  # the only declared exception, with its legal reason
    assert marker_in_store(store) == retained
    assert marker_in_lake(lake.root) == []
    assert set(receipt.stores["lake"]) == set(datasets)
    store.dispose()


def test_undeclared_customer_data_makes_requests_refuse(tmp_path: Path) -> None:
    use_plugins(UNDECLARED)
    try:
        store = connect(f"sqlite:///{tmp_path / 'lingxi.db'}")
        migrate(store)
        lake = Lake(tmp_path / "lake", store)
        write_marker_everywhere(lake, also=("loyalty_points",))  # what the plug-in's stage would write
        with DuckDBEngine(threads=1) as engine:
            for request in (dsr.export_customer, dsr.erase_customer):
                with pytest.raises(ConfigError, match="lx_loyalty_points.*loyalty_points"):
                    request(lake, engine, MARKER, actor=STAFF, hash_key=KEY, now=NOW)  # type: ignore[operator]
        assert "lx_loyalty_points" in marker_in_store(store)  # refused before anything was touched
        store.dispose()
    finally:
        use_plugins()
