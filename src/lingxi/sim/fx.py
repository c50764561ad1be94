"""Foreign currency in the synthetic bank: daily rates to CNY, and the few customers who hold foreign money.

Rates (`fx_rates`): one row per currency per business day, weekends and the Spring Festival and National
Day holidays left out as CFETS publishes nothing then, so a lookup on a Saturday finds Friday's rate.
Each currency is a random walk from its 2025 level (CFETS central parity, about USD 7.19, HKD 0.925,
EUR 7.9, JPY 0.048, GBP 9.3 CNY a unit [U]; SIM_CALIBRATION has no FX figure) with a daily volatility of
its kind (the HKD follows the USD through its peg). The series starts `LEAD_DAYS` before the window, so
the month-end holdings before a short window have a rate too. It depends on the seed only, not on the chunk.

Holders: a few percent of customers, mostly in the wealth and private tiers (`FX_SHARE`, [U]: household
foreign-currency deposits are well under 1% of household deposits in China, held by the wealthier), keep
part of their demand deposits in one foreign currency (`CURRENCY_SHARES`, USD first, [U]) in a
foreign-currency savings account. Who holds what is a hash of the customer, not a draw, so adding
foreign currency changed no other table's random stream. Their AUM in CNY, and so their tier, is what the
population gave them: the foreign part is the CNY amount divided by the day's rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from lingxi.schema import TABLES
from lingxi.sim.arrays import chunk_rng, day_number, take_strings, to_date
from lingxi.sim.calendar import spring_festival_offset
from lingxi.sim.params import OFFER_TYPES
from lingxi.sim.population import Population

FX_CURRENCIES = ("USD", "HKD", "EUR", "JPY", "GBP")
LEVELS = np.array([7.19, 0.925, 7.90, 0.0480, 9.30])
DAILY_VOL = np.array([0.0012, 0.0012, 0.0045, 0.0055, 0.0045])
CURRENCY_SHARES = np.array([0.62, 0.20, 0.08, 0.06, 0.04])
#: Share of customers holding foreign currency, by tier (long tail, base, wealth, private).
FX_SHARE = np.array([0.01, 0.05, 0.12, 0.25])
#: Share of a holder's demand deposits kept in the foreign currency (a hash spreads it over this range).
FX_PART = (0.2, 0.7)
LEAD_DAYS = 45
SOURCE = "CFETS central parity (synthetic)"


@dataclass(frozen=True)
class Rates:
    """Business-day rates: `days` ascending (days since 1970-01-01), `values` (currencies x days) CNY a unit."""

    days: np.ndarray
    values: np.ndarray

    def on(self, currency: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The rate of each `currency` (index into FX_CURRENCIES) on each `day`: the latest on or before it."""
        at = np.searchsorted(self.days, np.asarray(day), side="right") - 1
        if np.any(at < 0):
            raise ValueError("a day before the first rate: the rates start LEAD_DAYS before the window")
        return self.values[np.asarray(currency), at]


def business_days(first: int, last: int) -> np.ndarray:
    """Days in [first, last] that are neither weekends nor Spring Festival or National Day holidays."""
    day = np.arange(first, last + 1)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    dt = day.astype("datetime64[D]")
    month = dt.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (dt - dt.astype("datetime64[M]")).astype(np.int64) + 1
    offset = spring_festival_offset(day)
    festival = (offset >= 0) & (offset <= 6)
    national = (month == 10) & (dom <= 7)
    return day[(weekday < 5) & ~festival & ~national]


def build_rates(start: date, days: int, seed: int) -> Rates:
    """The rates from LEAD_DAYS before `start` to the window's last day, rounded as `fx_rates` keeps them."""
    first = day_number(start - timedelta(days=LEAD_DAYS))
    on = business_days(first, day_number(start) + days - 1)
    rng = chunk_rng(seed, "fx_rates", 0)
    steps = rng.normal(0.0, 1.0, (len(FX_CURRENCIES), len(on))) * DAILY_VOL[:, None]
    steps[FX_CURRENCIES.index("HKD")] = steps[FX_CURRENCIES.index("USD")] + rng.normal(0, 0.0003, len(on))
    steps[:, 0] = 0.0
    values = np.round(LEVELS[:, None] * np.exp(np.cumsum(steps, axis=1)), 6)
    return Rates(on, values)


def rates_table(rates: Rates) -> pa.Table:
    """The contract `fx_rates` table, sorted by currency then date."""
    n = len(rates.days)
    currency = np.repeat(np.arange(len(FX_CURRENCIES)), n)
    columns = {
        "rate_date": to_date(np.tile(rates.days, len(FX_CURRENCIES))),
        "currency": take_strings(FX_CURRENCIES, currency),
        "rate": pa.array([f"{v:.6f}" for v in rates.values.ravel()]).cast(pa.decimal128(18, 6)),
        "source": pa.array([SOURCE] * len(currency), pa.string()),
    }
    return pa.table(columns, schema=TABLES["fx_rates"].arrow_schema())


def _unit(index: np.ndarray, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) per customer index and salt (splitmix64), so no random stream is used."""
    with np.errstate(over="ignore"):
        x = np.asarray(index, dtype=np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


def fx_currency(index: np.ndarray, tier: np.ndarray, has_deposit: np.ndarray) -> np.ndarray:
    """Per customer: the foreign currency they hold (index into FX_CURRENCIES), or -1 for none."""
    holds = has_deposit & (_unit(index, 17) < FX_SHARE[tier])
    which = np.searchsorted(np.cumsum(CURRENCY_SHARES), _unit(index, 91) * CURRENCY_SHARES.sum(), side="right")
    return np.where(holds, np.minimum(which, len(FX_CURRENCIES) - 1), -1)


def holder_currency(pop: Population) -> np.ndarray:
    """Per customer of `pop`: their foreign currency, or -1; only customers with a demand deposit hold one."""
    has_deposit = pop.held[:, OFFER_TYPES.index("deposit")] & ~pop.card_only
    return fx_currency(pop.index, pop.tier, has_deposit)


def fx_part(index: np.ndarray) -> np.ndarray:
    """Per customer: the share of their demand deposits a holder keeps in foreign currency."""
    low, high = FX_PART
    return low + (high - low) * _unit(index, 53)
