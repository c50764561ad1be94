"""The worked example of docs/loading.md, run as a user runs it: four unloads, four mapping files, no prep script.

The files under tests/data/worked/ are a bank's own export: headerless `;`-separated DB2 unloads, the
customer master with resident ID numbers (birth date and gender inside) and two-digit years, accounts in
three currencies, the bank's middle rates per 100 units, and a ledger keyed by account with signed amounts.
The docs quote the mapping files; a test keeps the quotes and the files the same.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lingxi.cli.main import app
from lingxi.config import Settings
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.store import Lake, connect

from ..clirunner import cli_runner

WORKED = Path(__file__).parents[1] / "data" / "worked"
DOCS = Path(__file__).parents[2] / "docs" / "loading.md"
LOADS = [
    ("customers", "KH_20261130.del"),
    ("accounts", "ZH_20261130.del"),
    ("fx_rates", "HL_20261127.del"),
    ("transactions", "LS_20261130.del"),
]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    return cli_runner(monkeypatch, tmp_path / "data", columns=200)


def rows(data: Path, table: str, key: str | None = "first") -> dict[str, dict[str, object]]:
    """The published rows of `table` by their first column (or by their position, `key=None`)."""
    settings = Settings(data_dir=data)
    store = connect(settings.resolved_database_url)
    with DuckDBEngine(memory_limit="256MB", threads=1) as engine:
        Lake(settings.lake_dir, store).register(engine, [table])
        found = engine.run(f"SELECT * FROM {table}", label="worked example").to_pylist()
    store.dispose()
    return {str(next(iter(r.values()))) if key else str(i): r for i, r in enumerate(found)}


def test_the_worked_example_loads_with_mapping_files_alone(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["init"]).exit_code == 0
    for table, extract in LOADS:
        result = cli.invoke(
            app,
            ["load", table, str(WORKED / extract), "--mapping", str(WORKED / f"{table}.yaml"), "--as-of", "2026-11-30"]
            + ["--max-bad", "0.5"],
        )
        assert result.exit_code == 0, result.output
    data = tmp_path / "data"
    customers = rows(data, "customers")
    assert set(customers) == {"C000000001", "C000000002", "C000000003"}  # C000000004: a wrong check digit
    assert (customers["C000000001"]["birth_date"], customers["C000000001"]["gender"]) == (date(1949, 12, 31), "F")
    assert (customers["C000000003"]["birth_date"], customers["C000000003"]["risk_level"]) == (date(1949, 12, 31), None)
    assert str(customers["C000000001"]["onboarded_at"]) == "1998-03-12 00:00:00"  # 98 with pivot 1950: 1998
    assert str(customers["C000000003"]["onboarded_at"]) == "2001-01-01 00:00:00"
    accounts = rows(data, "accounts")
    assert {a: r["currency"] for a, r in accounts.items()} == {"A01": "CNY", "A02": "USD", "A03": "CNY", "A04": "HKD"}
    ledger = rows(data, "transactions")
    assert set(ledger) == {"T0001", "T0002", "T0005"}  # T0003: no such account; T0004: after the as-of date
    assert (ledger["T0001"]["customer_id"], ledger["T0001"]["category"], ledger["T0001"]["channel"]) == (
        "C000000001",
        "salary",
        "counter",
    )
    assert (ledger["T0002"]["customer_id"], str(ledger["T0002"]["amount"]), ledger["T0002"]["direction"]) == (
        "C000000002",
        "120.50",
        "debit",
    )
    assert ledger["T0005"]["channel"] is None  # code 99 maps to null
    # each transaction in its account's currency; Monday the 30th converts at Friday the 27th's rate
    assert {t: r["currency"] for t, r in ledger.items()} == {"T0001": "CNY", "T0002": "USD", "T0005": "HKD"}
    rates = {(r["currency"], r["rate_date"]): r["rate"] for r in rows(data, "fx_rates", key=None).values()}
    assert rates[("USD", date(2026, 11, 27))] == Decimal("7.123400") and len(rates) == 4
    shown = cli.invoke(app, ["quarantine", "show", "transactions"]).output
    assert "lookup_not_found" in shown and "after_as_of" in shown


def test_the_docs_quote_the_mapping_files_as_they_are() -> None:
    text = DOCS.read_text(encoding="utf-8")
    quoted = re.findall(r"```yaml\n(# tests/data/worked/(\w+)\.yaml.*?)```", text, re.S)
    assert {name for _, name in quoted} == {"customers", "accounts", "fx_rates", "transactions"}
    for block, name in quoted:
        assert block == (WORKED / f"{name}.yaml").read_text(encoding="utf-8"), f"docs/loading.md quotes {name}.yaml"
