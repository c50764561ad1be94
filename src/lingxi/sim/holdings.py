"""Month-end `holdings` snapshots: each customer's AUM split across the products they hold.

AUM is split with Dirichlet weights whose means depend on the tier (SIM_CALIBRATION C3), products are
chosen within each type among those the customer is suitable for, and balances follow a monthly
log random walk. A churner's balances fall in the month before leaving (the money went to another bank,
see transactions.py) and stop after the churn date. A foreign-currency holder (sim/fx.py) keeps part of
their demand deposit in a deposit of their currency: the same CNY value at the month-end's rate, so AUM
in CNY, and the tier, stay what the population gave. Every row says its currency, as bank extracts do.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from lingxi.schema import TABLES
from lingxi.sim.arrays import EPOCH, expand, pick_rows, take_strings, to_date, to_money
from lingxi.sim.customers import customer_ids
from lingxi.sim.fx import FX_CURRENCIES, Rates, fx_part, holder_currency
from lingxi.sim.params import OFFER_TYPES, SimParams
from lingxi.sim.population import Population
from lingxi.sim.shelf import Shelf, fx_deposit

AUM_TYPES = ("deposit", "time_deposit", "wealth", "fund", "insurance", "pension")
# Mean share of AUM per type and tier (long tail, base, wealth, private) [U], after SIM_CALIBRATION C3.
SPLIT_MEANS = np.array(
    [
        [0.70, 0.20, 0.05, 0.03, 0.02, 0.02],
        [0.25, 0.30, 0.30, 0.08, 0.07, 0.02],
        [0.15, 0.25, 0.35, 0.12, 0.10, 0.03],
        [0.12, 0.18, 0.40, 0.15, 0.10, 0.05],
    ]
)
CONCENTRATION = 8.0


def month_ends(start: date, days: int) -> list[date]:
    """Month-end dates inside [start, start + days); at least the last month-end before the end."""
    end = start + timedelta(days=days)
    out: list[date] = []
    d = date(start.year, start.month, 1)
    while True:
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        last = nxt - timedelta(days=1)
        if last >= end:
            break
        if last >= start:
            out.append(last)
        d = nxt
    return out or [date(end.year, end.month, 1) - timedelta(days=1)]


def choose_products(pop: Population, shelf: Shelf, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(customer row, product index) pairs: one suitable product per held type, sorted by customer."""
    rows, products = [], []
    for t, name in enumerate(OFFER_TYPES):
        ci = np.nonzero(pop.held[:, t])[0]
        choice = pick_rows(rng, shelf.weights_for(name, pop.risk[ci]))
        rows.append(ci[choice >= 0])
        products.append(choice[choice >= 0])
    row = np.concatenate(rows)
    product = np.concatenate(products)
    order = np.lexsort((product, row))
    return row[order], product[order]


def holdings_table(
    pop: Population, shelf: Shelf, start: date, params: SimParams, rng: np.random.Generator, rates: Rates
) -> pa.Table:
    row, product = choose_products(pop, shelf, rng)
    ptype = shelf.type_code[product]
    # Dirichlet split of AUM over the AUM-type products held (gamma draws normalised per customer).
    is_aum = ptype < len(AUM_TYPES)
    alpha = CONCENTRATION * SPLIT_MEANS[pop.tier[row], np.minimum(ptype, len(AUM_TYPES) - 1)]
    g = np.where(is_aum, rng.gamma(alpha), 0.0)
    total = np.bincount(row, weights=g, minlength=len(pop))
    share = np.where(is_aum, g / np.maximum(total[row], 1e-300), 0.0)
    balance0 = np.where(is_aum, share * pop.aum[row], 0.0)
    # Liabilities: card debt and loans, as positive amounts owed.
    card = ptype == OFFER_TYPES.index("credit_card")
    loan = ptype == OFFER_TYPES.index("loan")
    mortgage = loan & (shelf.min_amount[product] >= 100_000)
    owed = np.where(card, rng.lognormal(np.log(3_000), 1.2, len(row)) * (rng.random(len(row)) < 0.6), 0.0)
    owed = np.where(loan, rng.lognormal(np.log(np.where(mortgage, 600_000, 50_000)), 0.6), owed)
    balance0 = balance0 + owed

    dates = month_ends(start, pop.days)
    m = len(dates)
    date_days = np.array([(d - EPOCH).days for d in dates])
    steps = rng.normal(params.aum_monthly_drift, params.aum_monthly_vol, (len(pop), m))
    jumps = (rng.random((len(pop), m)) < 0.02) * rng.normal(0, 1.5, (len(pop), m))
    walk = np.cumsum(steps + jumps, axis=1)
    walk -= walk[:, :1]  # the first snapshot is the start AUM
    # Churners: balances drained before leaving, nothing after.
    churn_abs = np.where(pop.churn_day >= 0, pop.start_day + pop.churn_day, np.iinfo(np.int64).max)
    before = (date_days[None, :] >= churn_abs[:, None] - params.churn_precursor_days) & (
        date_days[None, :] < churn_abs[:, None]
    )
    factor = np.exp(walk) * np.where(before, 0.25, 1.0)
    onboard_day = pop.onboard_us // 86_400_000_000
    alive = (date_days[None, :] < churn_abs[:, None]) & (date_days[None, :] >= onboard_day[:, None])

    pair = expand(np.full(len(row), m))
    month = np.tile(np.arange(m), len(row))
    r = row[pair]
    keep = alive[r, month]
    pair, month, r = pair[keep], month[keep], r[keep]
    bal = balance0[pair] * np.where(ptype[pair] < len(AUM_TYPES), factor[r, month], 0.99**month)
    day, held = date_days[month], product[pair]
    currency = np.full(len(r), -1)  # -1: CNY, else an index into FX_CURRENCIES

    # Foreign-currency holders: part of the demand deposit in their currency, at the day's rate.
    fx = holder_currency(pop)
    split = (held == shelf.product_id.index("DP0001")) & (fx[r] >= 0)
    cur = fx[r[split]]
    in_cny = bal[split] * fx_part(pop.index[r[split]])
    bal[split] -= in_cny
    fx_ids = np.array([shelf.product_id.index(fx_deposit(c)) for c in FX_CURRENCIES])
    r, day = np.concatenate([r, r[split]]), np.concatenate([day, day[split]])
    held, currency = np.concatenate([held, fx_ids[cur]]), np.concatenate([currency, cur])
    bal = np.concatenate([bal, np.round(in_cny / rates.on(cur, day[len(split) :]), 2)])

    order = np.lexsort((held, day, r))
    r, day, held, bal, currency = r[order], day[order], held[order], bal[order], currency[order]
    columns = {
        "snapshot_date": to_date(day),
        "customer_id": customer_ids(pop.index[r]),
        "product_id": take_strings(shelf.product_id, held),
        "balance": to_money(bal),
        "currency": take_strings(("CNY", *FX_CURRENCIES), currency + 1),
    }
    return pa.table(columns, schema=TABLES["holdings"].arrow_schema())
