"""The consent ledger: append-only, idempotent, precedence, fail closed, PIPL art. 24, bulk state, lake import."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from lingxi.auth import PermissionDenied, Principal, Role, audit, permissions_of
from lingxi.auth.audit import AuditQuery, Who
from lingxi.capability import Subject
from lingxi.config import DEV_HASH_KEY
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.errors import SpecError
from lingxi.pipeline import StageContext, run_pipeline
from lingxi.privacy import consent
from lingxi.privacy.capability import pseudonymise_consent
from lingxi.privacy.consent import IdempotencyConflict, Reason
from lingxi.privacy.tables import ERASED_PREFIX, ConsentEventRow, audit_target, subject_ref
from lingxi.store import Lake

KEY = DEV_HASH_KEY
APP = Who("app:mobile-bank")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def give(
    store: sqlalchemy.Engine,
    customer: str,
    purpose: str,
    channel: str,
    status: str,
    at: datetime,
    key: str | None = None,
    **extra: Any,
) -> consent.Recorded:
    """Record one event the way the bank's app would (a grant with its notice and evidence)."""
    evidence = {"notice_version": "2026-01", "evidence": "app:consent-screen:toggle"} if status == "granted" else {}
    return consent.record_consent(
        store,
        customer_id=customer,
        purpose=purpose,
        channel=channel,
        status=status,
        source="app",
        occurred_at=at,
        idempotency_key=key or f"{customer}-{purpose}-{channel}-{status}-{at.isoformat()}",
        actor=APP,
        hash_key=KEY,
        now=NOW,
        **{**evidence, **extra},
    )


def test_the_ledger_refuses_update_and_delete(store: sqlalchemy.Engine) -> None:
    give(store, "C1", "marketing", "sms", "granted", T0)
    for sql in (
        "UPDATE lx_consent_event SET status = 'withdrawn'",
        "UPDATE lx_consent_event SET occurred_at = occurred_at",  # even a no-op rewrite
        "UPDATE lx_consent_event SET customer_id = 'C2'",
        "UPDATE lx_consent_event SET customer_id = 'erased:x', status = 'withdrawn'",  # erasure may not alter evidence
        "DELETE FROM lx_consent_event",
    ):
        with pytest.raises(DBAPIError, match="append-only"), store.begin() as conn:
            conn.execute(text(sql))
    with store.connect() as conn:
        assert conn.execute(select(ConsentEventRow.status)).scalars().all() == ["granted"]


def test_same_idempotency_key_gives_the_same_event_and_one_audit_entry(store: sqlalchemy.Engine) -> None:
    first = give(store, "C1", "marketing", "sms", "granted", T0, key="app-req-1")
    again = give(store, "C1", "marketing", "sms", "granted", T0, key="app-req-1")
    assert first.created and not again.created
    assert again.event == first.event
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ConsentEventRow)).scalar_one() == 1
    assert len(audit.search(store, AuditQuery(action=audit.Action.CONSENT_CHANGE))) == 1
    with pytest.raises(IdempotencyConflict, match="app-req-1"):
        give(store, "C1", "marketing", "sms", "withdrawn", T0, key="app-req-1")


def test_an_idempotency_key_is_scoped_to_its_customer(store: sqlalchemy.Engine) -> None:
    """Another customer's key is invisible: the same key for B is a new event, never a conflict (security finding)."""
    first = give(store, "A", "marketing", "sms", "granted", T0, key="app-req-1")
    other = give(store, "B", "marketing", "sms", "withdrawn", T0 + timedelta(hours=1), key="app-req-1")
    assert first.created and other.created
    assert other.event.customer_id == "B" and other.event.event_id != first.event.event_id
    assert consent.is_allowed(store, "A", "marketing", "sms") and not consent.is_allowed(store, "B", "marketing", "sms")
    again = give(store, "A", "marketing", "sms", "granted", T0, key="app-req-1")
    assert not again.created and again.event == first.event
    assert not give(store, "B", "marketing", "sms", "withdrawn", T0 + timedelta(hours=1), key="app-req-1").created
    with pytest.raises(IdempotencyConflict, match="app-req-1"):  # within one customer a reused key still conflicts
        give(store, "B", "marketing", "sms", "granted", T0, key="app-req-1")
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ConsentEventRow)).scalar_one() == 2


@pytest.mark.parametrize("key", ["lake:consent_events:CE000001", "erased:0123"])
def test_keys_lingxi_writes_itself_are_refused(store: sqlalchemy.Engine, key: str) -> None:
    """A caller's `lake:consent_events:<id>` would make the history import skip that event of the customer."""
    with pytest.raises(SpecError, match="`idempotency_key`: keys starting with lake: or erased: are Lingxi's own"):
        give(store, "A", "marketing", "sms", "granted", T0, key=key)


def test_erasing_two_customers_who_used_the_same_key(store: sqlalchemy.Engine) -> None:
    """Erasure hashes the key the same way for both; their pseudonymised rows stay apart by reference."""
    for customer in ("A", "B", "C"):
        give(store, customer, "marketing", "sms", "granted", T0, key="app-req-1")
    for customer in ("A", "B"):
        who = Subject(customer, ref=subject_ref(customer, KEY), hash_key=KEY)
        with store.begin() as conn:
            assert pseudonymise_consent(conn, who, NOW)["events_pseudonymised"] == 1
    with store.connect() as conn:
        rows = conn.execute(select(ConsentEventRow.customer_id, ConsentEventRow.idempotency_key)).all()
    erased = [key for customer, key in rows if customer.startswith(ERASED_PREFIX)]
    assert len(erased) == 2 and erased[0] == erased[1] != "app-req-1"
    assert consent.history(store, "C")[0].idempotency_key == "app-req-1"


def test_a_channel_event_overrides_all_only_when_newer(store: sqlalchemy.Engine) -> None:
    give(store, "C1", "marketing", "sms", "granted", T0)
    give(store, "C1", "marketing", "all", "withdrawn", T0 + timedelta(days=1))  # newer `all` beats older sms
    assert consent.is_allowed(store, "C1", "marketing", "sms").reason == Reason.CONSENT_WITHDRAWN
    give(store, "C1", "marketing", "all", "granted", T0 + timedelta(days=2))
    give(store, "C1", "marketing", "push", "withdrawn", T0 + timedelta(days=3))  # newer push beats `all`
    state = consent.current_consent(store, "C1")
    assert state.allows("marketing", "sms") and state.allows("marketing", "email")
    assert state.allows("marketing", "push").reason == Reason.CONSENT_WITHDRAWN
    assert state.allows("marketing", "all").reason == Reason.CONSENT_WITHDRAWN  # `all` = every channel
    # recorded late but occurred earlier: time of the customer's act decides, not arrival order
    give(store, "C1", "marketing", "push", "granted", T0 + timedelta(days=2, hours=1))
    assert not consent.is_allowed(store, "C1", "marketing", "push")
    # equal times: the withdrawal wins (fail closed), whatever the arrival order
    tie = T0 + timedelta(days=5)
    give(store, "C1", "marketing", "call", "withdrawn", tie)
    give(store, "C1", "marketing", "call", "granted", tie)
    assert consent.is_allowed(store, "C1", "marketing", "call").reason == Reason.CONSENT_WITHDRAWN


def test_no_record_means_not_granted(store: sqlalchemy.Engine) -> None:
    for purpose in consent.PURPOSES:
        for channel in consent.CHANNELS:
            decision = consent.is_allowed(store, "C-unknown", purpose, channel)
            assert not decision and decision.reason == Reason.CONSENT_MISSING and decision.event_id is None
    assert consent.personalisation_allowed(store, "C-unknown").reason == Reason.PERSONALISATION_OPTOUT
    give(store, "C1", "marketing", "sms", "granted", T0)
    assert consent.is_allowed(store, "C1", "marketing", "push").reason == Reason.CONSENT_MISSING


def test_withdrawal_then_regrant(store: sqlalchemy.Engine) -> None:
    granted = give(store, "C1", "marketing", "wechat", "granted", T0)
    assert consent.is_allowed(store, "C1", "marketing", "wechat").event_id == granted.event.event_id
    withdrawn = give(store, "C1", "marketing", "wechat", "withdrawn", T0 + timedelta(hours=1))
    decision = consent.is_allowed(store, "C1", "marketing", "wechat")
    assert (decision.allowed, decision.reason, decision.event_id) == (
        False,
        Reason.CONSENT_WITHDRAWN,
        withdrawn.event.event_id,
    )
    give(store, "C1", "marketing", "wechat", "granted", T0 + timedelta(hours=2))
    assert consent.is_allowed(store, "C1", "marketing", "wechat")
    assert [e.status for e in consent.history(store, "C1")] == ["granted", "withdrawn", "granted"]


def test_personalisation_opt_out_leaves_only_non_personalised_contact(store: sqlalchemy.Engine) -> None:
    give(store, "A", "marketing", "all", "granted", T0)
    give(store, "A", "personalisation", "all", "granted", T0)
    assert consent.is_allowed(store, "A", "marketing", "sms", personalised=True)
    give(store, "A", "personalisation", "all", "withdrawn", T0 + timedelta(days=1))
    assert consent.is_allowed(store, "A", "marketing", "sms")  # a broadcast still reaches A
    for channel in consent.CONCRETE_CHANNELS:
        decision = consent.is_allowed(store, "A", "marketing", channel, personalised=True)
        assert not decision and decision.reason == Reason.PERSONALISATION_OPTOUT
    assert consent.personalisation_allowed(store, "A").reason == Reason.PERSONALISATION_OPTOUT
    # without marketing consent the marketing reason comes first
    assert consent.is_allowed(store, "B", "marketing", "sms", personalised=True).reason == Reason.CONSENT_MISSING


def test_bulk_state_for_many_customers(store: sqlalchemy.Engine) -> None:
    give(store, "C1", "marketing", "sms", "granted", T0)
    give(store, "C2", "marketing", "all", "granted", T0)
    give(store, "C2", "marketing", "sms", "withdrawn", T0 + timedelta(days=1))
    states = consent.current_consents(store, ["C1", "C2", "C3", "C1"], batch=2)
    assert list(states) == ["C1", "C2", "C3"]
    assert [bool(states[c].allows("marketing", "sms")) for c in states] == [True, False, False]
    assert [bool(states[c].allows("marketing", "email")) for c in states] == [False, True, False]
    assert states["C3"].latest == ()


def test_bad_events_are_refused_naming_every_problem(store: sqlalchemy.Engine) -> None:
    with pytest.raises(SpecError) as info:
        consent.record_consent(
            store,
            customer_id="C1",
            purpose="ads",
            channel="fax",
            status="granted",
            source="DEFAULT",
            occurred_at=datetime(2026, 1, 1),
            idempotency_key="k",
            actor=APP,
            hash_key=KEY,
        )
    message = str(info.value)
    for name in ("purpose", "channel", "source", "occurred_at", "notice_version", "evidence"):
        assert f"`{name}`" in message
    with pytest.raises(SpecError, match="future"):
        give(store, "C1", "marketing", "sms", "withdrawn", NOW + timedelta(hours=1))
    auditor = Principal(1, "aud", Role.AUDITOR, None, permissions_of(Role.AUDITOR))
    with pytest.raises(PermissionDenied, match="consent:write"):
        consent.record_consent(
            store,
            customer_id="C1",
            purpose="marketing",
            channel="sms",
            status="withdrawn",
            source="app",
            occurred_at=T0,
            idempotency_key="k2",
            actor=auditor,
            hash_key=KEY,
        )
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ConsentEventRow)).scalar_one() == 0


def test_changes_are_audited_without_the_customer_id(store: sqlalchemy.Engine) -> None:
    rm = Principal(7, "rm.a", Role.BRANCH_RM, "BR01", permissions_of(Role.BRANCH_RM))
    consent.record_consent(
        store,
        customer_id="C000123",
        purpose="marketing",
        channel="sms",
        status="withdrawn",
        source="branch",
        occurred_at=T0,
        idempotency_key="k",
        actor=rm,
        hash_key=KEY,
    )
    [entry] = audit.search(store, AuditQuery())
    assert (entry.action, entry.actor, entry.target) == ("consent_change", "rm.a", audit_target("C000123", KEY))
    assert entry.fields == ("consent.marketing.sms",) and entry.detail == "marketing/sms: withdrawn"
    assert "C000123" not in str(entry.as_dict())
    assert audit.verify(store).ok


def test_random_histories_match_a_reference_model(sqlite_store: sqlalchemy.Engine) -> None:
    """F29: random grants, withdrawals and re-grants, recorded out of order; state equals the model's."""
    rng = random.Random(29)
    events = []
    for i in range(300):
        customer, purpose = f"C{rng.randint(1, 4)}", rng.choice(consent.PURPOSES)
        channel, status = rng.choice(consent.CHANNELS), rng.choice(("granted", "withdrawn"))
        at = T0 + timedelta(minutes=rng.randint(0, 60))  # few distinct times: many ties
        give(sqlite_store, customer, purpose, channel, status, at, key=f"k{i}")
        events.append((customer, purpose, channel, status, at, i))
    states = consent.current_consents(sqlite_store, [f"C{i}" for i in range(1, 5)])
    for customer, state in states.items():
        for purpose in consent.PURPOSES:
            for channel in consent.CONCRETE_CHANNELS:
                mine = [e for e in events if e[0] == customer and e[1] == purpose and e[2] in (channel, "all")]
                last = max(mine, key=lambda e: (e[4], e[3] == "withdrawn", e[5]), default=None)
                expected = last is not None and last[3] == "granted"
                assert bool(state.allows(purpose, channel)) == expected, (customer, purpose, channel)


# --- import from the synthetic bank (shared with test_dsr) -----------------------------------------------


def make_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic bank (500 customers, 30 days)."""
    from lingxi.sim import SimConfig, generate

    out = tmp_path_factory.mktemp("bank")
    generate(out, SimConfig(customers=500, days=30, seed=11, hash_key=KEY))
    return out


@pytest.fixture(scope="session")
def bank_extracts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bank(tmp_path_factory)


def load_bank(store: sqlalchemy.Engine, root: Path, extracts: Path) -> Lake:
    lake = Lake(root, store)
    with DuckDBEngine(memory_limit="512MB", threads=1) as engine:
        ctx = StageContext(lake=lake, engine=engine, loader=engine, extracts=extracts)
        run_pipeline(ctx, only=["load"])  # the consent stage would import the ledger this test imports
    return lake


def test_import_from_the_synthetic_bank_is_idempotent(
    store: sqlalchemy.Engine, tmp_path: Path, bank_extracts: Path
) -> None:
    lake = load_bank(store, tmp_path / "lake", bank_extracts)
    history = pq.read_table(bank_extracts / "consent_events").to_pylist()
    with DuckDBEngine(threads=1) as engine:
        first = consent.import_lake_consents(lake, engine, actor=Who("cli:test"), hash_key=KEY, batch=400)
        again = consent.import_lake_consents(lake, engine, actor=Who("cli:test"), hash_key=KEY, batch=400)
    assert first.seen == first.inserted == len(history) > 500
    assert (again.inserted, again.already_present) == (0, len(history))
    customers = sorted({r["customer_id"] for r in history})
    states = consent.current_consents(store, customers)
    for customer in customers[:150]:  # the lake's history, replayed by hand, gives the same state
        mine = [r for r in history if r["customer_id"] == customer]
        for channel in consent.CONCRETE_CHANNELS:
            rows = [r for r in mine if r["purpose"] == "marketing" and r["channel"] in (channel, "all")]
            last = max(rows, key=lambda r: (r["ts"], r["status"] == "withdrawn"), default=None)
            expected = last is not None and last["status"] == "granted"
            assert bool(states[customer].allows("marketing", channel)) == expected
    event = consent.history(store, customers[0])[0]
    assert event.source == "import" and event.idempotency_key.startswith("lake:consent_events:CE")
    assert event.occurred_at == min(r["ts"] for r in history if r["customer_id"] == customers[0]) - timedelta(hours=8)
