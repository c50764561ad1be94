"""The API's request and response bodies: one schema per use, as the OpenAPI contract publishes them.

Personal fields are typed `str | None` because what goes out is the masked display (`张**`); the masking
itself happens in lingxi.customers, before these models see the values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from lingxi.privacy.masking import UnmaskReason

#: China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact and needs no tz database.
BANK_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _bank_local(value: datetime) -> datetime:
    return value.replace(tzinfo=BANK_TZ) if value.tzinfo is None else value


#: A time from the operational store: naive UTC there, sent with its offset (RFC 3339).
StoreTime = Annotated[datetime, AfterValidator(_utc)]
#: A time from the lake: the contract's bank local time (Asia/Shanghai), sent with its offset.
BankTime = Annotated[datetime, AfterValidator(_bank_local)]


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain a NUL character (U+0000)")
    return value


#: Free text from a request that may reach the operational store: PostgreSQL can neither store nor compare
#: a NUL character (a 500 from the driver), so it is refused as invalid input (422 naming the field).
NO_NUL = AfterValidator(_no_nul)

CustomerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
CustomerPath = Annotated[CustomerId, Path(description="The customer number (CIF).")]
UnmaskField = Literal["name", "address"]  # the lake holds no mobile or ID number, only their hashes


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorPublic(Model):
    ok: Literal[False] = False
    error: str
    errors: list[dict[str, object]] = []
    status: int


class Health(Model):
    ok: bool
    version: str


class DatasetPublic(Model):
    dataset: str
    version: int
    row_count: int
    as_of: date | None
    published_at: StoreTime


class DatasetsPublic(Model):
    data: list[DatasetPublic]
    count: int


class LoginRequest(Model):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Me(Model):
    username: str
    role: str
    branch_id: str | None
    permissions: list[str]
    via: Literal["session", "token"]
    csrf_token: str | None = Field(None, description="Send it as X-CSRF-Token on state-changing calls.")
    expires_at: StoreTime | None = None


class LoggedOut(Model):
    ok: bool


class SearchRequest(Model):
    query: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="A customer number or its beginning (`C00012`), or a mainland mobile number."
    )
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class CustomerSummary(Model):
    customer_id: str
    branch_id: str
    name: str | None
    city: str | None
    risk_level: str | None
    aum: float | None
    aum_as_of: date | None
    aum_tier: str


class SearchResults(Model):
    data: list[CustomerSummary]
    count: int
    by: Literal["id_prefix", "phone"]


class Profile(Model):
    customer_id: str
    branch_id: str
    name: str | None
    birth_date: date | None
    gender: str | None
    city: str | None
    city_tier: int | None
    occupation: str | None
    onboarded_at: BankTime | None
    risk_level: str | None
    risk_assessed_at: BankTime | None
    address: str | None
    status: str | None
    is_vulnerable: bool | None
    has_phone: bool
    has_id_no: bool
    aum: float | None = Field(description="In CNY; null when an amount had no FX rate.")
    aum_as_of: date | None
    aum_tier: str


class AumPoint(Model):
    snapshot_date: date
    aum: float | None = Field(description="In CNY; null when an amount had no FX rate.")


class FxRate(Model):
    currency: str = Field(description="ISO 4217 code.")
    rate: float | None = Field(description="CNY for one unit; null when no rate is loaded on or before the date.")
    rate_date: date | None = Field(description="The business date of the rate (the latest on or before the amount's).")


class Holding(Model):
    product_id: str
    product_name: str | None
    product_type: str | None
    product_risk_level: str | None
    currency: str = Field(description="ISO 4217 code of `balance`.")
    balance: float = Field(description="In `currency`.")
    fx_rate: float | None = Field(description="CNY for one unit of `currency` (null for CNY).")
    fx_rate_date: date | None
    balance_cny: float | None = Field(description="`balance` × `fx_rate`, rounded to the fen; null without a rate.")


class Account(Model):
    account_id: str
    type: str | None
    branch_id: str | None
    account_no_last4: str | None
    currency: str | None
    opened_at: BankTime | None
    closed_at: BankTime | None
    status: str | None


class Transaction(Model):
    txn_id: str
    ts: BankTime
    amount: float = Field(description="In `currency`.")
    currency: str = Field(description="ISO 4217 code of `amount`.")
    fx_rate: float | None = Field(description="CNY for one unit of `currency` on the transaction's day (null for CNY).")
    fx_rate_date: date | None
    amount_cny: float | None = Field(description="`amount` × `fx_rate`, rounded to the fen; null without a rate.")
    direction: str | None
    channel: str | None
    category: str | None
    counterparty_type: str | None
    product_id: str | None


class Event(Model):
    event_id: str
    ts: BankTime
    channel: str | None
    event_name: str | None


class Consent(Model):
    purpose: str
    channel: str
    status: str
    since: BankTime
    source: str | None


class Customer360(Model):
    profile: Profile
    aum_trend: list[AumPoint]
    aum_rates: list[FxRate] = Field(description="The rates the AUM's foreign-currency holdings were converted at.")
    holdings: list[Holding]
    accounts: list[Account]
    transactions: list[Transaction]
    events: list[Event]
    consents: list[Consent]
    contact_history: list[dict[str, str]] | None = Field(None, description="Not built yet: always null.")
    unmasked: list[str]


class UnmaskRequest(Model):
    fields: Annotated[list[UnmaskField], Field(min_length=1, max_length=2)]
    reason: UnmaskReason


class Count(Model):
    key: str
    count: int


class CustomerCounts(Model):
    total: int
    aum_as_of: date | None
    by_tier: list[Count]
    by_risk: list[Count]
    by_branch: list[Count]
    fx_rates: list[FxRate] = Field(description="Each currency's rate on the AUM date (CNY per unit).")


class QuarantineCount(Model):
    dataset: str
    rows_quarantined: int
    loads: int
    loads_rejected: int
    last_load_at: StoreTime | None


class Dashboard(Model):
    customers: CustomerCounts
    freshness: list[DatasetPublic]
    quarantine: list[QuarantineCount]
    generated_at: StoreTime
    today: date


class AuditEntryPublic(Model):
    seq: int
    at: StoreTime
    actor: str
    role: str | None
    branch_id: str | None
    action: str
    target: str | None
    fields: list[str]
    reason: str | None
    result: str
    detail: str | None
    entry_hash: str
    key_id: str | None = None  # the audit key of the entry's HMAC (its public id); None: written before audit keys


class AuditPage(Model):
    data: list[AuditEntryPublic]
    count: int
    next_before_seq: int | None
