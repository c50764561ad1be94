"""Currencies on load: empty currencies from the product or the account, fx_rates, and amounts without a rate.

Three currencies (CNY, USD, HKD); rates on business days only, so a Saturday's holdings take Friday's rate;
an amount dated before its currency's first rate fails the whole load, naming the currency and the date.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lingxi.errors import InputError
from lingxi.schema.fx import MissingRate
from lingxi.store.tables import Load

from .. import factories
from .conftest import Loader
from .test_load import quarantine

FRIDAY, SATURDAY, SUNDAY = "2026-10-30", "2026-10-31", "2026-11-01"
RATES = [
    {"rate_date": "2026-10-29", "currency": "USD", "rate": "7.1200"},
    {"rate_date": FRIDAY, "currency": "USD", "rate": "7.1234"},
    {"rate_date": FRIDAY, "currency": "HKD", "rate": "0.915678"},
]


def products() -> list[dict[str, Any]]:
    """The factory's CNY products with no currency given, a USD and an HKD deposit."""
    rows = factories.products()
    rows[0]["currency"] = "CNY"
    rows += [
        {"product_id": "PUSD", "name": "美元活期", "type": "deposit", "risk_level": "R1", "currency": "USD"},
        {"product_id": "PHKD", "name": "港币活期", "type": "deposit", "risk_level": "R1", "currency": "HKD"},
    ]
    return rows


@pytest.fixture
def bank(loader: Loader, tmp_path: Path) -> Loader:
    """Customers, products in three currencies and the rates of the last days of October 2026."""
    customers = factories.customers(5)
    assert loader("customers", factories.write_csv(tmp_path / "b" / "customers.csv", customers)).ok
    assert loader("products", factories.write_csv(tmp_path / "b" / "products.csv", products())).ok
    assert loader("fx_rates", factories.write_csv(tmp_path / "b" / "fx_rates.csv", RATES)).status == "published"
    return loader


def holding(on: str, product: str, balance: str, **extra: str) -> dict[str, Any]:
    return {"snapshot_date": on, "customer_id": "C000001", "product_id": product, "balance": balance, **extra}


def test_holdings_without_a_currency_take_their_products(bank: Loader, tmp_path: Path) -> None:
    rows = [
        holding(SATURDAY, "P001", "100.00"),  # product CNY
        holding(SATURDAY, "P002", "200.00"),  # product without a currency: CNY
        holding(SATURDAY, "PUSD", "1000.00"),
        holding(SUNDAY, "PHKD", "3000.00"),  # Sunday: Friday's HKD rate covers it
    ]
    report = bank("holdings", factories.write_csv(tmp_path / "h.csv", rows))  # no currency column at all
    assert report.status == "published" and report.rows_valid == 4
    loaded = bank.rows("holdings", "SELECT product_id, currency FROM holdings ORDER BY product_id")
    assert [(r["product_id"], r["currency"]) for r in loaded] == [
        ("P001", "CNY"),
        ("P002", "CNY"),
        ("PHKD", "HKD"),
        ("PUSD", "USD"),
    ]


def test_a_currency_in_the_file_wins_over_the_products_and_is_checked(bank: Loader, tmp_path: Path) -> None:
    rows = [
        holding(SATURDAY, "P001", "100.00", currency="usd"),  # the file says USD (any case, padded)
        holding(SATURDAY, "PUSD", "1000.00", currency=" "),  # empty: the product's
        holding(SATURDAY, "P003", "5.00", currency="US$"),  # not an ISO 4217 code
    ]
    report = bank("holdings", factories.write_csv(tmp_path / "h.csv", rows), max_bad=0.5)
    assert report.reasons == {"currency: bad_format": 1}
    assert [r["raw"] for r in quarantine(report.quarantine_path)][0].count("US$") == 1
    loaded = bank.rows("holdings", "SELECT product_id, currency FROM holdings ORDER BY product_id")
    assert [(r["product_id"], r["currency"]) for r in loaded] == [("P001", "USD"), ("PUSD", "USD")]


def test_transactions_take_their_accounts_currency(bank: Loader, tmp_path: Path) -> None:
    accounts = [
        {"account_id": "A1", "customer_id": "C000001", "type": "savings", "currency": "USD"},
        {"account_id": "A2", "customer_id": "C000001", "type": "savings", "currency": "HKD"},
        {"account_id": "A3", "customer_id": "C000001", "type": "debit_card", "currency": ""},
        {"account_id": "A4", "customer_id": "C000001", "type": "debit_card", "currency": "CNY"},
    ]
    assert bank("accounts", factories.write_csv(tmp_path / "a.csv", accounts)).ok
    base = factories.transactions(6, ["C000001"])
    for row, account, currency in zip(
        base, ["A1", "A2", "A3", "A4", "", "A1"], ["", "", "", "", "", "HKD"], strict=True
    ):
        row |= {"ts": "2026-10-31 10:00:00", "account_id": account, "currency": currency}
    report = bank("transactions", factories.write_csv(tmp_path / "t.csv", base))
    assert report.status == "published" and report.rows_valid == 6
    loaded = bank.rows("transactions", "SELECT txn_id, currency FROM transactions ORDER BY txn_id")
    # the account's (USD, HKD), CNY for an account without one, CNY without an account, the file's own
    assert [r["currency"] for r in loaded] == ["USD", "HKD", "CNY", "CNY", "CNY", "HKD"]


def test_a_default_needs_the_referenced_table(loader: Loader, tmp_path: Path) -> None:
    rows = factories.transactions(3, ["C000001"])
    for row in rows:
        row["account_id"] = "A1"
    with pytest.raises(InputError, match="load `accounts` first") as info:
        loader("transactions", factories.write_csv(tmp_path / "t.csv", rows), check_references=False)
    assert "`transactions.currency` defaults to the currency" in str(info.value)


def test_a_foreign_amount_without_a_rate_fails_the_load(bank: Loader, tmp_path: Path) -> None:
    rows = [
        holding(SATURDAY, "P001", "100.00"),
        holding("2026-10-28", "PUSD", "10.00"),  # the first USD rate is the 29th
        holding(SATURDAY, "PUSD", "1000.00"),
        holding("2026-10-20", "P002", "10.00", currency="EUR"),  # no EUR rate at all
        holding("2026-10-25", "P003", "10.00", currency="EUR"),
    ]
    with pytest.raises(MissingRate) as info:
        bank("holdings", factories.write_csv(tmp_path / "h.csv", rows), chunk_rows=2)
    message = str(info.value)
    assert (
        "`holdings` has amounts without an FX rate on or before their date: EUR from 2026-10-20; USD from 2026-10-28"
        in message
    )
    assert "load `fx_rates` first" in message
    assert bank.lake.snapshot("holdings") is None  # nothing was published
    with bank.lake.store.connect() as conn:
        status = conn.execute(Load.__table__.select().where(Load.dataset == "holdings")).mappings().one()
    assert status["status"] == "failed" and "EUR from 2026-10-20" in status["message"]


def test_without_any_rates_only_cny_loads(loader: Loader, tmp_path: Path) -> None:
    loader.base()
    cny = [holding(SATURDAY, "P001", "100.00")]
    assert loader("holdings", factories.write_csv(tmp_path / "h1.csv", cny)).status == "published"
    usd = [holding(SATURDAY, "P002", "100.00", currency="USD")]
    with pytest.raises(MissingRate, match=f"USD from {SATURDAY}"):
        loader("holdings", factories.write_csv(tmp_path / "h2.csv", usd))


def test_quarantined_rows_need_no_rate(bank: Loader, tmp_path: Path) -> None:
    rows = [holding(SATURDAY, "P001", "100.00"), holding("2026-10-20", "C999", "10.00", currency="EUR")]
    report = bank("holdings", factories.write_csv(tmp_path / "h.csv", rows), max_bad=0.5)
    assert report.status == "published" and report.reasons == {"product_id: unknown_reference": 1}


def test_rates_are_checked_and_keep_six_decimals(loader: Loader, tmp_path: Path) -> None:
    rows = [
        {"rate_date": FRIDAY, "currency": "JPY", "rate": "0.047123"},
        {"rate_date": FRIDAY, "currency": "EUR", "rate": "0"},  # a rate is > 0
        {"rate_date": FRIDAY, "currency": "GBP", "rate": "-9.1"},
        {"rate_date": FRIDAY, "currency": "JPY", "rate": "0.05"},  # the same day twice
        {"rate_date": "", "currency": "AUD", "rate": "4.7"},
    ]
    report = loader("fx_rates", factories.write_csv(tmp_path / "r.csv", rows), max_bad=1.0)
    assert report.reasons == {
        "rate: below_minimum": 2,
        "key: duplicate_key": 1,
        "rate_date: missing_required": 1,
    }
    assert loader.rows("fx_rates", "SELECT currency, rate FROM fx_rates") == [
        {"currency": "JPY", "rate": Decimal("0.047123")}
    ]
    again = loader("fx_rates", factories.write_csv(tmp_path / "r2.csv", rows[:1]), max_bad=1.0)
    assert again.reasons == {"key: key_already_loaded": 1}  # appended: a day's rate is loaded once
