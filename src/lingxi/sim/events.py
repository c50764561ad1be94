"""App, mini-program and WeChat `events`, with a purchase funnel that leaks at every step.

A session opens the app (sometimes before login, so the first event is anonymous), views pages, and
with decreasing probability views a product, adds it to the watch list, starts a purchase and completes
it (SIM_CALIBRATION C4 and params.py). Completed purchases are returned to transactions.py so that each
app purchase has its posting. Customers who are about to leave look at rate-comparison pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lingxi.schema import TABLES
from lingxi.sim.arrays import (
    US_PER_DAY,
    US_PER_HOUR,
    expand,
    format_ids,
    join_strings,
    pick,
    pick_rows,
    take_strings,
    to_timestamp,
)
from lingxi.sim.customers import customer_ids
from lingxi.sim.params import SimParams
from lingxi.sim.population import APP_OCCASIONAL, APP_REGULAR, Population
from lingxi.sim.shelf import Shelf

KINDS = (
    "app_open",
    "login",
    "search",
    "page_view",
    "product_view",
    "watchlist_add",
    "purchase_start",
    "purchase",
)
PAGES = ("home", "wealth", "transfer", "account", "bills", "rates", "compare")
QUERIES = ("理财", "基金", "大额存单", "利率", "养老金", "转账", "信用卡", "保险")
HOURLY = np.array([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2.5, 4, 4.5, 4, 3.5, 4.5, 4, 3, 3, 3, 3, 3.5, 4.5, 6, 6, 4.5, 2])
INVESTABLE = ("wealth", "fund", "insurance", "pension", "time_deposit")


@dataclass
class Purchases:
    """App purchases, handed to transactions.py: customer row, time, product, amount."""

    row: np.ndarray
    ts: np.ndarray
    product: np.ndarray
    amount: np.ndarray


def _session_hours(rng: np.random.Generator, best: np.ndarray) -> np.ndarray:
    near = np.clip(np.rint(best + rng.normal(0, 1.0, len(best))), 0, 23)
    general = pick(rng, HOURLY, len(best))
    return np.where(rng.random(len(best)) < 0.6, near, general).astype(np.int64)


def _app_sessions(pop: Population, p: SimParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(customer row, start time) of every app session in the window."""
    n, blocks = len(pop), -(-pop.days // 30)
    intensity = p.active_days_regular * rng.gamma(0.8, 1 / 0.8, n)
    active = np.where(
        pop.app_class[:, None] == APP_REGULAR,
        True,
        (pop.app_class[:, None] == APP_OCCASIONAL) & (rng.random((n, blocks)) < p.occasional_monthly_active),
    )
    extra = np.where(pop.app_class == APP_REGULAR, intensity, 0.5)
    block_len = np.minimum(30, pop.days - 30 * np.arange(blocks))
    days_per = active * (1 + rng.poisson(extra[:, None] * block_len[None, :] / 30, (n, blocks)))
    cell = expand(days_per.ravel())
    row, block = cell // blocks, cell % blocks
    day = 30 * block + (rng.random(len(cell)) * block_len[block]).astype(np.int64)
    sessions = 1 + rng.poisson(p.launches_per_day, len(day))
    s_day = np.repeat(day, sessions)
    s_row = np.repeat(row, sessions)
    ts = (pop.start_day + s_day) * US_PER_DAY + _session_hours(rng, pop.best_hour[s_row]) * US_PER_HOUR
    ts = ts + rng.integers(0, US_PER_HOUR, len(ts))
    # Disengagement before leaving: half the sessions of the last weeks disappear.
    churn_us = pop.churn_us[s_row]
    fading = (pop.churn_day[s_row] >= 0) & (ts >= churn_us - p.churn_precursor_days * US_PER_DAY)
    keep = (ts >= pop.onboard_us[s_row]) & (ts < churn_us) & ~(fading & (rng.random(len(ts)) < 0.5))
    return s_row[keep], ts[keep]


def app_events(
    pop: Population, shelf: Shelf, p: SimParams, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray | pa.Array], Purchases]:
    row, ts0 = _app_sessions(pop, p, rng)
    s = len(row)
    viewed = rng.random(s) < p.p_product_view
    started = viewed & (rng.random(s) < p.p_purchase_start_given_view)
    counts = np.stack(
        [
            np.ones(s, dtype=np.int64),
            rng.random(s) < p.p_anonymous_start,
            rng.random(s) < p.p_search,
            rng.poisson(p.pageviews_per_session, s),
            viewed * (1 + rng.poisson(0.5, s)),
            viewed & (rng.random(s) < p.p_watchlist_given_view),
            started,
            started & (rng.random(s) < p.p_purchase_given_start),
        ],
        axis=1,
    ).astype(np.int64)
    per_session = counts.sum(axis=1)
    session = np.repeat(np.repeat(np.arange(s), len(KINDS)), counts.ravel())
    kind = np.repeat(np.tile(np.arange(len(KINDS)), s), counts.ravel())
    step = np.arange(len(session)) - np.repeat(np.cumsum(per_session) - per_session, per_session)
    ts = ts0[session] + step * 15_000_000 + rng.integers(0, 15_000_000, len(session))
    r = row[session]

    # One focus product per session, among those the customer is suitable for.
    weights: np.ndarray = np.sum([shelf.weights_for(t, pop.risk[row]) for t in INVESTABLE], axis=0)
    focus = np.maximum(pick_rows(rng, weights), 0)
    product = focus[session]
    fading = (pop.churn_day[r] >= 0) & (ts >= pop.churn_us[r] - p.churn_precursor_days * US_PER_DAY)
    page = np.where(
        fading & (rng.random(len(ts)) < 0.4), 6, pick(rng, (0.35, 0.2, 0.2, 0.12, 0.08, 0.03, 0.02), len(ts))
    )
    amount = np.maximum(
        shelf.min_amount[product],
        np.round(np.maximum(pop.aum[r], 1_000) * 0.1 * rng.lognormal(0, 0.7, len(ts)), -2),
    )
    pid = take_strings(shelf.product_id, product)
    product_json = join_strings('{"product_id": "', pid, '"}')
    props = pc.if_else(
        pa.array(kind == 7),
        join_strings('{"product_id": "', pid, '", "amount": ', pc.cast(pa.array(amount), pa.string()), "}"),
        pc.if_else(
            pa.array(kind >= 4),
            product_json,
            pc.if_else(
                pa.array(kind == 3),
                join_strings('{"page": "', take_strings(PAGES, page), '"}'),
                pc.if_else(
                    pa.array(kind == 2),
                    join_strings('{"query": "', take_strings(QUERIES, rng.integers(0, len(QUERIES), len(ts))), '"}'),
                    pa.scalar(None, pa.string()),
                ),
            ),
        ),
    )
    second = (pop.index[row] * 40_503 % 5 == 0) & (rng.random(s) < 0.3)  # see identities.second_device
    device = pop.index[r] * 2 + second[session]
    anonymous = (kind == 0) & (counts[session, 1] == 1)
    buy = kind == 7
    purchases = Purchases(r[buy], ts[buy] + 60_000_000, product[buy], amount[buy])
    cols = {
        "row": r,
        "ts": ts,
        "kind": kind,
        "props": props,
        "session": session,
        "device": device,
        "anonymous": anonymous,
        "channel": np.zeros(len(ts), dtype=np.int64),
    }
    return cols, purchases


def _social_events(pop: Population, p: SimParams, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """WeChat service-account and mini-program events (channel 2 = wechat, 1 = mini_program)."""
    months = pop.days / 30
    n_wx = rng.poisson(p.wechat_events_per_month * months * pop.wechat)
    n_mp = rng.poisson(p.mini_program_events_per_month * months * pop.mini_program)
    row = np.concatenate([expand(n_wx), expand(n_mp)])
    channel = np.concatenate([np.full(int(n_wx.sum()), 2), np.full(int(n_mp.sum()), 1)])
    ts = (pop.start_day * US_PER_DAY + (rng.random(len(row)) * pop.days * US_PER_DAY)).astype(np.int64)
    kind = np.where(channel == 2, rng.integers(0, 2, len(row)), 2 + rng.integers(0, 2, len(row)))
    keep = (ts >= pop.onboard_us[row]) & (ts < pop.churn_us[row])
    return {"row": row[keep], "ts": ts[keep], "channel": channel[keep], "kind": kind[keep]}


SOCIAL_KINDS = ("wechat_message_open", "wechat_menu_click", "mp_open", "mp_page_view")
CHANNEL_NAMES = ("app", "mini_program", "wechat", "web")


def events_table(
    pop: Population, shelf: Shelf, p: SimParams, rng: np.random.Generator, chunk: int
) -> tuple[pa.Table, Purchases]:
    app, purchases = app_events(pop, shelf, p, rng)
    social = _social_events(pop, p, rng)
    n_app, n_soc = len(app["ts"]), len(social["ts"])
    row = np.concatenate([app["row"], social["row"]])
    ts = np.concatenate([app["ts"], social["ts"]])
    order = np.lexsort((ts, row))
    names = pa.concat_arrays([take_strings(KINDS, app["kind"]), take_strings(SOCIAL_KINDS, social["kind"])])
    # WeChat followers not bound to a customer number are known only by their openid.
    bound = (pop.index[social["row"]] * 2_246_822_519 % 10) < 7
    soc_anon = (social["channel"] == 2) & ~bound
    anonymous = np.concatenate([app["anonymous"], soc_anon])
    device = np.concatenate([app["device"], np.full(n_soc, -1)])
    anon_ids = pc.if_else(
        pa.array(np.concatenate([np.zeros(n_app, bool), soc_anon])),
        format_ids("wx-o", np.concatenate([np.zeros(n_app, np.int64), pop.index[social["row"]]]), 9),
        format_ids("anon-", np.maximum(device, 0), 10),
    )
    session = np.concatenate([app["session"], -np.ones(n_soc, dtype=np.int64)])
    props = pa.concat_arrays([app["props"], pa.nulls(n_soc, pa.string())])
    idx = pa.array(order)
    columns = {
        "event_id": format_ids(f"E{chunk:05d}", np.arange(len(row)), 10),
        "ts": to_timestamp(ts[order]),
        "customer_id": customer_ids(pop.index[row[order]]),
        "anonymous_id": anon_ids.take(idx),
        "channel": take_strings(CHANNEL_NAMES, np.concatenate([app["channel"], social["channel"]])[order]),
        "event_name": names.take(idx),
        "properties": props.take(idx),
        "session_id": format_ids(f"S{chunk:05d}", np.maximum(session[order], 0), 9),
        "device_id": format_ids("D", np.maximum(device[order], 0), 10),
    }
    anon_o = anonymous[order]
    columns["customer_id"] = pc.if_else(pa.array(anon_o), pa.scalar(None, pa.string()), columns["customer_id"])
    columns["anonymous_id"] = pc.if_else(pa.array(anon_o), columns["anonymous_id"], pa.scalar(None, pa.string()))
    no_session = pa.array(session[order] < 0)
    columns["session_id"] = pc.if_else(no_session, pa.scalar(None, pa.string()), columns["session_id"])
    columns["device_id"] = pc.if_else(no_session, pa.scalar(None, pa.string()), columns["device_id"])
    return pa.table(columns, schema=TABLES["events"].arrow_schema()), purchases
