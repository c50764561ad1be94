"""The consent ledger: every grant and withdrawal as the customer gave it, and the state derived from them.

The ledger is append-only (triggers, migration 0003), so what a customer agreed to at any moment can be
proven later, and the current state is never stored, only derived. Precedence, for one customer,
purpose and concrete channel (`sms`, `push`, `email`, `wechat`, `call`):

1. the candidates are the latest event for that channel and the latest event for `all`;
2. the later `occurred_at` wins; on equal times a withdrawal beats a grant, then the later-recorded event;
3. no candidate means not granted (`CONSENT_MISSING`): silence is refusal (COMPLIANCE R1, fail closed).

So a channel-specific event overrides `all` only when it is newer, and a newer `all` event overrides
every channel. Asking about channel `all` means "every channel": it is allowed only when each concrete
channel is. Personalisation (PIPL art. 24) is the purpose `personalisation`; without a grant the
customer gets only non-personalised content (`PERSONALISATION_OPTOUT`).

Every change appends an audit entry (action `consent_change`) in the same transaction, naming the
customer by `audit_target` and recording only purpose, channel and status.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from lingxi.auth import audit
from lingxi.auth.audit import Action, Who
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.engine import Engine as AnalyticEngine
from lingxi.errors import LingxiError, SpecError
from lingxi.keys import HashKey
from lingxi.privacy.tables import ConsentEventRow, Erasure, audit_target, subject_refs
from lingxi.redaction import redact_identifiers
from lingxi.store.lake import Lake

Purpose = Literal["marketing", "personalisation", "third_party_sharing"]
Channel = Literal["all", "sms", "push", "email", "wechat", "call"]
Status = Literal["granted", "withdrawn"]
Source = Literal["app", "branch", "call_centre", "sms_reply", "wechat", "import"]

PURPOSES: tuple[str, ...] = get_args(Purpose)
CHANNELS: tuple[str, ...] = get_args(Channel)
CONCRETE_CHANNELS: tuple[str, ...] = CHANNELS[1:]
STATUSES: tuple[str, ...] = get_args(Status)
SOURCES: tuple[str, ...] = get_args(Source)
MAX_CLOCK_SKEW = timedelta(minutes=5)
#: No consent is older than digital banking; earlier dates are typos (and year 1 cannot be stored).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


class Reason(StrEnum):
    """Why consent does not allow something (COMPLIANCE.md principles: machine-readable reason codes)."""

    CONSENT_MISSING = "CONSENT_MISSING"
    CONSENT_WITHDRAWN = "CONSENT_WITHDRAWN"
    PERSONALISATION_OPTOUT = "PERSONALISATION_OPTOUT"


class IdempotencyConflict(LingxiError, ValueError):
    """An idempotency key was sent again with different content: a client bug, never silently accepted."""


@dataclass(frozen=True)
class ConsentEvent:
    """One ledger entry as read back."""

    seq: int
    event_id: str
    idempotency_key: str
    customer_id: str
    purpose: str
    channel: str
    status: str
    source: str
    occurred_at: datetime  # naive UTC
    recorded_at: datetime
    actor: str
    notice_version: str | None
    evidence: str | None

    @property
    def order_key(self) -> tuple[datetime, int, int]:
        """Later wins; on equal times a withdrawal wins (fail closed), then the later-recorded event."""
        return (self.occurred_at, 1 if self.status == "withdrawn" else 0, self.seq)


@dataclass(frozen=True)
class Recorded:
    """What `record_consent` did: the event, and whether it is new (False: an idempotent retry)."""

    event: ConsentEvent
    created: bool


@dataclass(frozen=True)
class Decision:
    """Whether consent allows a use; truthy when allowed. `event_id` is the event the decision rests on."""

    allowed: bool
    purpose: str
    channel: str
    reason: Reason | None = None
    event_id: str | None = None

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class ConsentState:
    """A customer's current consent: the latest event per (purpose, channel); empty means nothing granted."""

    customer_id: str
    latest: tuple[ConsentEvent, ...] = ()

    def effective(self, purpose: str, channel: str) -> ConsentEvent | None:
        """The event that decides `purpose` on one concrete channel (the precedence rule above)."""
        candidates = [e for e in self.latest if e.purpose == purpose and e.channel in (channel, "all")]
        return max(candidates, key=lambda e: e.order_key, default=None)

    def allows(self, purpose: str, channel: str) -> Decision:
        """Consent for `purpose` on `channel`; `all` means on every concrete channel."""
        _check_choice("purpose", purpose, PURPOSES)
        _check_choice("channel", channel, CHANNELS)
        if channel == "all":
            for concrete in CONCRETE_CHANNELS:
                decision = self.allows(purpose, concrete)
                if not decision:
                    return Decision(False, purpose, "all", decision.reason, decision.event_id)
            basis = self.effective(purpose, "sms")
            return Decision(True, purpose, "all", None, basis.event_id if basis else None)
        event = self.effective(purpose, channel)
        if event is None:
            return Decision(False, purpose, channel, Reason.CONSENT_MISSING)
        if event.status != "granted":
            return Decision(False, purpose, channel, Reason.CONSENT_WITHDRAWN, event.event_id)
        return Decision(True, purpose, channel, None, event.event_id)

    def personalisation(self, channel: str = "all") -> Decision:
        """PIPL art. 24: may this customer get personalised content (on `channel`; `all`: anywhere)?"""
        decision = self.allows("personalisation", channel)
        if decision:
            return decision
        return Decision(False, "personalisation", channel, Reason.PERSONALISATION_OPTOUT, decision.event_id)

    def contact(self, channel: str, *, personalised: bool) -> Decision:
        """A marketing contact on `channel`: marketing consent, and personalisation too if `personalised`."""
        decision = self.allows("marketing", channel)
        if decision and personalised:
            return self.personalisation(channel)
        return decision


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SpecError(f"consent `{name}`", [f"`{value}` is not one of: {', '.join(allowed)}"])


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _who(actor: Who | Principal) -> Who:
    if isinstance(actor, Principal):
        actor.require(Permission.CONSENT_WRITE)
        return Who.of(actor)
    return actor


def record_consent(
    store: Engine,
    *,
    customer_id: str,
    purpose: str,
    channel: str,
    status: str,
    source: str,
    occurred_at: datetime,
    idempotency_key: str,
    actor: Who | Principal,
    hash_key: HashKey,
    notice_version: str | None = None,
    evidence: str | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Append one grant or withdrawal; a retry with the same `idempotency_key` returns the first event.

    Keys are the customer's own: the same key sent for another customer is simply another event, so
    neither the answer nor a conflict tells the caller that some other customer used it. Only the same
    key for the same customer with different content is an `IdempotencyConflict`.

    A grant must name the notice version the customer saw and the evidence of their affirmative act
    (the UI element, script or reply that captured it; COMPLIANCE R2, R6); a withdrawal needs neither,
    so withdrawing stays as easy as granting (R4). `occurred_at` must carry a time zone and may not lie
    in the future (beyond a few minutes of clock skew): a future event would silently outrank later ones.
    A Principal must hold `consent:write`; the API checks branch scope (`can_read_customer`) before calling.
    """
    who = _who(actor)
    recorded_at = _utc(now or datetime.now(UTC))
    problems = []
    choices = (("purpose", purpose, PURPOSES), ("channel", channel, CHANNELS), ("status", status, STATUSES))
    for name, value, allowed in (*choices, ("source", source, SOURCES)):
        if value not in allowed:
            problems.append(f"`{name}`: `{value}` is not one of: {', '.join(allowed)}")
    if not customer_id.strip() or len(customer_id) > 64 or customer_id.startswith("erased:"):
        problems.append("`customer_id`: must be the bank's customer number (1-64 characters)")
    if not idempotency_key.strip() or len(idempotency_key) > 100:
        problems.append("`idempotency_key`: required, at most 100 characters (one per customer action)")
    elif idempotency_key.startswith(RESERVED_KEY_PREFIXES):
        problems.append(
            f"`idempotency_key`: keys starting with {' or '.join(RESERVED_KEY_PREFIXES)} are Lingxi's own "
            "(imported history, erasures); choose another"
        )
    if occurred_at.tzinfo is None:
        problems.append("`occurred_at`: must carry a time zone (e.g. 2026-11-02T09:00:00+08:00)")
    elif not EARLIEST.year <= occurred_at.year <= recorded_at.year + 1:  # year 1 or 9999 cannot even be converted
        problems.append(f"`occurred_at`: year {occurred_at.year} is out of range ({EARLIEST.year} to now)")
    elif _utc(occurred_at) > recorded_at + MAX_CLOCK_SKEW:
        problems.append("`occurred_at`: lies in the future")
    if status == "granted" and source != "import":
        if not notice_version:
            problems.append("`notice_version`: a grant must name the privacy notice version the customer saw")
        if not evidence:
            problems.append("`evidence`: a grant must name the affirmative act (UI element, script or reply id)")
    if problems:
        raise SpecError("consent event", problems, hint="see docs/privacy.md, section Recording consent")
    row: dict[str, Any] = {
        "event_id": secrets.token_hex(16),
        "idempotency_key": idempotency_key,
        "customer_id": customer_id,
        "purpose": purpose,
        "channel": channel,
        "status": status,
        "source": source,
        "occurred_at": _utc(occurred_at),
        "recorded_at": recorded_at,
        "actor": who.actor[:128],
        "notice_version": notice_version,
        "evidence": redact_identifiers(evidence)[:256] if evidence else None,
    }
    for _ in range(3):
        existing = _by_key(store, customer_id, idempotency_key)
        if existing is not None:
            return Recorded(_same_or_conflict(existing, row), created=False)
        try:
            with store.begin() as conn:
                seq = conn.execute(insert(ConsentEventRow).values(**row).returning(ConsentEventRow.seq)).scalar_one()
                _audit(conn, who, customer_id, purpose, channel, status, hash_key, recorded_at)
            return Recorded(ConsentEvent(seq=seq, **row), created=True)
        except IntegrityError:  # a concurrent retry with the same customer and key won the insert: read theirs
            continue
    raise IdempotencyConflict(f"idempotency key `{idempotency_key}` is being recorded concurrently", hint="retry")


def _audit(
    conn: Connection,
    who: Who,
    customer_id: str,
    purpose: str,
    channel: str,
    status: str,
    hash_key: HashKey,
    now: datetime,
) -> None:
    audit.append(
        conn,
        Action.CONSENT_CHANGE,
        who,
        target=audit_target(customer_id, hash_key),
        fields=[f"consent.{purpose}.{channel}"],
        detail=f"{purpose}/{channel}: {status}",
        now=now,
    )


def _same_or_conflict(existing: ConsentEvent, row: dict[str, Any]) -> ConsentEvent:
    compared = ("purpose", "channel", "status", "occurred_at")  # the customer is the same: keys are per customer
    if any(getattr(existing, k) != row[k] for k in compared):
        raise IdempotencyConflict(
            f"idempotency key `{existing.idempotency_key}` was already used for a different consent event",
            hint="send a new key for each customer action, and the same key only when retrying that action",
        )
    return existing


def _event(row: ConsentEventRow) -> ConsentEvent:
    return ConsentEvent(**{k: getattr(row, k) for k in ConsentEvent.__dataclass_fields__})


def _by_key(store: Engine, customer_id: str, key: str) -> ConsentEvent | None:
    """The customer's event recorded under `key`; another customer's event under the same key is never read."""
    mine = (ConsentEventRow.customer_id == customer_id) & (ConsentEventRow.idempotency_key == key)
    with store.connect() as conn:
        row = conn.execute(select(ConsentEventRow).where(mine)).one_or_none()
    return None if row is None else _event(row)  # type: ignore[arg-type]


def history(store: Engine, customer_id: str) -> list[ConsentEvent]:
    """Every ledger event of a customer, in the order recorded (the evidence, for export and review)."""
    with store.connect() as conn:
        rows = conn.execute(
            select(ConsentEventRow).where(ConsentEventRow.customer_id == customer_id).order_by(ConsentEventRow.seq)
        ).all()
    return [_event(r) for r in rows]  # type: ignore[arg-type]


def current_consents(store: Engine, customer_ids: Iterable[str], batch: int = 500) -> dict[str, ConsentState]:
    """Current state of many customers at once (segments, campaigns); unknown ids get an empty state."""
    wanted = list(dict.fromkeys(customer_ids))
    latest: dict[str, dict[tuple[str, str], ConsentEvent]] = {c: {} for c in wanted}
    for start in range(0, len(wanted), batch):
        chunk = wanted[start : start + batch]
        with store.connect() as conn:
            rows = conn.execute(select(ConsentEventRow).where(ConsentEventRow.customer_id.in_(chunk))).all()
        for row in rows:
            event = _event(row)  # type: ignore[arg-type]
            slot = latest[event.customer_id]
            key = (event.purpose, event.channel)
            if key not in slot or event.order_key > slot[key].order_key:
                slot[key] = event
    return {c: ConsentState(c, tuple(sorted(latest[c].values(), key=lambda e: (e.purpose, e.channel)))) for c in wanted}


def current_consent(store: Engine, customer_id: str) -> ConsentState:
    """A customer's current consent state (see the precedence rule in the module docstring)."""
    return current_consents(store, [customer_id])[customer_id]


def is_allowed(store: Engine, customer_id: str, purpose: str, channel: str, *, personalised: bool = False) -> Decision:
    """Whether consent allows `purpose` on `channel` now; `personalised` adds the PIPL art. 24 check.

    Re-read at the moment of sending (COMPLIANCE principles): a withdrawal is visible as soon as its
    transaction commits.
    """
    state = current_consent(store, customer_id)
    if purpose == "marketing":
        return state.contact(channel, personalised=personalised)
    decision = state.allows(purpose, channel)
    return state.personalisation(channel) if decision and personalised else decision


def personalisation_allowed(store: Engine, customer_id: str, channel: str = "all") -> Decision:
    """PIPL art. 24: False means only non-personalised content (generic rankings, broadcasts) for this customer."""
    return current_consent(store, customer_id).personalisation(channel)


@dataclass(frozen=True)
class ImportReport:
    """What `import_lake_consents` did; `seen == inserted + already_present + erased_skipped`."""

    seen: int
    inserted: int
    already_present: int
    erased_skipped: int


LAKE_TIMEZONE = ZoneInfo("Asia/Shanghai")
IMPORT_KEY_PREFIX = "lake:consent_events:"
#: Prefixes of keys Lingxi writes itself: a caller's key with one could shadow an imported event of the
#: same customer (the import would take it as already there) or pass for a pseudonymised one.
RESERVED_KEY_PREFIXES = ("lake:", "erased:")


def import_lake_consents(
    lake: Lake,
    engine: AnalyticEngine,
    *,
    actor: Who,
    hash_key: HashKey,
    batch: int = 5_000,
    now: datetime | None = None,
) -> ImportReport:
    """Copy the lake's `consent_events` history into the ledger; safe to run again (keyed by `consent_event_id`).

    The extract's `ts` is bank local time (Asia/Shanghai, as every contract timestamp) and becomes UTC.
    Imported events have source `import`; where the bank captured them goes to `evidence`. Customers
    with an erasure tombstone are skipped, so an old extract cannot bring an erased customer back. The
    import is audited as one `consent_change` entry with its counts (the extract is the evidence of
    each event; one entry per historical event would flood the log at bank scale).
    """
    recorded_at = _utc(now or datetime.now(UTC))
    if not lake.register(engine, ["consent_events"]):
        return ImportReport(0, 0, 0, 0)
    with lake.store.connect() as conn:
        erased = set(conn.execute(select(Erasure.subject_ref)).scalars())
    seen = inserted = present = skipped = 0
    reader = engine.stream(
        "SELECT consent_event_id, customer_id, purpose, channel, status, ts, source FROM consent_events "
        "ORDER BY consent_event_id",
        label="consent events of the lake",
        batch_rows=batch,
    )
    for record_batch in reader:
        rows = []
        for item in record_batch.to_pylist():
            seen += 1
            if erased and not erased.isdisjoint(subject_refs(item["customer_id"], hash_key)):
                skipped += 1
                continue
            rows.append(_import_row(item, actor, recorded_at))
        new = _insert_missing(lake.store, rows)
        inserted, present = inserted + new, present + len(rows) - new
    with lake.store.begin() as conn:
        audit.append(
            conn,
            Action.CONSENT_CHANGE,
            actor,
            target="dataset:consent_events",
            fields=["consent"],
            detail=f"import: {inserted} new, {present} already present, {skipped} erased skipped",
            now=recorded_at,
        )
    return ImportReport(seen, inserted, present, skipped)


def _import_row(item: dict[str, Any], actor: Who, recorded_at: datetime) -> dict[str, Any]:
    occurred = item["ts"].replace(tzinfo=LAKE_TIMEZONE)
    return {
        "event_id": secrets.token_hex(16),
        "idempotency_key": IMPORT_KEY_PREFIX + item["consent_event_id"],
        "customer_id": item["customer_id"],
        "purpose": item["purpose"],
        "channel": item["channel"],
        "status": item["status"],
        "source": "import",
        "occurred_at": _utc(occurred),
        "recorded_at": recorded_at,
        "actor": actor.actor[:128],
        "notice_version": None,
        "evidence": f"consent_events:{item['consent_event_id']} captured via {item['source'] or 'unknown'}"[:256],
    }


def _insert_missing(store: Engine, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose (customer, idempotency key) is not in the ledger yet; returns how many were inserted."""
    for _ in range(3):
        keys = {r["idempotency_key"] for r in rows}
        customers = {r["customer_id"] for r in rows}
        have: set[tuple[str, str]] = set()
        if rows:
            with store.connect() as conn:
                found = conn.execute(
                    select(ConsentEventRow.customer_id, ConsentEventRow.idempotency_key).where(
                        ConsentEventRow.idempotency_key.in_(keys), ConsentEventRow.customer_id.in_(customers)
                    )
                )
                have = {(customer, key) for customer, key in found}
        missing = [r for r in rows if (r["customer_id"], r["idempotency_key"]) not in have]
        if not missing:
            return 0
        try:
            with store.begin() as conn:
                conn.execute(insert(ConsentEventRow), missing)
            return len(missing)
        except IntegrityError:  # another import inserted some of them meanwhile: look again
            continue
    raise LingxiError("could not import consent events: another import keeps racing this one", hint="retry")
