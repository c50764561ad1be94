"""Foreign currency in the synthetic bank: business-day rates, few holders, and AUM in CNY left as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lingxi.sim import SimConfig, generate_chunk
from lingxi.sim import fx as sim_fx
from lingxi.sim.params import SPRING_FESTIVAL_EVE

START = date(2025, 1, 1)  # the shared bank's (tests/sim/conftest.py)

Reader = Callable[[Path, str], pa.Table]


def test_rates_are_published_on_business_days_only(bank: Path, read: Reader) -> None:
    rates = read(bank, "fx_rates")
    days = set(rates["rate_date"].to_pylist())
    assert {d.weekday() for d in days} <= {0, 1, 2, 3, 4}  # no Saturday or Sunday
    eve = SPRING_FESTIVAL_EVE[2025]
    assert not days & {eve + timedelta(days=i) for i in range(7)}  # nor the Spring Festival holiday
    assert set(rates["currency"].to_pylist()) == set(sim_fx.FX_CURRENCIES)
    assert min(days) <= START - timedelta(days=30) and max(days) >= START + timedelta(days=80)
    usd = [
        float(r) for r, c in zip(rates["rate"].to_pylist(), rates["currency"].to_pylist(), strict=True) if c == "USD"
    ]
    assert 6.8 < min(usd) and max(usd) < 7.6  # a plausible USD/CNY


def test_every_foreign_amount_has_a_rate_on_or_before_its_date(bank: Path, read: Reader) -> None:
    rates = read(bank, "fx_rates")
    first = {
        c: min(
            d for d, cc in zip(rates["rate_date"].to_pylist(), rates["currency"].to_pylist(), strict=True) if cc == c
        )
        for c in sim_fx.FX_CURRENCIES
    }
    holdings = read(bank, "holdings")
    foreign = holdings.filter(pc.not_equal(holdings["currency"], "CNY"))
    assert foreign.num_rows > 0
    for on, currency in zip(foreign["snapshot_date"].to_pylist(), foreign["currency"].to_pylist(), strict=True):
        assert first[currency] <= on
    accounts = read(bank, "accounts")
    fx_accounts = accounts.filter(pc.not_equal(accounts["currency"], "CNY"))
    assert set(fx_accounts["type"].to_pylist()) == {"savings"}
    txns = read(bank, "transactions")
    on_fx = txns.filter(pc.is_in(txns["account_id"], fx_accounts["account_id"]))
    assert on_fx.num_rows > 0  # posted to the foreign-currency accounts, in their currency (the ledger says none)
    assert txns["currency"].null_count == txns.num_rows


def test_holders_are_few_and_mostly_wealthy(bank: Path, read: Reader) -> None:
    customers = read(bank, "customers").num_rows
    holdings = read(bank, "holdings")
    holders = set(holdings.filter(pc.not_equal(holdings["currency"], "CNY"))["customer_id"].to_pylist())
    assert 0.005 < len(holders) / customers < 0.03  # a small share: household FX deposits are under 1% of deposits
    currencies = holdings.filter(pc.not_equal(holdings["currency"], "CNY"))["currency"].to_pylist()
    assert max(set(currencies), key=currencies.count) == "USD"


def test_foreign_currency_leaves_every_customers_aum_in_cny_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    config = SimConfig(customers=4_000, days=70, seed=3, start=date(2025, 9, 1), chunk_customers=4_000)
    with_fx = generate_chunk(config, 0)
    rates = sim_fx.build_rates(config.start, config.days, config.seed)
    monkeypatch.setattr(sim_fx, "FX_SHARE", np.zeros(4))
    without = generate_chunk(config, 0)

    def aum_in_cny(holdings: pa.Table) -> dict[tuple[str, object], float]:
        total: dict[tuple[str, object], float] = {}
        for row in holdings.to_pylist():
            rate = 1.0
            if row["currency"] != "CNY":
                index = sim_fx.FX_CURRENCIES.index(row["currency"])
                day = (row["snapshot_date"] - date(1970, 1, 1)).days
                rate = float(rates.on(np.array([index]), np.array([day]))[0])
            key = (row["customer_id"], row["snapshot_date"])
            total[key] = total.get(key, 0.0) + float(row["balance"]) * rate
        return total

    a, b = aum_in_cny(with_fx["holdings"]), aum_in_cny(without["holdings"])  # type: ignore[arg-type]
    assert a.keys() == b.keys()
    assert max(abs(a[k] - b[k]) for k in a) < 0.1  # rounding of the foreign part to the cent only
    foreign = with_fx["holdings"].filter(pc.not_equal(with_fx["holdings"]["currency"], "CNY"))  # type: ignore[union-attr]
    assert foreign.num_rows > 0
