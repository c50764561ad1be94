"""Monetary `transactions`: salaries, spending, transfers, cash, interest, repayments, purchases, outflows.

Each category is a Poisson process per customer with a monthly rate (SIM_CALIBRATION C5) spread over
days by the calendar's multipliers. Churners show the signals a churn model should find: their salary
stops about a month before they leave, and in the six weeks before, most of their money is transferred
out to accounts at other banks (counterparty `other_bank`, category `transfer_out`). Foreign-currency
holders (sim/fx.py) also receive remittances and spend abroad on their foreign-currency account, in its
currency. The ledger carries no currency column, as many core-banking ledgers keyed by account do: the
loader takes each transaction's currency from its account (the contract's default).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lingxi.schema import TABLES
from lingxi.schema.contract import COUNTERPARTY_TYPES, TXN_CATEGORIES, TXN_CHANNELS
from lingxi.sim.arrays import (
    US_PER_DAY,
    US_PER_HOUR,
    expand,
    format_ids,
    pick,
    pick_rows,
    take_strings,
    to_money,
    to_timestamp,
)
from lingxi.sim.calendar import Calendar, salary_days
from lingxi.sim.customers import ACCOUNT_KINDS, FX_ACCOUNT, account_kinds_held, customer_ids
from lingxi.sim.events import HOURLY, Purchases
from lingxi.sim.fx import Rates, holder_currency
from lingxi.sim.params import OFFER_TYPES, SimParams
from lingxi.sim.population import Population
from lingxi.sim.shelf import Shelf

DEBIT, CREDIT = 1, 0
_CAT = TXN_CATEGORIES.index
_CP = COUNTERPARTY_TYPES.index
_CH = TXN_CHANNELS.index


class _Rows:
    """Column lists of transaction segments, concatenated once at the end."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(
        self,
        row: np.ndarray,
        ts: np.ndarray,
        amount: np.ndarray,
        direction: int | np.ndarray,
        channel: int | np.ndarray,
        category: int,
        counterparty: int | np.ndarray,
        product: np.ndarray | None = None,
        account: int | np.ndarray = 0,
    ) -> None:
        size = len(row)

        def full(v: int | np.ndarray) -> np.ndarray:
            return np.broadcast_to(np.asarray(v, dtype=np.int64), (size,))

        self.parts.append(
            {
                "row": row,
                "ts": ts.astype(np.int64),
                "amount": amount,
                "direction": full(direction),
                "channel": full(channel),
                "category": full(category),
                "counterparty": full(counterparty),
                "product": full(-1) if product is None else product,
                "account": full(account),
            }
        )

    def concat(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}


def _poisson(
    pop: Population, rng: np.random.Generator, cal: Calendar, monthly: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and timestamps of a Poisson process with per-customer monthly rate and daily shape."""
    total = monthly * weights.sum() / 30
    counts = rng.poisson(total)
    row = expand(counts)
    day = cal.draw_days(rng, weights, len(row))
    hour = pick(rng, HOURLY, len(row))
    ts = (pop.start_day + day) * US_PER_DAY + hour * US_PER_HOUR + rng.integers(0, US_PER_HOUR, len(row))
    return row, ts


def transactions_table(
    pop: Population,
    shelf: Shelf,
    cal: Calendar,
    purchases: Purchases,
    p: SimParams,
    rng: np.random.Generator,
    chunk: int,
    rates: Rates,
) -> pa.Table:
    n = len(pop)
    active = ~pop.dormant
    out = _Rows()

    # Salary on the pay date (moved off weekends), stopping a month before a churner leaves.
    codes, code_of = np.unique(pop.salary_dom, return_inverse=True)
    offsets, valid = salary_days(pop.start_day, pop.days, codes)
    payroll = np.nonzero(pop.payroll)[0]
    months = offsets.shape[1]
    row = np.repeat(payroll, months)
    m = np.tile(np.arange(months), len(payroll))
    ok = valid[code_of[row], m]
    row, m = row[ok], m[ok]
    ts = (pop.start_day + offsets[code_of[row], m]) * US_PER_DAY + rng.integers(2, 6, len(row)) * US_PER_HOUR
    ok = ts < pop.churn_us[row] - 30 * US_PER_DAY * (pop.churn_day[row] >= 0)
    row, ts = row[ok], ts[ok]
    january = ((ts // US_PER_DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12) == 0
    bonus = january & (rng.random(len(row)) < 0.45)
    amount = pop.salary[row] * rng.lognormal(0, 0.05, len(row))
    out.add(row, ts, amount, CREDIT, _CH("batch"), _CAT("salary"), _CP("employer"))
    out.add(
        row[bonus],
        ts[bonus] + 60_000_000,
        pop.salary[row[bonus]] * rng.uniform(1, 3, int(bonus.sum())),
        CREDIT,
        _CH("batch"),
        _CAT("salary"),
        _CP("employer"),
    )

    # Spending: primary-bank customers ~20 a month, others ~2; heavy-tailed tickets (mean ~340 CNY).
    card = pop.held[:, OFFER_TYPES.index("credit_card")]
    spend_rate = np.where(pop.primary, p.spend_primary_per_month, p.spend_secondary_per_month)
    spend_rate = spend_rate * rng.gamma(2.0, 0.5, n) * (active | pop.card_only)
    row, ts = _poisson(pop, rng, cal, spend_rate, cal.spend)
    on_card = pop.card_only[row] | (card[row] & (rng.random(len(row)) < 0.3))
    out.add(
        row,
        ts,
        rng.lognormal(np.log(p.ticket_median), p.ticket_sigma, len(row)),
        DEBIT,
        np.array([_CH("pos"), _CH("app"), _CH("third_party")])[pick(rng, (0.35, 0.15, 0.5), len(row))],
        _CAT("consumption"),
        _CP("merchant"),
        account=np.where(on_card, 3, 0),
    )

    bank = active & ~pop.card_only
    engaged = np.where(pop.primary, 1.0, 0.4) * bank
    row, ts = _poisson(pop, rng, cal, p.transfers_out_per_month * engaged, cal.transfer)
    cp = np.array([_CP("other_bank"), _CP("same_bank"), _CP("own_account")])[pick(rng, (0.35, 0.4, 0.25), len(row))]
    out.add(row, ts, rng.lognormal(np.log(800), 1.3, len(row)), DEBIT, _CH("app"), _CAT("transfer_out"), cp)
    row, ts = _poisson(pop, rng, cal, p.transfers_in_per_month * engaged, cal.transfer)
    cp = np.where(rng.random(len(row)) < 0.5, _CP("other_bank"), _CP("same_bank"))
    out.add(row, ts, rng.lognormal(np.log(1_000), 1.2, len(row)), CREDIT, _CH("batch"), _CAT("transfer_in"), cp)
    row, ts = _poisson(pop, rng, cal, p.cash_withdrawals_per_month * engaged, cal.cash)
    out.add(
        row,
        ts,
        np.round(rng.lognormal(np.log(1_000), 0.7, len(row)), -2) + 100,
        DEBIT,
        _CH("atm"),
        _CAT("cash_withdrawal"),
        _CP("own_account"),
    )

    # Quarterly interest on demand deposits, paid on the 21st of Mar/Jun/Sep/Dec (all deposit holders).
    day = np.arange(pop.days) + pop.start_day
    dt = day.astype("datetime64[D]")
    dom = (dt - dt.astype("datetime64[M]")).astype(np.int64) + 1
    month = dt.astype("datetime64[M]").astype(np.int64) % 12 + 1
    for d in np.nonzero((dom == 21) & (month % 3 == 0))[0]:
        row = np.nonzero(~pop.card_only & (pop.aum > 0))[0]
        ts = np.full(len(row), (pop.start_day + d) * US_PER_DAY + US_PER_HOUR // 2)
        out.add(
            row,
            ts,
            np.maximum(pop.aum[row] * 0.3 * 0.0005, 0.01),
            CREDIT,
            _CH("batch"),
            _CAT("interest"),
            _CP("same_bank"),
        )

    # Monthly repayments: card bills (often paid from another bank for card-only customers) and loans.
    for type_name, dom_pay, median in (("credit_card", 25, 2_500.0), ("loan", 20, 3_500.0)):
        holders = np.nonzero(pop.held[:, OFFER_TYPES.index(type_name)] & (active | pop.card_only))[0]
        offs, ok = salary_days(pop.start_day, pop.days, np.array([dom_pay]))
        offs = offs[0][ok[0]]
        row = np.repeat(holders, len(offs))
        ts = (pop.start_day + np.tile(offs, len(holders))) * US_PER_DAY + 10 * US_PER_HOUR
        cp = np.where(pop.card_only[row], _CP("other_bank"), _CP("own_account"))
        out.add(
            row,
            ts,
            rng.lognormal(np.log(median), 0.8, len(row)),
            np.where(pop.card_only[row], CREDIT, DEBIT),
            _CH("batch"),
            _CAT("repayment"),
            cp,
            account=np.where(pop.card_only[row], 3, 0),
        )

    # Product purchases (app purchases from events.py, plus counter sales) and redemptions.
    out.add(
        purchases.row,
        purchases.ts,
        purchases.amount,
        DEBIT,
        _CH("app"),
        _CAT("purchase"),
        _CP("same_bank"),
        purchases.product,
        account=2,
    )
    invest = pop.held[:, [OFFER_TYPES.index(t) for t in ("wealth", "fund")]].any(axis=1)
    for category, rate, channel in (
        (_CAT("purchase"), 0.15, _CH("counter")),
        (_CAT("redemption"), 0.3, _CH("app")),
    ):
        row, ts = _poisson(pop, rng, cal, rate * invest * active, np.ones(pop.days))
        w = shelf.weights_for("wealth", pop.risk[row]) + shelf.weights_for("fund", pop.risk[row])
        product = np.maximum(pick_rows(rng, w), 0)
        amount = np.maximum(shelf.min_amount[product], np.round(pop.aum[row] * 0.08 * rng.lognormal(0, 0.6), -2))
        out.add(
            row,
            ts,
            amount,
            DEBIT if category == _CAT("purchase") else CREDIT,
            channel,
            category,
            _CP("same_bank"),
            product,
            account=2,
        )

    # Churners move their money to another bank in the weeks before leaving.
    churners = np.nonzero((pop.churn_day >= 0) & ~pop.card_only)[0]
    k = rng.integers(2, 6, len(churners))
    row = np.repeat(churners, k)
    lead = rng.uniform(0, p.churn_precursor_days, len(row)) * US_PER_DAY
    ts = pop.churn_us[row] - lead.astype(np.int64)
    share = 1.0 / np.repeat(k, k)
    amount = np.maximum(
        pop.aum[row] * 0.75 * share * rng.uniform(0.8, 1.2, len(row)),
        rng.lognormal(np.log(3_000), 0.8, len(row)),
    )
    out.add(
        row,
        ts,
        amount,
        DEBIT,
        np.where(rng.random(len(row)) < 0.8, _CH("app"), _CH("counter")),
        _CAT("transfer_out"),
        _CP("other_bank"),
    )

    # Foreign-currency holders: remittances in and spending abroad, in the currency of their FX account.
    fx = holder_currency(pop)
    for category, monthly, median, direction, channel, counterparty in (
        (_CAT("transfer_in"), 0.5, 5_000.0, CREDIT, _CH("counter"), _CP("other_bank")),
        (_CAT("consumption"), 2.0, 600.0, DEBIT, _CH("pos"), _CP("merchant")),
    ):
        row, ts = _poisson(pop, rng, cal, monthly * ((fx >= 0) & active), cal.spend)
        in_cny = rng.lognormal(np.log(median), 1.0, len(row))
        amount = in_cny / rates.on(fx[row], ts // US_PER_DAY)
        out.add(row, ts, amount, direction, channel, category, counterparty, account=FX_ACCOUNT)

    t = out.concat()
    keep = (t["ts"] >= pop.onboard_us[t["row"]]) & (t["ts"] < pop.churn_us[t["row"]])
    t = {k2: v[keep] for k2, v in t.items()}
    order = np.lexsort((t["ts"], t["row"]))
    t = {k2: v[order] for k2, v in t.items()}
    idx = pop.index[t["row"]]
    has_product = t["product"] >= 0
    # Post to the intended account when the customer has it, else the debit card, else the credit card.
    kinds = account_kinds_held(pop)[t["row"]]
    wanted = np.minimum(t["account"], len(ACCOUNT_KINDS) - 1)
    account = np.where(kinds[np.arange(len(wanted)), wanted], wanted, np.where(kinds[:, 0], 0, 3))
    has_account = kinds[np.arange(len(account)), account]
    columns = {
        "txn_id": format_ids(f"T{chunk:05d}", np.arange(len(idx)), 10),
        "customer_id": customer_ids(idx),
        "account_id": pc.if_else(
            pa.array(has_account), format_ids("A", idx * 8 + account, 11), pa.scalar(None, pa.string())
        ),
        "ts": to_timestamp(t["ts"]),
        "amount": to_money(np.maximum(t["amount"], 0.01)),
        "direction": take_strings(("credit", "debit"), t["direction"]),
        "channel": take_strings(TXN_CHANNELS, t["channel"]),
        "category": take_strings(TXN_CATEGORIES, t["category"]),
        "counterparty_type": take_strings(COUNTERPARTY_TYPES, t["counterparty"]),
        "product_id": take_strings(shelf.product_id, np.maximum(t["product"], 0), has_product),
        "currency": pa.nulls(len(idx), pa.string()),  # the account's (see the module's docstring)
    }
    return pa.table(columns, schema=TABLES["transactions"].arrow_schema())
