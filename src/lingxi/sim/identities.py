"""`identities` across channels and the `consent_events` history of a chunk.

Identity links are what identity resolution must stitch: the core-banking ID number and phone hashes,
the app user id and devices (the same device ids as in events), WeChat openid and, for most followers,
the unionid, mini-program openid and an e-mail hash. Duplicate customer records (a second CIF for one
person) either share the ID number and phone (a deterministic merge) or share no key at all, only name,
birth date and city (a probabilistic match). Consents are granted at onboarding per purpose and channel
and withdrawn, sometimes re-granted, over time.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lingxi.schema import TABLES
from lingxi.schema.contract import CONSENT_CHANNELS, CONSENT_PURPOSES, IDENTITY_TYPES
from lingxi.sim.arrays import US_PER_DAY, format_ids, keyed_hash, take_strings, to_timestamp
from lingxi.sim.customers import customer_ids
from lingxi.sim.params import SimParams
from lingxi.sim.population import APP_NEVER, Population

SOURCES = ("core_banking", "app_register", "app_login", "wechat_bind", "mini_program", "branch", "sms_reply")


def second_device(pop: Population) -> np.ndarray:
    """Customers who use the app on two devices (stable per customer; events.py uses the same rule)."""
    return (pop.index * 40_503 % 5) == 0


def app_registered(pop: Population) -> np.ndarray:
    return (pop.app_class != APP_NEVER) | ((pop.index * 69_069 % 100) < 20)


def identities_table(pop: Population, customers: pa.Table, hash_key: str, rng: np.random.Generator) -> pa.Table:
    t = IDENTITY_TYPES.index
    wx = pop.wechat
    unionid = wx & ((pop.index * 2_246_822_519 % 10) < 7)
    email_hash = keyed_hash(format_ids("u", pop.person, 10), hash_key)
    reg = app_registered(pop)
    links = [  # (mask, id_type, values, source)
        (
            customers["id_no_hash"].is_valid().to_numpy(zero_copy_only=False),
            t("id_no_hash"),
            customers["id_no_hash"].combine_chunks(),
            0,
        ),
        (
            customers["phone_hash"].is_valid().to_numpy(zero_copy_only=False),
            t("phone_hash"),
            customers["phone_hash"].combine_chunks(),
            0,
        ),
        (reg, t("app_user_id"), format_ids("U", pop.index, 10), 1),
        (reg, t("device_id"), format_ids("D", pop.index * 2, 10), 2),
        (reg & second_device(pop), t("device_id"), format_ids("D", pop.index * 2 + 1, 10), 2),
        (wx, t("wechat_openid"), format_ids("wx-o", pop.index, 9), 3),
        (unionid, t("wechat_unionid"), format_ids("wx-u", pop.person, 9), 3),
        (pop.mini_program, t("mini_program_openid"), format_ids("mp-o", pop.index, 9), 4),
        (pop.has_email, t("email_hash"), email_hash, 0),
    ]
    rows, kinds, values, sources = [], [], [], []
    for mask, id_type, vals, source_code in links:
        sel = np.nonzero(mask)[0]
        rows.append(sel)
        kinds.append(np.full(len(sel), id_type))
        values.append(vals.take(pa.array(sel)))
        sources.append(np.full(len(sel), source_code))
    row = np.concatenate(rows)
    kind = np.concatenate(kinds)
    order = np.lexsort((kind, row))
    row, kind = row[order], kind[order]
    value = pa.concat_arrays(values).take(pa.array(order))
    source = np.concatenate(sources)[order]
    first = pop.onboard_us[row] + (source > 0) * rng.integers(0, 400, len(row)) * US_PER_DAY
    last_end = np.minimum(pop.churn_us[row], pop.end_us) - 1
    first = np.minimum(first, last_end)
    last = last_end - (rng.random(len(row)) * np.minimum(30 * US_PER_DAY, last_end - first)).astype(np.int64)
    columns = {
        "customer_id": customer_ids(pop.index[row]),
        "id_type": take_strings(IDENTITY_TYPES, kind),
        "id_value": value,
        "source": take_strings(SOURCES, source),
        "first_seen_at": to_timestamp(first),
        "last_seen_at": to_timestamp(np.maximum(last, first)),
    }
    return pa.table(columns, schema=TABLES["identities"].arrow_schema())


def consent_table(
    pop: Population, sleeping_dog: np.ndarray, p: SimParams, rng: np.random.Generator, chunk: int
) -> pa.Table:
    n = len(pop)
    c, purpose = CONSENT_CHANNELS.index, CONSENT_PURPOSES.index
    push_ok = app_registered(pop) & (rng.random(n) < np.where(pop.android, p.push_opt_in_android, p.push_opt_in_ios))
    grants = [  # (purpose, channel, probability per customer)
        (purpose("marketing"), c("sms"), 0.80 * np.ones(n)),
        (purpose("marketing"), c("push"), push_ok.astype(float)),
        (purpose("marketing"), c("email"), 0.6 * pop.has_email),
        (purpose("marketing"), c("wechat"), 0.9 * pop.wechat),
        (purpose("marketing"), c("call"), 0.6 * np.ones(n)),
        (purpose("personalisation"), c("all"), 0.92 * np.ones(n)),
        (purpose("third_party_sharing"), c("all"), 0.10 * np.ones(n)),
    ]
    parts = []
    for purpose_code, channel_code, prob in grants:
        granted_rows = np.nonzero(rng.random(n) < prob)[0]
        parts.append((granted_rows, np.full(len(granted_rows), purpose_code), np.full(len(granted_rows), channel_code)))
    row = np.concatenate([x[0] for x in parts])
    pur = np.concatenate([x[1] for x in parts])
    ch = np.concatenate([x[2] for x in parts])
    granted = pop.onboard_us[row] + rng.integers(0, 3_600, len(row)) * 1_000_000
    end = np.minimum(pop.churn_us[row], pop.end_us)
    hazard = p.consent_withdraw_per_month * np.where(sleeping_dog[row], 3.0, 1.0)
    withdrawn = granted + (rng.exponential(30 / hazard) * US_PER_DAY).astype(np.int64)
    w = withdrawn < end
    regrant = withdrawn + (rng.exponential(90, len(row)) * US_PER_DAY).astype(np.int64)
    r = w & (rng.random(len(row)) < 0.2) & (regrant < end)
    all_row = np.concatenate([row, row[w], row[r]])
    all_ts = np.concatenate([np.minimum(granted, end - 1), withdrawn[w], regrant[r]])
    status = np.concatenate([np.zeros(len(row)), np.ones(int(w.sum())), np.zeros(int(r.sum()))]).astype(np.int64)
    all_pur = np.concatenate([pur, pur[w], pur[r]])
    all_ch = np.concatenate([ch, ch[w], ch[r]])
    source = np.where(status == 1, pick_source(rng, len(status)), np.where(all_ch == c("sms"), 5, 1))
    order = np.lexsort((all_ts, all_row))
    columns = {
        "consent_event_id": format_ids(f"CE{chunk:05d}", np.arange(len(order)), 9),
        "customer_id": customer_ids(pop.index[all_row[order]]),
        "purpose": take_strings(CONSENT_PURPOSES, all_pur[order]),
        "channel": take_strings(CONSENT_CHANNELS, all_ch[order]),
        "status": take_strings(("granted", "withdrawn"), status[order]),
        "ts": to_timestamp(all_ts[order]),
        "source": take_strings(("app", "branch", "call_centre", "sms_reply", "wechat", "branch"), source[order]),
    }
    return pa.table(columns, schema=TABLES["consent_events"].arrow_schema())


def pick_source(rng: np.random.Generator, size: int) -> np.ndarray:
    """Where withdrawals arrive: mostly the app, then SMS replies (TD), the call centre and branches."""
    return np.searchsorted(np.cumsum([0.5, 0.1, 0.15, 0.2, 0.05]), rng.random(size), side="right").clip(0, 4)
