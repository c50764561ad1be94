"""The `customers` and `accounts` tables of a chunk, from its Population.

Identifiers are synthetic but shaped like the real ones (an ID number built from a region code and the
birth date, an 11-digit mobile number starting with 1, a 16-digit card number) and enter the tables
only as keyed hashes, as the contract requires.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lingxi.schema import TABLES
from lingxi.sim.arrays import (
    US_PER_DAY,
    format_ids,
    join_strings,
    keyed_hash,
    take_strings,
    to_date,
    to_timestamp,
)
from lingxi.sim.fx import FX_CURRENCIES, holder_currency
from lingxi.sim.params import CITIES, OCCUPATIONS, OFFER_TYPES
from lingxi.sim.population import GIVEN_CHARS, SURNAMES, Population

ACCOUNT_KINDS = ("debit_card", "time_deposit", "investment", "credit_card", "loan", "savings")
FX_ACCOUNT = ACCOUNT_KINDS.index("savings")  # a foreign-currency savings account (sim/fx.py)
DISTRICTS = ("东城", "西湖", "高新", "滨江", "锦江", "鼓楼", "开发", "南山", "江北", "新城")
ROADS = ("人民", "解放", "中山", "建设", "和平", "文化", "学府", "长江", "黄河", "友谊")
PHONE_MOD = 6_000_000_000


def customer_ids(index: np.ndarray) -> pa.Array:
    return format_ids("C", index, 9)


def account_ids(index: np.ndarray, kind: int) -> pa.Array:
    """Stable account id of a customer's account of one kind (see ACCOUNT_KINDS)."""
    return format_ids("A", np.asarray(index) * 8 + kind, 11)


def _ymd(days: np.ndarray) -> np.ndarray:
    dt = days.astype("datetime64[D]")
    year = dt.astype("datetime64[Y]").astype(np.int64) + 1970
    month = (dt.astype("datetime64[M]") - dt.astype("datetime64[Y]")).astype(np.int64) + 1
    day = (dt - dt.astype("datetime64[M]")).astype(np.int64) + 1
    return year * 10_000 + month * 100 + day


def synthetic_phones(pop: Population, seed: int) -> np.ndarray:
    """11-digit mobile numbers, unique per person; a fuzzy duplicate record carries a different number."""
    key = np.where(pop.dup_fuzzy, pop.index + 2_000_000_000, pop.person)
    return 13_000_000_000 + (key * 7919 + seed * 104_729) % PHONE_MOD


def has_phone(pop: Population) -> np.ndarray:
    return (pop.person * 2_654_435_761 % 100) >= 5  # 95% have a mobile on file (stable per person)


def customers_table(pop: Population, seed: int, hash_key: str) -> pa.Table:
    n = len(pop)
    region = 110_000 + pop.city * 100 + 1
    id_no = join_strings(
        format_ids("", region, 6), format_ids("", _ymd(pop.birth_day), 8), format_ids("", pop.person, 10)
    )
    id_hash = keyed_hash(id_no, hash_key)
    phone_ok = has_phone(pop)
    phone_hash = keyed_hash(format_ids("", synthetic_phones(pop, seed), 11), hash_key)
    given2 = take_strings(("",) + GIVEN_CHARS, pop.given[:, 1] + 1)
    name = join_strings(take_strings(SURNAMES, pop.surname), take_strings(GIVEN_CHARS, pop.given[:, 0]), given2)
    city = take_strings([c[0] for c in CITIES], pop.city)
    address = join_strings(
        city,
        "市",
        take_strings(DISTRICTS, pop.person % len(DISTRICTS)),
        "区",
        take_strings(ROADS, (pop.person // 10) % len(ROADS)),
        "路 ",
        pc.cast(pa.array(pop.person % 300 + 1), pa.string()),
        " 号",
    )
    status = np.where(pop.churn_day >= 0, 2, np.where(pop.dormant, 1, 0))
    columns = {
        "customer_id": customer_ids(pop.index),
        "branch_id": format_ids("BR", pop.branch, 4),
        "name": name,
        "birth_date": to_date(pop.birth_day),
        "gender": take_strings(("M", "F", "U"), pop.gender),
        "city": city,
        "city_tier": pa.array(pop.city_tier.astype(np.int64)),
        "occupation": take_strings(OCCUPATIONS, pop.occupation),
        "onboarded_at": to_timestamp(pop.onboard_us),
        "risk_level": take_strings(("C1", "C2", "C3", "C4", "C5"), np.maximum(pop.risk, 0), pop.risk >= 0),
        "risk_assessed_at": to_timestamp(pop.risk_assessed_us, pop.risk >= 0),
        "id_no_hash": pc.if_else(pa.array(pop.dup_fuzzy), pa.scalar(None, pa.string()), id_hash),
        "phone_hash": pc.if_else(pa.array(phone_ok), phone_hash, pa.scalar(None, pa.string())),
        "address": address,
        "status": take_strings(("active", "dormant", "closed"), status),
        "is_vulnerable": pa.array(pop.vulnerable),
    }
    assert len(columns["name"]) == n
    return pa.table(columns, schema=TABLES["customers"].arrow_schema())


def account_kinds_held(pop: Population) -> np.ndarray:
    """(n x 6) bool: which of ACCOUNT_KINDS each customer has."""
    held = pop.held
    t = OFFER_TYPES.index
    investment = held[:, [t("wealth"), t("fund"), t("insurance"), t("pension")]].any(axis=1)
    return np.stack(
        [
            held[:, t("deposit")],
            held[:, t("time_deposit")],
            investment,
            held[:, t("credit_card")],
            held[:, t("loan")],
            holder_currency(pop) >= 0,
        ],
        axis=1,
    )


def accounts_table(pop: Population, hash_key: str, rng: np.random.Generator) -> pa.Table:
    kinds = account_kinds_held(pop)
    ci, ki = np.nonzero(kinds)  # row-major: sorted by customer, then kind
    onboard = pop.onboard_us[ci]
    span = np.maximum(pop.start_day * US_PER_DAY - onboard, 0)
    opened = np.where(ki == 0, onboard, onboard + (rng.random(len(ci)) * 0.8 * span).astype(np.int64))
    opened = np.minimum(opened, pop.end_us - 1)
    closed = pop.churn_day[ci] >= 0
    closed_us = pop.churn_us[ci]
    status = np.where(closed, 2, np.where(pop.dormant[ci] & (ki == 0), 1, 0))
    card_no = format_ids("6225", pop.index[ci] * 8 + ki, 12)
    columns = {
        "account_id": format_ids("A", pop.index[ci] * 8 + ki, 11),
        "customer_id": customer_ids(pop.index[ci]),
        "type": take_strings(ACCOUNT_KINDS, ki),
        "branch_id": format_ids("BR", pop.branch[ci], 4),
        "account_no_hash": keyed_hash(card_no, hash_key),
        "account_no_last4": pc.utf8_slice_codeunits(card_no, 12, 16),
        "currency": take_strings(("CNY", *FX_CURRENCIES), np.where(ki == FX_ACCOUNT, holder_currency(pop)[ci] + 1, 0)),
        "opened_at": to_timestamp(opened),
        "closed_at": to_timestamp(closed_us, closed),
        "status": take_strings(("active", "dormant", "closed"), status),
    }
    return pa.table(columns, schema=TABLES["accounts"].arrow_schema())
