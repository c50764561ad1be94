"""The customer reads as sqlglot trees: search, the parts of the 360, and the dashboard counts.

Pure functions, no engine: lingxi.customers.service and .dashboard run them on the serving reader
(DuckDB), and tests/customers/test_queries.py keeps their golden SQL per dialect. Values that arrive
with a request (customer ids, search text, phone hashes, limits) are `?` placeholders bound when the
query runs, in the order the placeholders appear; values of a definition (tier bounds, asset types, the
principal's branch or book) are literals rendered by sqlglot.

Money: search and the dashboard's counts sum AUM in CNY in SQL (`rates`: whether `fx_rates` is
published), as the tier snapshot does. The 360's holdings, transactions and AUM trend are read with each
amount's currency and converted in Python (lingxi.customers.money), reading rates only for a customer who
holds a foreign currency: a rate lookup joined into these point reads doubled their time for everyone.

Building a tree costs about as much as running it on a serving copy, so the trees are built once per
scope and kept (`functools.cache`); they are shared: never modify one (sqlglot's builder methods copy).
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Literal

from sqlglot import exp

from lingxi.auth.scope import Principal, Scope
from lingxi.customers.scoping import scope_of, scope_predicate, scoped_customers
from lingxi.engine.sql import CTEPipeline, asc, col, desc, lit, param, table
from lingxi.schema.fx import RATES, rates_on, rates_table
from lingxi.segments.compile import asset_holdings, aum_per_customer, tier_case
from lingxi.segments.library import DEFAULT_TIERS
from lingxi.segments.service import TIER_DATASET
from lingxi.segments.spec import TierSpec

#: Customer columns shown on the 360 page; the identifier hashes are never shown (has_* flags instead).
PROFILE_COLUMNS = (
    "customer_id branch_id name birth_date gender city city_tier occupation onboarded_at risk_level "
    "risk_assessed_at address status is_vulnerable"
).split()
#: The columns of the recent rows the 360 shows, per dataset.
RECENT_COLUMNS = {
    "transactions": (
        "txn_id",
        "ts",
        "amount",
        "currency",
        "direction",
        "channel",
        "category",
        "counterparty_type",
        "product_id",
    ),
    "events": ("event_id", "ts", "channel", "event_name"),
}

RECENT = 20
SearchBy = Literal["phone", "id_prefix"]


def _customer_is_param(alias: str | None = None) -> exp.Expr:
    return col("customer_id", alias).eq(param())


def search_query(
    who: Principal | Scope, by: SearchBy, *, with_aum: bool, values: int = 1, rates: bool = True
) -> exp.Select:
    """Customers in scope matching a phone hash or a customer-number prefix; params: [value, ..., limit].

    A phone is looked up by its hash under each of `values` hash keys (a keyring after a rotation). AUM is
    in CNY (`rates`: whether `fx_rates` is published).
    """
    return _search_query(scope_of(who), by, with_aum, values, rates)


@lru_cache(maxsize=256)
def _search_query(scope: Scope, by: SearchBy, with_aum: bool, values: int, rates: bool) -> exp.Select:
    prefix = exp.StartsWith(this=col("customer_id", "c"), expression=param())
    phone = col("phone_hash", "c")
    by_phone = phone.eq(param()) if values == 1 else phone.isin(*(param() for _ in range(values)))
    match = by_phone if by == "phone" else prefix
    columns = [col(name, "c") for name in ("customer_id", "branch_id", "name", "city", "risk_level")]
    query = exp.select(*columns).from_(scoped_customers(scope))
    if with_aum:
        query = query.select(col("aum", "a"), col("snapshot_date", "a").as_("aum_as_of")).join(
            aum_per_customer(rates=rates).subquery("a"),
            on=col("customer_id", "a").eq(col("customer_id", "c")),
            join_type="left",
        )
    else:
        query = query.select(exp.null().as_("aum"), exp.null().as_("aum_as_of"))
    return query.where(match).order_by(asc(col("customer_id", "c"))).limit(param())


def profile_query(who: Principal | Scope) -> exp.Select:
    """One customer's profile columns, identifier flags and whether it lies in scope; params: [customer_id]."""
    return _profile_query(scope_of(who))


@lru_cache(maxsize=256)
def _profile_query(scope: Scope) -> exp.Select:
    return (
        exp.select(
            *(col(name) for name in PROFILE_COLUMNS),
            exp.Not(this=col("phone_hash").is_(exp.null())).as_("has_phone"),
            exp.Not(this=col("id_no_hash").is_(exp.null())).as_("has_id_no"),
            exp.Paren(this=scope_predicate(scope)).as_("in_scope"),
        )
        .from_(table("customers"))
        .where(_customer_is_param())
    )


@cache
def aum_trend_query() -> exp.Select:
    """One customer's asset holdings on every date, oldest first; params: [customer_id].

    Rows `snapshot_date, currency, balance`, not their sum: lingxi.customers.money converts each to CNY and
    sums per date (reading one customer's few rows costs less than grouping them in DuckDB). `currency` is
    NULL (CNY) for rows loaded before holdings had one.
    """
    columns = (col("snapshot_date", "h"), col("currency", "h"), col("balance", "h"))
    return (
        asset_holdings()
        .select(*columns, append=False)
        .where(_customer_is_param("h"))
        .order_by(asc(col("snapshot_date", "h")))
    )


@cache
def holdings_query() -> exp.Select:
    """One customer's non-zero holdings on a date, with their currency; params: [customer_id, snapshot_date].

    lingxi.customers.money converts them to CNY and orders them by that.
    """
    return (
        exp.select(
            col("product_id", "h"),
            col("name", "p").as_("product_name"),
            col("type", "p").as_("product_type"),
            col("risk_level", "p").as_("product_risk_level"),
            col("currency", "h"),
            col("balance", "h"),
        )
        .from_(table("holdings", alias="h"))
        .join(table("products", alias="p"), on=col("product_id", "p").eq(col("product_id", "h")), join_type="left")
        .where(_customer_is_param("h"))
        .where(col("snapshot_date", "h").eq(param()))
        .where(exp.NEQ(this=col("balance", "h"), expression=lit(0)))
        .order_by(desc(col("balance", "h")))
    )


@cache
def rates_between_query() -> exp.Select:
    """One currency's rates from the latest on or before a first date up to a last date, oldest first.

    Params: [currency, last date, currency, first date]: every rate a date in between can need.
    """
    currency, day = col("currency"), col("rate_date")
    first = (
        exp.select(exp.Max(this=day.copy()))
        .from_(table(RATES))
        .where(currency.copy().eq(param()))
        .where(exp.LTE(this=day.copy(), expression=exp.cast(param(), exp.DataType.Type.DATE)))
    )
    # without a rate on or before the first date, every rate up to the last (COALESCE to the row's own date)
    since = exp.Coalesce(this=exp.Subquery(this=first), expressions=[day.copy()])
    from_first = exp.GTE(this=day.copy(), expression=since)
    return (
        exp.select(day.copy(), col("rate"))
        .from_(table(RATES))
        .where(currency.copy().eq(param()))
        .where(exp.LTE(this=day.copy(), expression=exp.cast(param(), exp.DataType.Type.DATE)))
        .where(from_first)
        .order_by(asc(day.copy()))
    )


@cache
def accounts_query() -> exp.Select:
    """One customer's accounts, oldest first; params: [customer_id]."""
    names = ("account_id", "type", "branch_id", "account_no_last4", "currency", "opened_at", "closed_at", "status")
    return (
        exp.select(*(col(n) for n in names))
        .from_(table("accounts"))
        .where(_customer_is_param())
        .order_by(asc(col("opened_at")))
    )


@cache
def recent_query(dataset: str) -> exp.Select:
    """One customer's latest RECENT rows of `transactions` or `events`; params: [customer_id].

    A transaction comes with its currency (NULL, meaning CNY, for rows loaded before transactions had one).
    """
    return (
        exp.select(*(col(n) for n in RECENT_COLUMNS[dataset]))
        .from_(table(dataset))
        .where(_customer_is_param())
        .order_by(desc(col("ts")))
        .limit(lit(RECENT))
    )


@cache
def consents_query() -> exp.Select:
    """One customer's latest consent event per purpose and channel, from the lake; params: [customer_id]."""
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[col("purpose"), col("channel")],
        order=exp.Order(expressions=[desc(col("ts")), desc(col("consent_event_id"))]),
    )
    columns = ("purpose", "channel", "status", "since", "source")
    ranked = exp.select(
        col("purpose"), col("channel"), col("status"), col("ts").as_("since"), col("source"), rank.as_("lx_rank")
    ).from_(table("consent_events"))
    return (
        exp.select(*(col(c) for c in columns))
        .from_(ranked.where(_customer_is_param()).subquery("e"))
        .where(col("lx_rank").eq(lit(1)))
        .order_by(asc(col("purpose")), asc(col("channel")))
    )


@cache
def tier_query() -> exp.Select:
    """One customer's row of the tier snapshot (segments): tier, aum, snapshot_date; params: [customer_id]."""
    columns = (col("tier"), col("aum"), col("snapshot_date"))
    return exp.select(*columns).from_(table(TIER_DATASET)).where(_customer_is_param())


@cache
def fx_rates_query() -> exp.Select:
    """The rate of every currency in `fx_rates` on a date, by currency: currency, rate_date, rate; params: [date]."""
    rates = rates_on(exp.cast(param(), exp.DataType.Type.DATE), rates_table(True))
    columns = (col("currency", "f"), col("rate_date", "f"), col("rate", "f"))
    return exp.select(*columns).from_(rates.subquery("f")).order_by(asc(col("currency", "f")))


@cache
def tier_date_query() -> exp.Select:
    """One row: `snapshot_date`, the holdings date the tier snapshot was computed from."""
    return exp.select(exp.Max(this=col("snapshot_date")).as_("snapshot_date")).from_(table(TIER_DATASET))


def dashboard_counts_query(
    who: Principal | Scope,
    *,
    with_aum: bool,
    spec: TierSpec = DEFAULT_TIERS,
    from_snapshot: bool = False,
    rates: bool = True,
) -> exp.Union:
    """Customers in scope counted by tier, risk level and branch: rows of (dim, key, n); no params.

    `from_snapshot` reads each customer's tier from the segments capability's tier snapshot (a customer
    loaded after it counts in the lowest tier, as one without holdings); otherwise the tiers are computed
    from the holdings in CNY (`with_aum`; `rates`: whether `fx_rates` is published) or everyone is in the
    lowest tier.
    """
    return _dashboard_counts_query(scope_of(who), with_aum, spec, from_snapshot, rates)


@lru_cache(maxsize=64)
def _dashboard_counts_query(
    scope: Scope, with_aum: bool, spec: TierSpec, from_snapshot: bool, rates: bool
) -> exp.Union:
    pipe = CTEPipeline()
    columns = (col("customer_id", "c"), col("branch_id", "c"), col("risk_level", "c"))
    if from_snapshot:
        tier = exp.Coalesce(this=col("tier", "t"), expressions=[lit(spec.codes[0])])
        on = col("customer_id", "t").eq(col("customer_id", "c"))
        base_query = (
            exp.select(*columns, tier.as_("tier"))
            .from_(scoped_customers(scope))
            .join(table(TIER_DATASET, alias="t"), on=on, join_type="left")
        )
    else:
        aum = col("aum", "a") if with_aum else exp.null()
        base_query = exp.select(*columns, tier_case(spec, aum).as_("tier")).from_(scoped_customers(scope))
        if with_aum:
            on = col("customer_id", "a").eq(col("customer_id", "c"))
            base_query = base_query.join(aum_per_customer(rates=rates).subquery("a"), on=on, join_type="left")
    base = pipe.step("base", base_query)

    def count(dim: str, key: exp.Expr, by: str) -> exp.Select:
        star = exp.Count(this=exp.Star())
        return exp.select(lit(dim).as_("dim"), key.as_("key"), star.as_("n")).from_(base.copy()).group_by(col(by))

    risk = exp.Coalesce(this=col("risk_level"), expressions=[lit("unknown")])
    counts = exp.union(
        count("tier", col("tier"), "tier"),
        count("risk", risk, "risk_level"),
        count("branch", col("branch_id"), "branch_id"),
        distinct=False,
    )
    return pipe.build(counts)


__all__ = [
    "PROFILE_COLUMNS",
    "RECENT_COLUMNS",
    "accounts_query",
    "aum_trend_query",
    "consents_query",
    "dashboard_counts_query",
    "fx_rates_query",
    "holdings_query",
    "profile_query",
    "rates_between_query",
    "recent_query",
    "tier_date_query",
    "tier_query",
    "search_query",
]
