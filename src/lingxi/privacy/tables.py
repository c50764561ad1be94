"""Operational-store tables of the privacy capability (migrations 0003, 0004, 0006), on the shared declarative `Base`.

- `lx_consent_event`: the consent ledger. Append-only: database triggers refuse every UPDATE and
  DELETE except one, the one-way pseudonymisation an erasure performs (the customer id becomes an
  `erased:` reference, nothing else changes), and the retention purge of rows already pseudonymised.
  Idempotency keys are unique per customer (0006), so one customer's key says nothing about another's.
- `lx_erasure`: one tombstone per erased customer, holding only the keyed reference; imports and
  restores consult it so an erased customer does not come back.
- `lx_erased_identifier` (0004): a keyed hash of every identifier linked to an erased customer (device
  ids, phone and ID-number hashes, open and union ids, identity values), so rows that carry no
  customer id (anonymous events on the customer's device) do not come back either.
- `lx_dsr_request`: data-subject requests and their receipts, by reference, never by customer id.
- `lx_correction`: corrections waiting for (or applied at) the next lake snapshot.

The customer is named by `subject_ref` wherever a record must outlive an erasure: a keyed hash (HMAC
with LINGXI_HASH_KEY) of the customer id, so whoever holds the key can find a customer's evidence and
nobody else can reverse it (customer numbers are short enough to enumerate, so a plain hash would not do).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lingxi.keys import HashKey, Keys
from lingxi.privacy.identifiers import keyed_hash
from lingxi.store.tables import Base

#: Prefix of the customer id of a pseudonymised ledger row; the triggers of migration 0003 test it.
ERASED_PREFIX = "erased:"
#: The ledger's idempotency keys are unique per customer (migration 0006), never across customers.
CUSTOMER_KEY_CONSTRAINT = "uq_lx_consent_event_customer_key"
#: How long pseudonymised consent evidence is kept after an erasure (COMPLIANCE.md: at least 3 years).
CONSENT_EVIDENCE_RETENTION = timedelta(days=3 * 365)


def subject_ref(customer_id: str, hash_key: HashKey) -> str:
    """The pseudonymous reference of a customer: stable, keyed, 64 hex digits (audit targets, tombstones)."""
    return keyed_hash(f"lingxi-subject:{customer_id}", hash_key)


def subject_refs(customer_id: str, hash_key: HashKey) -> list[str]:
    """The customer's reference under every hash key of the keyring: what was stored before a rotation too."""
    keys = Keys.of(hash_key)
    return [subject_ref(customer_id, secret) for _, secret in sorted(keys.secrets.items())]


def audit_target(customer_id: str, hash_key: HashKey) -> str:
    """How audit entries written by the privacy capability name a customer (never by the raw id)."""
    return f"subject:{subject_ref(customer_id, hash_key)}"


def identifier_ref(value: str, hash_key: HashKey) -> str:
    """The keyed hash under which an erased customer's linked identifier is registered (`lx_erased_identifier`).

    Only the value counts, not its kind, so a device id registered from `identities.id_value` also
    matches `events.device_id`. Values are compared trimmed, as the loader compares customer ids.
    """
    return keyed_hash(f"lingxi-identifier:{value.strip()}", hash_key)


_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only


class ConsentEventRow(Base):
    """One grant or withdrawal, exactly as the customer gave it. Never changed; see the module docstring."""

    __tablename__ = "lx_consent_event"
    __table_args__ = (
        Index("ix_lx_consent_event_subject", "customer_id", "purpose", "channel", "occurred_at"),
        # per customer (0006): a key another customer used is a new event, so a 409 reveals nothing about them
        UniqueConstraint("customer_id", "idempotency_key", name=CUSTOMER_KEY_CONSTRAINT),
    )

    seq: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)  # arrival order, tie-breaker
    event_id: Mapped[str] = mapped_column(String(32), unique=True)  # public id returned to the caller
    idempotency_key: Mapped[str] = mapped_column(String(128))  # the client's, unique per customer
    customer_id: Mapped[str] = mapped_column(String(80))  # `erased:<ref>` after an erasure
    purpose: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, when the customer acted
    recorded_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, when Lingxi stored it
    actor: Mapped[str] = mapped_column(String(128))
    notice_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    evidence: Mapped[str | None] = mapped_column(String(256), nullable=True)  # UI element, script id, extract row


class Erasure(Base):
    """Tombstone of an erased customer: only the keyed reference, when, and which request."""

    __tablename__ = "lx_erasure"

    subject_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(32))
    erased_at: Mapped[datetime] = mapped_column(DateTime)
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)  # hash key of subject_ref (None: before 0005)


class ErasedIdentifier(Base):
    """An identifier linked to an erased customer, by keyed hash only: its kind, whose, and when."""

    __tablename__ = "lx_erased_identifier"

    identifier_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # device_id, phone_hash, wechat_unionid, anonymous_id, ...
    subject_ref: Mapped[str] = mapped_column(String(64), index=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime)
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)  # hash key of identifier_ref


class DsrRequest(Base):
    """A data-subject request (export, correction, deletion) and its receipt."""

    __tablename__ = "lx_dsr_request"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # export, correction, deletion
    subject_ref: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # done, failed
    actor: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSON)


class Correction(Base):
    """A corrected value for one column of one customer's lake rows, applied when the dataset is next rewritten."""

    __tablename__ = "lx_correction"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("lx_dsr_request.id"), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    dataset: Mapped[str] = mapped_column(String(64))
    column: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text, nullable=True)  # text form; cast to the column's type
    status: Mapped[str] = mapped_column(String(16))  # pending, applied
    created_at: Mapped[datetime] = mapped_column(DateTime)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    applied_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
