"""Money in CNY: the contract's currency rule as sqlglot trees that every engine runs alike.

Amounts stay in their own currency in the lake (`holdings.currency`, `transactions.currency`, ISO 4217).
Where they are summed or shown they are converted to CNY: CNY is 1, any other currency converts at the
`fx_rates` rate of the amount's date, the latest rate on or before it, so a Saturday or a holiday uses the
last business day's rate. Each amount is converted and rounded to the fen on its own (a bank books the CNY
equivalent of each balance), so the lines of the 360 add up to the AUM it shows.

A missing rate is NULL, never 1: a sum with an unconverted amount is NULL too (unknown, not understated).
Missing rates are stopped before they reach a reader: the loader refuses amounts dated before their
currency's first rate (lingxi.ingest.currency) and the tiers stage runs `missing_rates` before it
computes. Rows loaded before the contract had a currency (holdings and transactions version 1) count as CNY.

The rate lookups join the few (currency, date) pairs that need a rate against `fx_rates`, a small table
(a row per currency per business day), never the rows themselves; the golden SQL of every query that
uses them is under tests/snapshots/.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlglot import exp

from lingxi.engine.sql import col, lit, table
from lingxi.errors import InputError
from lingxi.schema.contract import CNY, FX_RATES

#: The lake dataset of the rates.
RATES = FX_RATES.name
#: An amount in CNY, as the contract keeps money.
AMOUNT_TYPE = exp.DataType.build("DECIMAL(18, 2)")
RATE_TYPE = exp.DataType.build("DECIMAL(18, 6)")
HINT = (
    "load `fx_rates` first, with a rate of each currency on or before its first date "
    "(docs/loading.md#currencies-and-fx_rates)"
)


class MissingRate(InputError):
    """Amounts in a currency that has no rate on or before their date: converting them would be a guess."""


def rates_table(published: bool) -> exp.Expr:
    """The rates to read: the `fx_rates` dataset, or, before any is published, an empty relation of its shape.

    Without rates, CNY amounts still convert (at 1) and every other amount is NULL: the queries keep one
    shape whether or not a bank has loaded rates.
    """
    if published:
        return table(RATES)
    columns = [
        exp.cast(exp.null(), exp.DataType.Type.VARCHAR).as_("currency"),
        exp.cast(exp.null(), exp.DataType.Type.DATE).as_("rate_date"),
        exp.cast(exp.null(), RATE_TYPE).as_("rate"),
    ]
    return exp.select(*columns).where(exp.false()).subquery()


def _aliased(source: exp.Expr, alias: str) -> exp.Expr:
    """`source AS alias` for a table, a table function or a subquery."""
    copy = source.copy()
    copy.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return copy


def currency_or_cny(column: exp.Expr) -> exp.Expr:
    """A row's currency; rows loaded before the contract had one (version 1) are CNY."""
    return exp.Coalesce(this=column, expressions=[lit(CNY)])


def is_foreign(currency: exp.Expr) -> exp.Expr:
    """The amount needs a rate (`currency` already through `currency_or_cny`)."""
    return exp.NEQ(this=currency, expression=lit(CNY))


def rates_for(needed: exp.Query, rates: exp.Expr) -> exp.Select:
    """The rate of each (currency, on_date) row of `needed`: currency, on_date, rate_date, rate.

    `rate_date` is the latest date of the currency in `rates` on or before `on_date`; a pair without one
    has no row (a LEFT JOIN to this gives NULL). `rates` is `rates_table(...)` or any relation of that shape.
    """
    found = (
        exp.select(col("currency", "n"), col("on_date", "n"), exp.Max(this=col("rate_date", "r")).as_("rate_date"))
        .from_(needed.subquery("n"))
        .join(
            _aliased(rates, "r"),
            on=exp.and_(
                col("currency", "r").eq(col("currency", "n")),
                exp.LTE(this=col("rate_date", "r"), expression=col("on_date", "n")),
            ),
        )
        .group_by(col("currency", "n"), col("on_date", "n"))
    )
    same = exp.and_(col("currency", "x").eq(col("currency", "f")), col("rate_date", "x").eq(col("rate_date", "f")))
    return (
        exp.select(col("currency", "f"), col("on_date", "f"), col("rate_date", "f"), col("rate", "x"))
        .from_(found.subquery("f"))
        .join(_aliased(rates, "x"), on=same)
    )


def rates_on(on: exp.Expr, rates: exp.Expr) -> exp.Select:
    """The rate of every currency in `rates` on the date `on` (a scalar): currency, on_date, rate_date, rate."""
    every = exp.select(col("currency"), on.copy().as_("on_date")).distinct().from_(_aliased(rates, "c"))
    return rates_for(every, rates)


def needed_rates(rows: exp.Expr, on_date: exp.Expr) -> exp.Select:
    """The distinct (currency, on_date) pairs of `rows` (a relation with `currency`) that need a rate."""
    currency = currency_or_cny(col("currency"))
    return (
        exp.select(currency.as_("currency"), on_date.as_("on_date"))
        .distinct()
        .from_(rows)
        .where(is_foreign(currency.copy()))
    )


def missing_rates(needed: exp.Query, rates: exp.Expr) -> exp.Select:
    """Per currency of `needed` without a rate on or before some of its dates: currency, first_date (the earliest).

    A date has a rate when its currency's first rate is on or before it (later rates only get closer),
    so the check needs the first rate of each currency, not a lookup per date.
    """
    first = (
        exp.select(col("currency"), exp.Min(this=col("rate_date")).as_("first_rate"))
        .from_(_aliased(rates, "r"))
        .group_by(col("currency"))
    )
    before = exp.or_(
        col("first_rate", "f").is_(exp.null()), exp.LT(this=col("on_date", "n"), expression=col("first_rate", "f"))
    )
    return (
        exp.select(col("currency", "n"), exp.Min(this=col("on_date", "n")).as_("first_date"))
        .from_(needed.subquery("n"))
        .join(first.subquery("f"), on=col("currency", "f").eq(col("currency", "n")), join_type="left")
        .where(before)
        .group_by(col("currency", "n"))
    )


def in_cny(amount: exp.Expr, currency: exp.Expr, rate: exp.Expr) -> exp.Case:
    """`amount` in CNY, rounded to the fen: itself in CNY, `amount × rate` otherwise (NULL without a rate)."""
    converted = exp.cast(exp.Round(this=exp.Mul(this=amount.copy(), expression=rate), decimals=lit(2)), AMOUNT_TYPE)
    return exp.Case(ifs=[exp.If(this=currency.eq(lit(CNY)), true=amount)], default=converted)


def to_cny(amount: Decimal, rate: Decimal) -> Decimal:
    """`in_cny` in Python, for amounts already read: `amount × rate` rounded to the fen, half away from zero.

    DuckDB's and Spark's ROUND of a decimal round the same way, so a figure converted here equals one
    converted in SQL (tests/engines/test_fx.py).
    """
    return (amount * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def sum_in_cny(amount_cny: exp.Expr) -> exp.Case:
    """SUM of CNY amounts that is NULL when one of them is (a rate was missing): unknown, never understated."""
    complete = exp.EQ(this=exp.Count(this=exp.Star()), expression=exp.Count(this=amount_cny.copy()))
    return exp.Case(ifs=[exp.If(this=complete, true=exp.Sum(this=amount_cny))])


def missing_rate_error(what: str, missing: list[dict[str, object]]) -> MissingRate:
    """The error naming each currency of `what` without a rate, and the first date that lacks one."""
    listed = "; ".join(
        f"{m['currency']} from {m['first_date']}" for m in sorted(missing, key=lambda m: str(m["currency"]))
    )
    return MissingRate(f"{what} has amounts without an FX rate on or before their date: {listed}", hint=HINT)


__all__ = [
    "AMOUNT_TYPE",
    "CNY",
    "HINT",
    "RATES",
    "MissingRate",
    "currency_or_cny",
    "in_cny",
    "is_foreign",
    "missing_rate_error",
    "missing_rates",
    "needed_rates",
    "rates_for",
    "rates_on",
    "rates_table",
    "sum_in_cny",
    "to_cny",
]
