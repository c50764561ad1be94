"""The 360's amounts in CNY: converted in Python after the rows are read, with the rate shown beside them.

The tier snapshot, search and the dashboard sum AUM in SQL (lingxi.schema.fx). The 360's point reads do
not: a rate lookup joined into each of its queries doubled their time on the serving reader for every
customer (docs/performance.md), while about 98% of customers hold only CNY. So the holdings, the AUM trend
and the recent transactions are read with each amount's currency; only when one is foreign are that
currency's rates read (one small query per currency, `rates_between_query`), and each foreign amount gets
the rate of its date (the latest on or before it), that rate's date and its CNY value by `to_cny`, which
rounds exactly as `in_cny` does in SQL, so the 360's AUM equals the tier snapshot's. A missing rate
leaves the CNY value None (shown as "no rate"; an AUM with such an amount is None, never understated).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lingxi.customers import queries
from lingxi.schema.contract import CNY
from lingxi.schema.fx import RATES, to_cny
from lingxi.store.serving import LakeReader


def day_of(value: date | datetime) -> date:
    """The business date of an amount: a holdings date, or a posting time's day (bank local time)."""
    return value.date() if isinstance(value, datetime) else value


@dataclass
class RateBook:
    """Rates of a few currencies over a span of days, looked up as `fx_rates` is: the latest on or before."""

    days: dict[str, list[date]] = field(default_factory=dict)
    rates: dict[str, list[Decimal]] = field(default_factory=dict)

    def on(self, currency: str, day: date) -> tuple[Decimal | None, date | None]:
        """The rate of `currency` on `day` and the date it is of; (None, None) without one."""
        days = self.days.get(currency, [])
        at = bisect_right(days, day) - 1
        return (self.rates[currency][at], days[at]) if at >= 0 else (None, None)


def read_rates(reader: LakeReader, wanted: Iterable[tuple[str | None, date]]) -> RateBook:
    """The rates every (currency, day) of `wanted` needs; nothing is read when all of them are CNY."""
    spans: dict[str, tuple[date, date]] = {}
    for currency, day in wanted:
        if currency and currency != CNY:
            first, last = spans.get(currency, (day, day))
            spans[currency] = (min(first, day), max(last, day))
    book = RateBook()
    if not spans or not reader.has(RATES):
        return book
    for currency, (first, last) in sorted(spans.items()):
        params = [currency, last, currency, first]
        rows = reader.rows(queries.rates_between_query(), params, label=f"{currency} rates")
        book.days[currency] = [r["rate_date"] for r in rows]
        book.rates[currency] = [r["rate"] for r in rows]
    return book


def currency_of(row: dict[str, Any]) -> str:
    """A row's currency; rows loaded before the contract had one (version 1) are CNY."""
    return str(row["currency"] or CNY)


def convert(row: dict[str, Any], amount: str, day: date, book: RateBook) -> dict[str, Any]:
    """`row` with its `currency`, `fx_rate`, `fx_rate_date` and `<amount>_cny` (CNY: as it is, no rate)."""
    currency = currency_of(row)
    if currency == CNY:
        return row | {"currency": CNY, "fx_rate": None, "fx_rate_date": None, f"{amount}_cny": row[amount]}
    rate, rate_date = book.on(currency, day)
    cny = None if rate is None else to_cny(row[amount], rate)
    return row | {"fx_rate": rate, "fx_rate_date": rate_date, f"{amount}_cny": cny}


def aum_by_date(rows: list[dict[str, Any]], book: RateBook) -> list[dict[str, Any]]:
    """The AUM trend in CNY from `aum_trend_query` rows: a date with a balance lacking a rate has AUM None."""
    totals: dict[date, Decimal | None] = {}
    for row in rows:
        on = row["snapshot_date"]
        cny = convert(row, "balance", on, book)["balance_cny"]
        before = totals.get(on, Decimal(0))
        totals[on] = None if cny is None or before is None else before + cny
    return [{"snapshot_date": on, "aum": None if v is None else float(v)} for on, v in totals.items()]


def rates_used(holdings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rates the foreign holdings were converted at, by currency (a missing rate: None)."""
    used = {h["currency"]: (h["fx_rate"], h["fx_rate_date"]) for h in holdings if h["currency"] != CNY}
    return [{"currency": c, "rate": r, "rate_date": d} for c, (r, d) in sorted(used.items())]
