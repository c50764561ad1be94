"""Customer search and the customer 360: scoped, masked and audited in one place.

Every function takes the principal and applies, in this order: branch scope in the SQL (lingxi.customers
.scoping), masking of each personal field for that principal (lingxi.privacy.masking), and an audit entry
for the read (`customer_read`) and for each unmasking (`unmask`, with its reason), written in one
transaction (COMPLIANCE.md R24, R25, R45). A customer outside the principal's scope is reported exactly
like a customer that does not exist (NotFound, so the API answers 404): ids cannot be probed. The denial
itself is audited (`access_denied`), so an investigator still sees the attempt (F19).

Search is by customer-number prefix or by mobile number. Names are not searchable: they are personal,
shown masked, and a name search would let anyone confirm a full name by trying it. A mobile is
normalised, hashed with the bank's key and matched against `phone_hash` (the lake never holds the
number), and it travels in a POST body, never in a URL (R50).

Money is in CNY (lingxi.customers.money): AUM, and each holding and transaction beside its own currency,
the rate used and that rate's date, so the page can show `USD 1,000.00 × 7.1234 = ¥7,123.40`; `aum_rates`
lists the rates behind the AUM shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from lingxi.auth import audit
from lingxi.auth.access import deny
from lingxi.auth.errors import PermissionDenied
from lingxi.auth.scope import Principal
from lingxi.customers import money, queries
from lingxi.customers.queries import PROFILE_COLUMNS, SearchBy
from lingxi.errors import InputError
from lingxi.keys import HashKey, Keys
from lingxi.privacy.consent import current_consent
from lingxi.privacy.identifiers import keyed_hash, normalise_phone
from lingxi.privacy.masking import mask_record
from lingxi.schema.contract import ACCOUNTS, CUSTOMERS
from lingxi.schema.fx import RATES
from lingxi.segments import tier_of
from lingxi.segments.service import TIER_DATASET
from lingxi.store.serving import LakeReader

COMPUTED = ("aum", "aum_tier", "aum_as_of", "has_phone", "has_id_no")
PERSONAL_FIELDS = tuple(c.name for c in CUSTOMERS.columns if c.personal and c.name in PROFILE_COLUMNS)
SEARCH_FIELDS = ("name", "city", "risk_level", "holdings.balance")
CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class SearchResult:
    customers: list[dict[str, Any]]
    by: str  # "id_prefix" or "phone"


def search(
    reader: LakeReader, store: Engine, principal: Principal, query: str, *, hash_key: HashKey, limit: int = 20
) -> SearchResult:
    """Customers in scope whose number starts with `query`, or whose mobile is `query`; masked and audited."""
    text = query.strip()
    phone = normalise_phone(text)
    by: SearchBy
    values: list[str]
    if phone is not None:  # hashed under every key: a number loaded before a key rotation is found too
        by, values = "phone", [keyed_hash(phone, secret) for _, secret in sorted(Keys.of(hash_key).secrets.items())]
    elif CUSTOMER_ID.match(text):
        by, values = "id_prefix", [text.upper()]
    else:
        raise InputError(
            "search needs a customer number (or its beginning) or a mainland mobile number",
            hint="names are not searchable: they are personal information",
        )
    rows: list[dict[str, Any]] = []
    if reader.has("customers"):
        with_aum = reader.has("holdings") and reader.has("products")
        rows = reader.rows(
            queries.search_query(principal, by, with_aum=with_aum, values=len(values), rates=reader.has(RATES)),
            [*values, max(1, min(limit, 100))],
            label="customer search",
        )
    found = []
    for row in rows:
        row["aum_tier"] = tier_of(row["aum"])
        found.append(mask_record(row, CUSTOMERS, principal, computed=("aum", "aum_as_of", "aum_tier")).values)
    detail = f"search by {by}: {len(found)} customer(s) listed"  # never the query: it may be a mobile
    audit.record(store, audit.Action.CUSTOMER_READ, principal, target="search", fields=SEARCH_FIELDS, detail=detail)
    return SearchResult(found, by)


def _customer_row(reader: LakeReader, principal: Principal, customer_id: str) -> dict[str, Any] | None:
    if not CUSTOMER_ID.match(customer_id) or not reader.has("customers"):
        return None
    rows = reader.rows(queries.profile_query(principal), [customer_id], label=f"customer `{customer_id}`")
    return rows[0] if rows else None


def customer_360(
    reader: LakeReader,
    store: Engine,
    principal: Principal,
    customer_id: str,
    *,
    unmask: Iterable[str] = (),
    reason: str | None = None,
) -> dict[str, Any]:
    """Everything Lingxi knows about one customer in scope, masked for `principal`; audited.

    `unmask` (with a reason code) shows those fields in full if the principal's role may; the unmasking
    is audited with its reason. Raises NotFound for an unknown customer or one outside the scope.
    """
    row = _customer_row(reader, principal, customer_id)
    if row is None or not row.pop("in_scope"):  # unknown or out of scope: the same work, the same answer (F4)
        raise deny(store, principal, customer_id, known=row is not None)
    cid = str(row["customer_id"])
    trend_rows = _aum_trend(reader, cid)
    latest = trend_rows[-1]["snapshot_date"] if trend_rows else None
    tier = _tier(reader, cid)
    from_snapshot = tier is not None and (latest is None or tier["snapshot_date"] >= latest)
    on = tier["snapshot_date"] if tier is not None and from_snapshot else latest
    holdings = _holdings(reader, cid, on)  # what makes up the AUM shown, on its date
    held_on: date = on if on is not None else date.min  # (no holdings without a date)
    transactions = _recent(reader, "transactions", cid)
    book = money.read_rates(  # only for a customer with a foreign amount
        reader,
        [
            *((r["currency"], r["snapshot_date"]) for r in trend_rows),
            *((h["currency"], held_on) for h in holdings),
            *((t["currency"], money.day_of(t["ts"])) for t in transactions),
        ],
    )
    trend = money.aum_by_date(trend_rows, book)
    holdings = sorted((money.convert(h, "balance", held_on, book) for h in holdings), key=_largest_first)
    transactions = [money.convert(t, "amount", money.day_of(t["ts"]), book) for t in transactions]
    if tier is not None and from_snapshot:
        # the dated tier snapshot: AUM on the bank's latest holdings date, the same figure the dashboard counts
        row |= {"aum": float(tier["aum"]), "aum_as_of": on, "aum_tier": tier["tier"]}
    else:  # no snapshot yet (or holdings loaded after it): the customer's latest AUM, its tier computed here
        aum = trend[-1]["aum"] if trend else 0.0  # None: an amount without a rate (the loader refuses those)
        row |= {"aum": aum, "aum_as_of": on, "aum_tier": tier_of(aum)}
    try:
        profile = mask_record(row, CUSTOMERS, principal, unmask=unmask, reason=reason, computed=COMPUTED)
    except PermissionDenied:  # an unmasking the role may not do, or without a reason: refused and audited (F22)
        fields = sorted(set(unmask))
        audit.record(store, audit.Action.ACCESS_DENIED, principal, target=cid, fields=fields, result="unmask_refused")
        raise
    result = {
        "profile": profile.values,
        "aum_trend": trend,
        "aum_rates": money.rates_used(holdings),
        "holdings": holdings,
        "accounts": _accounts(reader, principal, cid),
        "transactions": transactions,
        "events": _recent(reader, "events", cid),
        "consents": _consents(reader, store, cid),
        "contact_history": None,  # arrives with channels/ (issue: outbound contact records)
        "unmasked": list(profile.unmasked),
    }
    with store.begin() as conn:
        who = audit.Who.of(principal)
        fields = sorted({*PERSONAL_FIELDS, "holdings.balance", "transactions.amount", "accounts.account_no_last4"})
        audit.append(conn, audit.Action.CUSTOMER_READ, who, target=cid, fields=fields, detail="customer 360")
        if profile.unmasked:
            audit.append(conn, audit.Action.UNMASK, who, target=cid, fields=profile.unmasked, reason=str(reason))
    return result


def _tier(reader: LakeReader, cid: str) -> dict[str, Any] | None:
    """The customer's row of the segments capability's tier snapshot (None before the first pipeline run)."""
    if not reader.has(TIER_DATASET):
        return None
    rows = reader.rows(queries.tier_query(), [cid], label="AUM tier")
    return rows[0] if rows else None


def _aum_trend(reader: LakeReader, cid: str) -> list[dict[str, Any]]:
    """The customer's asset amounts per date and currency (lingxi.customers.money sums them in CNY)."""
    if not (reader.has("holdings") and reader.has("products")):
        return []
    return reader.rows(queries.aum_trend_query(), [cid], label="AUM trend")


def _holdings(reader: LakeReader, cid: str, on: Any) -> list[dict[str, Any]]:
    if on is None or not reader.has("products"):
        return []
    return reader.rows(queries.holdings_query(), [cid, on], label="holdings")


def _largest_first(holding: dict[str, Any]) -> tuple[bool, Decimal, str]:
    """Holdings by CNY value, largest first; one without a rate last."""
    cny = holding["balance_cny"]
    return (cny is None, -(cny or Decimal(0)), str(holding["product_id"]))


def _accounts(reader: LakeReader, principal: Principal, cid: str) -> list[dict[str, Any]]:
    if not reader.has("accounts"):
        return []
    rows = reader.rows(queries.accounts_query(), [cid], label="accounts")
    return [mask_record(r, ACCOUNTS, principal).values for r in rows]


def _recent(reader: LakeReader, dataset: str, cid: str) -> list[dict[str, Any]]:
    if not reader.has(dataset):
        return []
    return reader.rows(queries.recent_query(dataset), [cid], label=f"recent {dataset}")


def _consents(reader: LakeReader, store: Engine, cid: str) -> list[dict[str, Any]]:
    """Current consent per purpose and channel, from the consent ledger.

    Before the pipeline's consent stage has filled the ledger, the lake's latest `consent_events` row
    per purpose and channel stands in (shown as the history it is).
    """
    state = current_consent(store, cid)
    if state.latest:
        return [
            {
                "purpose": e.purpose,
                "channel": e.channel,
                "status": e.status,
                "since": e.occurred_at.replace(tzinfo=UTC),
                "source": e.source,
            }
            for e in sorted(state.latest, key=lambda e: (e.purpose, e.channel))
        ]
    if not reader.has("consent_events"):
        return []
    return reader.rows(queries.consents_query(), [cid], label="consents")


__all__ = ["PROFILE_COLUMNS", "SearchResult", "customer_360", "search"]
