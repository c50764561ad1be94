"""Where customer data is held, by declaration: what a data-subject request exports, erases or keeps.

Every capability declares its holdings in its `capability.py` (lingxi.capability: `StoreHolding` for
operational tables, `LakeHolding` for lake datasets). A request acts on each declaration and nothing else,
so before it starts `check_declared` refuses to run while a table or dataset holding a `customer_id` is
declared by no capability: a capability that forgets its declaration breaks data-subject requests loudly
(and their tests), instead of letting its rows escape an export or an erasure.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, delete, inspect, select

from lingxi import registry
from lingxi.capability import StoreHolding, Subject
from lingxi.errors import ConfigError
from lingxi.schema.contract import TABLES

CUSTOMER_COLUMN = "customer_id"
CONTRACT = "*contract*"


def _declared_tables() -> dict[str, Table]:
    return {t.name: t for t in registry.tables()}


def _holdings() -> dict[str, StoreHolding]:
    return {h.table: h for h in registry.store_holdings()}


def undeclared_store_tables(store: Engine) -> list[str]:
    """Tables with a `customer_id` column (declared ones and any found in the database) no holding covers."""
    held = _holdings()
    found = {name for name, t in _declared_tables().items() if CUSTOMER_COLUMN in t.columns}
    inspector = inspect(store)
    for name in inspector.get_table_names():
        if any(c["name"] == CUSTOMER_COLUMN for c in inspector.get_columns(name)):
            found.add(name)
    return sorted(found - held.keys())


def lake_customer_column(dataset: str) -> str:
    """The column naming the customer in a lake dataset, as its holding declares (`customer_id` otherwise)."""
    for holding in registry.lake_holdings():
        if holding.dataset == dataset:
            return holding.customer_column
    return CUSTOMER_COLUMN


def lake_dataset_declared(dataset: str) -> bool:
    names = {h.dataset for h in registry.lake_holdings()}
    return dataset in names or CONTRACT in names and dataset in TABLES


def check_declared(store: Engine, lake_datasets_with_customers: Iterable[str]) -> None:
    """Refuse a data-subject request while customer data sits where no capability says how to handle it."""
    problems = [f"operational table `{t}`" for t in undeclared_store_tables(store)]
    problems += [f"lake dataset `{d}`" for d in sorted(lake_datasets_with_customers) if not lake_dataset_declared(d)]
    if problems:
        raise ConfigError(
            f"customer data in {', '.join(problems)} is declared by no capability, so a data-subject request "
            "cannot promise to export and erase it",
            hint="declare it in the owning capability's capability.py (StoreHolding / LakeHolding); "
            "see docs/concepts/architecture.md",
        )


def _table(store: Engine, name: str) -> Table:
    table = _declared_tables().get(name)
    if table is None:  # declared as a holding but not as a table of a capability: reflect it
        table = Table(name, MetaData(), autoload_with=store)
    return table


def _rows(conn: Connection, table: Table, holding: StoreHolding, who: Subject) -> list[dict[str, Any]]:
    stmt = select(table).where(table.c[holding.customer_column] == who.customer_id)
    return [dict(r._mapping) for r in conn.execute(stmt).all()]


def export_store(store: Engine, who: Subject) -> dict[str, Any]:
    """The operational part of an export: `operational.<table>` rows, plus each custom holding's section."""
    document: dict[str, Any] = {"operational": {}}
    for holding in _holdings().values():
        if holding.export is not None:
            document[holding.section] = holding.export(store, who)
            continue
        with store.connect() as conn:
            rows = _rows(conn, _table(store, holding.table), holding, who)
        document.setdefault(holding.section, {})[holding.table] = rows
    return document


def erase_store(conn: Connection, who: Subject, at: datetime) -> dict[str, Any]:
    """Erase the customer from every declared table inside the caller's transaction; the receipt's parts."""
    receipt: dict[str, Any] = {"operational": {}}
    for holding in _holdings().values():
        if holding.eraser is not None:
            receipt[holding.receipt_key] = holding.eraser(conn, who, at)
        elif holding.erase == "delete":
            table = _table(conn.engine, holding.table)
            stmt = delete(table).where(table.c[holding.customer_column] == who.customer_id)
            receipt.setdefault(holding.receipt_key, {})[holding.table] = conn.execute(stmt).rowcount
        elif holding.erase == "custom":
            raise ConfigError(f"holding `{holding.table}` is `custom` but declares no eraser")
    return receipt
