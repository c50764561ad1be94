"""Foreign currency in the console: the 360 shows each amount in CNY with its original amount and rate.

The synthetic bank has a few customers with foreign-currency deposits (lingxi.sim.fx); one with a USD
holding on the latest holdings date is opened in zh-CN and in English.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from lingxi.engine.duckdb import DuckDBEngine
from lingxi.store import Lake, connect

from ..api.conftest import Bank
from .conftest import shot
from .test_console import sign_in

pytestmark = pytest.mark.browser

#: the CNY amount, then `USD 1,000.00 × 7.1234` under it
CONVERTED = re.compile(r"([\d,]+\.\d{2})\s+USD ([\d,]+\.\d{2}) × (\d+\.\d{4,6})")


def usd_holder(bank: Bank) -> str:
    """A customer with a USD holding on the latest holdings date."""
    store = connect(bank.settings.resolved_database_url)
    with DuckDBEngine(memory_limit="256MB", threads=1) as engine:
        Lake(bank.settings.lake_dir, store).register(engine, ["holdings"])
        rows = engine.run(
            "SELECT min(customer_id) AS c FROM holdings "
            "WHERE currency = 'USD' AND snapshot_date = (SELECT max(snapshot_date) FROM holdings)",
            label="test",
        ).to_pylist()
    store.dispose()
    assert rows[0]["c"], "the synthetic bank should hold some USD"
    return str(rows[0]["c"])


def number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def test_the_360_of_a_usd_holder_shows_the_rate_in_both_languages(page: Any, server: str, web_bank: Bank) -> None:
    customer = usd_holder(web_bank)
    sign_in(page, server, "strategist1")
    assert "USD" in page.get_by_test_id("fx-rates").inner_text()  # the dashboard's rates of the AUM date
    page.goto(f"{server}/customers/{customer}")
    page.wait_for_selector("[data-testid=holdings]")
    found = CONVERTED.search(page.get_by_test_id("holdings").inner_text())
    assert found, page.get_by_test_id("holdings").inner_text()
    cny, usd, rate = (number(g) for g in found.groups())
    assert (usd * rate).quantize(Decimal("0.01"), ROUND_HALF_UP) == cny
    title = page.get_by_test_id("holdings").get_by_test_id("fx-amount").first.get_attribute("title")
    assert f"= ¥{found.group(1)}" in title and "汇率日期" in title  # the whole sum and the rate's date
    assert "含外币资产" in page.get_by_test_id("aum-rates").inner_text()
    assert f"USD {found.group(3)}" in page.get_by_test_id("aum-rates").inner_text()
    assert "USD" in page.get_by_test_id("accounts").inner_text()  # the foreign-currency account
    shot(page, "09-customer-360-usd-holder")
    page.get_by_test_id("lang-switch").click()
    page.wait_for_selector("text=Holdings")
    assert CONVERTED.search(page.get_by_test_id("holdings").inner_text())
    assert "Foreign-currency holdings converted to CNY at" in page.get_by_test_id("aum-rates").inner_text()
    shot(page, "10-customer-360-usd-holder-english")
    page.get_by_test_id("lang-switch").click()
