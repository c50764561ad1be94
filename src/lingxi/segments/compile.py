"""AUM tiers as sqlglot trees: pure functions from a TierSpec to queries any engine can run.

Nothing here runs SQL or knows an engine: each function returns a tree that the engine renders in its
dialect (DuckDB or Spark), and the same tree gives the same rows on both (tests/engines/test_segments.py).
The golden SQL of each query per dialect is under tests/snapshots/test_tier_snapshot/ and its neighbours
(tests/segments/test_compile.py).

AUM (assets under management) of a customer on a date is the sum of their holdings' balances in asset
products (`ASSET_TYPES`) on that date, each converted to CNY at the rate of its currency on that date
(lingxi.schema.fx: the latest `fx_rates` rate on or before it; CNY is 1); a customer without such
holdings has AUM 0 (the lowest tier). Tiers are decided in CNY. `rates` says whether `fx_rates` is
published: without it, only CNY converts and any other currency leaves the AUM NULL (never taken as 1),
which the tiers stage refuses before it runs (`lingxi.segments.service`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlglot import exp

from lingxi.engine.sql import CTEPipeline, col, in_list, lit, table
from lingxi.schema.fx import (
    currency_or_cny,
    in_cny,
    missing_rates,
    needed_rates,
    rates_on,
    rates_table,
    sum_in_cny,
)
from lingxi.segments.library import ASSET_TYPES, DEFAULT_TIERS
from lingxi.segments.spec import TierSpec

#: The lake datasets the tier queries read.
CUSTOMERS, HOLDINGS, PRODUCTS = "customers", "holdings", "products"
#: The type of the `aum` column of a tier snapshot.
AUM_TYPE = exp.DataType.build("DECIMAL(20, 2)")


def tier_case(spec: TierSpec, aum: exp.Expr) -> exp.Case:
    """CASE giving the tier code of an AUM amount (NULL counts as 0, as a customer without holdings).

    Examples:
        >>> from lingxi.engine.sql import render
        >>> render(tier_case(DEFAULT_TIERS, col("aum")))  # doctest: +ELLIPSIS
        "CASE WHEN COALESCE(aum, 0) < 50000 THEN 'long_tail' WHEN ... ELSE 'private' END"
    """
    amount = exp.Coalesce(this=aum.copy(), expressions=[lit(0)])
    case = exp.Case()
    for below, above in zip(spec.tiers, spec.tiers[1:], strict=False):
        case = case.when(exp.LT(this=amount.copy(), expression=lit(above.lower)), lit(below.code))
    if len(spec.tiers) == 1:  # one tier holds everyone; a CASE needs a WHEN
        return case.when(exp.true(), lit(spec.tiers[0].code))
    return case.else_(lit(spec.tiers[-1].code))


def asset_holdings(asset_types: Sequence[str] = ASSET_TYPES) -> exp.Select:
    """Holdings rows in asset products: `customer_id, snapshot_date, currency, balance` (holdings `h`, products `p`).

    `currency` is the holding's, CNY for rows loaded before holdings had one.
    """
    return (
        exp.select(
            col("customer_id", "h"),
            col("snapshot_date", "h"),
            currency_or_cny(col("currency", "h")).as_("currency"),
            col("balance", "h"),
        )
        .from_(table(HOLDINGS, alias="h"))
        .join(table(PRODUCTS, alias="p"), on=col("product_id", "p").eq(col("product_id", "h")))
        .where(in_list(col("type", "p"), list(asset_types)))
    )


def latest_holdings_date() -> exp.Select:
    """One row: `snapshot_date`, the latest business date of the holdings (NULL without holdings)."""
    return exp.select(exp.Max(this=col("snapshot_date")).as_("snapshot_date")).from_(table(HOLDINGS))


def aum_per_customer(
    asset_types: Sequence[str] = ASSET_TYPES,
    *,
    latest: exp.Query | None = None,
    rates: bool = True,
    fx: exp.Table | None = None,
) -> exp.Select:
    """Per customer with asset holdings on the latest holdings date: `customer_id, snapshot_date, aum` (CNY).

    `latest` is a one-row query of that date (default: `latest_holdings_date()`, as a scalar subquery);
    `fx` a relation of the rates on it (`rates_on`; default: looked up here in `fx_rates`, or in no rates
    when `rates` is False).
    """
    on = exp.Subquery(this=latest if latest is not None else latest_holdings_date())
    held = asset_holdings(asset_types).where(col("snapshot_date", "h").eq(on))
    fx_rates = fx.copy() if fx is not None else rates_on(on.copy(), rates_table(rates)).subquery()
    fx_rates.set("alias", exp.TableAlias(this=exp.to_identifier("x")))
    amount = in_cny(col("balance", "a"), col("currency", "a"), col("rate", "x"))
    return (
        exp.select(
            col("customer_id", "a"),
            exp.Max(this=col("snapshot_date", "a")).as_("snapshot_date"),
            sum_in_cny(amount).as_("aum"),
        )
        .from_(held.subquery("a"))
        .join(fx_rates, on=col("currency", "x").eq(col("currency", "a")), join_type="left")
        .group_by(col("customer_id", "a"))
    )


def unpriced_holdings(asset_types: Sequence[str] = ASSET_TYPES, *, rates: bool = True) -> exp.Select:
    """Currencies of asset holdings on the latest holdings date without a rate on it: currency, first_date.

    No row means the tier snapshot can convert every amount; the tiers stage runs this first.
    """
    held = asset_holdings(asset_types).where(col("snapshot_date", "h").eq(exp.Subquery(this=latest_holdings_date())))
    return missing_rates(needed_rates(held.subquery("a"), col("snapshot_date")), rates_table(rates))


def compile_tier_snapshot(
    spec: TierSpec = DEFAULT_TIERS, *, asset_types: Sequence[str] = ASSET_TYPES, rates: bool = True
) -> exp.Select:
    """One row per customer of `customers`: customer_id, snapshot_date, aum DECIMAL(20, 2) in CNY, tier.

    `snapshot_date` is the latest holdings date (the same on every row); `aum` is 0 for a customer
    without asset holdings on it. Steps: `lx_holdings_latest` (the date), `lx_fx_latest` (each currency's
    rate on it), `lx_customer_aum` (AUM of customers with holdings on it), then every customer with their
    AUM and tier. `rates`: whether `fx_rates` is published (see the module's docstring).
    """
    pipe = CTEPipeline()
    latest = pipe.step("lx_holdings_latest", latest_holdings_date())
    on_latest = exp.select("snapshot_date").from_(latest)
    fx = pipe.step("lx_fx_latest", rates_on(exp.Subquery(this=on_latest.copy()), rates_table(rates)))
    aum = pipe.step("lx_customer_aum", aum_per_customer(asset_types, latest=on_latest, fx=fx))
    amount = exp.cast(exp.Coalesce(this=col("aum", "a"), expressions=[lit(0)]), AUM_TYPE)
    final = (
        exp.select(
            col("customer_id", "c"),
            col("snapshot_date", "l"),
            amount.as_("aum"),
            tier_case(spec, col("aum", "a")).as_("tier"),
        )
        .from_(table(CUSTOMERS, alias="c"))
        .join(latest.as_("l"), join_type="cross")
        .join(aum.as_("a"), on=col("customer_id", "a").eq(col("customer_id", "c")), join_type="left")
    )
    return pipe.build(final)


def tier_of(aum: float | Decimal | int | None, spec: TierSpec = DEFAULT_TIERS) -> str:
    """The tier code of an AUM amount in Python; agrees with `tier_case` (None counts as 0)."""
    return spec.tier_of(aum)


__all__ = [
    "AUM_TYPE",
    "asset_holdings",
    "aum_per_customer",
    "compile_tier_snapshot",
    "latest_holdings_date",
    "tier_case",
    "tier_of",
    "unpriced_holdings",
]
