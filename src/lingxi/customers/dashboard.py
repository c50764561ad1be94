"""The home dashboard's numbers: customers by AUM tier, risk level and branch; data freshness; quarantine.

AUM is in CNY; the dashboard lists the rate of each currency on the AUM date (`fx_rates`), the rates its
tiers were decided at. Tiers come from the segments capability's dated tier snapshot (`aum_tiers`, written by
the pipeline's `tiers` stage); before the first pipeline run, or when holdings of a later date were loaded
after it, they are computed from the holdings, with the same result the next snapshot will give.

Customer counts go through the same scoped subquery as every other customer read, so a branch RM's
dashboard counts only their branch. Results are cached per (lake generation, scope): the numbers only
change when a snapshot is published, and the 100k-customer aggregation is the expensive part. Freshness
and quarantine counts describe loads, not customers, and are the same for everyone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, Integer, case, func, select

from lingxi.auth.scope import Principal, scope_filter
from lingxi.customers.queries import dashboard_counts_query, fx_rates_query, tier_date_query
from lingxi.schema.contract import RISK_LEVELS
from lingxi.schema.fx import RATES
from lingxi.segments import DEFAULT_TIERS
from lingxi.segments.compile import latest_holdings_date
from lingxi.segments.service import TIER_DATASET
from lingxi.store.serving import LakeReader
from lingxi.store.tables import Load

_CACHE: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64


def customer_counts(reader: LakeReader, principal: Principal) -> dict[str, Any]:
    """Counts of the customers `principal` may see, by AUM tier, risk level and branch (cached per snapshot)."""
    key = (id(reader), reader.generation, scope_filter(principal))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    counts = _compute(reader, principal)
    with _CACHE_LOCK:
        _CACHE[key] = counts
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return counts


def _compute(reader: LakeReader, principal: Principal) -> dict[str, Any]:
    empty: dict[str, Any] = {
        "total": 0,
        "aum_as_of": None,
        "by_tier": [{"key": t.code, "count": 0} for t in DEFAULT_TIERS.tiers],
        "by_risk": [{"key": r, "count": 0} for r in RISK_LEVELS],
        "by_branch": [],
        "fx_rates": [],
    }
    if not reader.has("customers"):
        return empty
    with_aum = reader.has("holdings") and reader.has("products")
    as_of = reader.rows(latest_holdings_date(), label="AUM date")[0]["snapshot_date"] if with_aum else None
    tiers = False  # the segments capability's daily snapshot, unless holdings were loaded after it
    if reader.has(TIER_DATASET):
        tiers_on = reader.rows(tier_date_query(), label="tier snapshot date")[0]["snapshot_date"]
        tiers = as_of is None or (tiers_on is not None and tiers_on >= as_of)
        as_of = tiers_on if tiers else as_of
    rates = reader.has(RATES)
    query = dashboard_counts_query(principal, with_aum=with_aum, from_snapshot=tiers, rates=rates)
    rows = reader.rows(query, label="dashboard counts")
    by: dict[str, dict[str, int]] = {"tier": {}, "risk": {}, "branch": {}}
    for r in rows:
        by[r["dim"]][str(r["key"])] = int(r["n"])
    risks = [*RISK_LEVELS, *sorted(k for k in by["risk"] if k not in RISK_LEVELS)]
    return {
        "total": sum(by["tier"].values()),
        "aum_as_of": as_of,
        "by_tier": [{"key": t.code, "count": by["tier"].get(t.code, 0)} for t in DEFAULT_TIERS.tiers],
        "by_risk": [{"key": r, "count": by["risk"].get(r, 0)} for r in risks],
        "by_branch": [{"key": k, "count": n} for k, n in sorted(by["branch"].items(), key=lambda kv: (-kv[1], kv[0]))],
        "fx_rates": _rates_on(reader, as_of) if rates and as_of is not None else [],
    }


def _rates_on(reader: LakeReader, on: date) -> list[dict[str, Any]]:
    """Each currency's rate on `on` (the latest on or before it), as the AUM of that date converts it."""
    rows = reader.rows(fx_rates_query(), [on], label="FX rates of the AUM date")
    return [
        {"currency": r["currency"], "rate": r["rate"], "rate_date": r["rate_date"]}
        for r in rows
        if r["currency"] != "CNY"
    ]


def freshness(reader: LakeReader) -> list[dict[str, Any]]:
    """Each published dataset: version, rows, business date and when it was published (UTC)."""
    return [
        {
            "dataset": s.dataset,
            "version": s.version,
            "row_count": s.row_count,
            "as_of": s.as_of,
            "published_at": s.created_at,
        }
        for s in sorted(reader.snapshots.values(), key=lambda s: s.dataset)
    ]


def quarantine(store: Engine) -> list[dict[str, Any]]:
    """Per dataset (from lx_load): rows quarantined by its published loads, as `lingxi status` counts them (a
    rejected load's rows never became part of the data), and how many loads there were and were rejected."""
    rejected = func.sum(func.coalesce((Load.status == "rejected").cast(Integer), 0))
    published = func.sum(case((Load.status == "published", Load.rows_quarantined), else_=0))
    stmt = (
        select(Load.dataset, published, func.count(), rejected, func.max(Load.started_at))
        .group_by(Load.dataset)
        .order_by(Load.dataset)
    )
    with store.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        {
            "dataset": d,
            "rows_quarantined": int(q or 0),
            "loads": int(n),
            "loads_rejected": int(r or 0),
            "last_load_at": last,
        }
        for d, q, n, r, last in rows
    ]


def summary(reader: LakeReader, store: Engine, principal: Principal) -> dict[str, Any]:
    """The whole dashboard for `principal`."""
    return {
        "customers": customer_counts(reader, principal),
        "freshness": freshness(reader),
        "quarantine": quarantine(store),
        "generated_at": datetime.now().astimezone(),
        "today": date.today(),
    }
