"""The generated bank matches the figures chosen in docs/sim.md, within stated tolerances.

Wealth marginals are checked on 200,000 drawn customers (no files; the heavy tail needs numbers), the
behavioural ones on the 10,000-customer bank of conftest.py, read with DuckDB as a user would.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from lingxi.sim.params import SimParams
from lingxi.sim.population import APP_NEVER, Population, draw_population


@pytest.fixture(scope="module")
def people() -> Population:
    return draw_population(3, 0, 0, 200_000, date(2025, 1, 1), 90, SimParams())


def sql(bank: Path, query: str) -> list[tuple[object, ...]]:
    for name in ("customers", "accounts", "holdings", "transactions", "events", "identities", "truth"):
        query = query.replace(f"{{{name}}}", f"read_parquet('{bank}/{name}/*.parquet')")
    return duckdb.sql(query).fetchall()


def test_aum_is_heavy_tailed_like_a_large_chinese_retail_bank(people: Population) -> None:
    aum = people.aum
    total = aum.sum()
    below = aum < 500_000
    assert 0.97 <= below.mean() <= 0.98  # docs/sim.md: 97.7% of customers under 500k
    assert aum[below].sum() / total < 0.25  # ... holding under a fifth of AUM (18.6%)
    assert 0.72 <= aum[~below].sum() / total <= 0.88  # 500k+: ~81%
    private = aum >= 10_000_000
    assert 0.0004 <= private.mean() < 0.001  # CMB private: 0.073% of customers
    assert 0.20 <= aum[private].sum() / total <= 0.45  # ... holding about a third
    assert (aum < 50_000).mean() >= 0.90  # the long tail is the great majority
    assert abs(people.dormant.mean() - 0.30) < 0.01
    assert np.median(aum[people.dormant]) < 40


def test_risk_tolerance_falls_with_age_and_rises_with_wealth(people: Population) -> None:
    assessed = people.risk >= 0
    elderly = assessed & (people.age >= 65)
    middle = assessed & (people.age >= 25) & (people.age < 55)
    assert people.risk[middle].mean() - people.risk[elderly].mean() >= 0.5
    wealthy = assessed & (people.tier >= 2)
    long_tail = assessed & (people.tier == 0)
    assert people.risk[wealthy].mean() - people.risk[long_tail].mean() >= 0.3
    assert abs((people.age >= 65).mean() - 0.16) < 0.01  # 65+ share (calibration C1)
    expired = assessed & (people.risk_assessed_us < (people.start_day - 365) * 86_400_000_000)
    assert 0.10 <= expired.sum() / assessed.sum() <= 0.20


def test_app_usage_shares(bank: Path, people: Population) -> None:
    assert abs((people.app_class == APP_NEVER).mean() - 0.45) < 0.03  # never use the app
    (mau,) = sql(
        bank,
        "select count(distinct customer_id) / 10000 from {events} where channel = 'app' and ts < date '2025-01-31'",
    )[0]
    assert abs(float(mau) - 0.30) < 0.03  # monthly active / customers (CMB ~34%, ICBC ~25%)
    (wechat,) = sql(
        bank, "select count(distinct customer_id) / 10000 from {identities} where id_type = 'wechat_openid'"
    )[0]
    assert abs(float(wechat) - 0.38) < 0.03


def test_funnel_leaks_at_each_step(bank: Path) -> None:
    sessions, viewed, watched, started, bought = sql(
        bank,
        "select count(*) filter (where event_name = 'app_open'),"
        " count(distinct session_id) filter (where event_name = 'product_view'),"
        " count(distinct session_id) filter (where event_name = 'watchlist_add'),"
        " count(distinct session_id) filter (where event_name = 'purchase_start'),"
        " count(distinct session_id) filter (where event_name = 'purchase') from {events}",
    )[0]
    assert abs(viewed / sessions - 0.30) < 0.02
    assert abs(watched / viewed - 0.15) < 0.02
    assert abs(started / viewed - 0.12) < 0.02
    assert abs(bought / started - 0.40) < 0.05
    (unmatched,) = sql(
        bank,
        "select count(*) from {events} e where event_name = 'purchase' and not exists "
        "(select 1 from {transactions} t where t.customer_id = e.customer_id "
        "and t.category = 'purchase' and t.channel = 'app')",
    )[0]
    assert unmatched == 0  # every app purchase has its posting


def test_churners_move_money_to_other_banks_before_leaving(bank: Path) -> None:
    rows = sql(
        bank,
        """
        with churners as (select customer_id, churn_at from {truth}
                          where churn_at >= timestamp '2025-01-01' + interval 42 day),
        outflow as (select t.customer_id, sum(t.amount) as amount from {transactions} t join churners c
                    using (customer_id)
                    where t.counterparty_type = 'other_bank' and t.category = 'transfer_out'
                    and t.ts >= c.churn_at - interval 42 day group by 1),
        stayers as (select customer_id from {truth} where churn_at is null),
        usual as (select customer_id, sum(amount) as amount
                  from {transactions} join stayers using (customer_id)
                  where counterparty_type = 'other_bank' and category = 'transfer_out'
                  and ts >= timestamp '2025-02-01'
                  and ts < timestamp '2025-02-01' + interval 42 day group by 1)
        select (select count(*) from churners), (select count(*) from outflow),
               (select median(coalesce(o.amount, 0)) from churners left join outflow o using (customer_id)),
               (select median(coalesce(u.amount, 0)) from stayers left join usual u using (customer_id)),
               (select count(*) from {customers} where status = 'closed'), (select count(*) from {truth}
                where churn_at is not null)
        """,
    )[0]
    churners, with_outflow, churner_median, stayer_median, closed, churned = rows
    assert churners >= 30
    assert with_outflow == churners  # every churner moves money out in the 6 weeks before leaving
    assert float(churner_median) > 5 * max(float(stayer_median), 100.0)
    assert closed == churned
    (after,) = sql(
        bank,
        "select count(*) from {transactions} t join {truth} r using (customer_id) "
        "where r.churn_at is not null and t.ts >= r.churn_at",
    )[0]
    assert after == 0


def test_salary_days_and_seasonality(bank: Path) -> None:
    top_day = sql(
        bank,
        "select day(ts) from {transactions} where category = 'salary' group by 1 order by count(*) desc limit 1",
    )[0][0]
    assert top_day in (8, 9, 10)  # the 10th, moved back when it falls on a weekend
    pre, post, weekend = sql(
        bank,
        "select count(*) filter (where ts >= '2025-01-14' and ts < '2025-01-28') / 14,"
        " count(*) filter (where ts >= '2025-02-04' and ts < '2025-02-18') / 14,"
        " avg(case when dayofweek(ts) in (0, 6) then 1.0 else 0.0 end)"
        " from {transactions} where category = 'consumption'",
    )[0]
    assert 1.4 <= pre / post <= 1.8  # Spring Festival 2025: x1.35 before, x0.85 after
    assert 0.30 <= float(weekend) <= 0.36  # weekends x1.2 (2/7 = 0.286 without)
