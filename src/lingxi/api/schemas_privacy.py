"""Request and response bodies of the privacy API: consent ledger, data-subject requests, PI inventory.

Kept apart from lingxi.api.schemas so each module stays readable; the OpenAPI contract is one document.
The choices (purposes, channels, statuses, sources) are the ledger's own Literal types, so the contract
cannot drift from what lingxi.privacy.consent accepts.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints

from lingxi.api.schemas import NO_NUL, Model, StoreTime
from lingxi.privacy.consent import Channel, Purpose, Source, Status

IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=256), NO_NUL]


class ConsentRequest(Model):
    """One grant or withdrawal as the customer gave it (see docs/privacy.md, Recording consent)."""

    purpose: Purpose
    channel: Channel
    status: Status
    source: Source
    occurred_at: AwareDatetime = Field(description="When the customer acted, with its time zone (RFC 3339).")
    idempotency_key: IdempotencyKey | None = Field(
        None, description="One per customer action; or send the `Idempotency-Key` header (the same value if both)."
    )
    notice_version: Annotated[str, StringConstraints(min_length=1, max_length=64), NO_NUL] | None = Field(
        None, description="Required for a grant: the privacy notice version the customer saw."
    )
    evidence: ShortText | None = Field(
        None, description="Required for a grant: the affirmative act (UI element, script or reply id)."
    )


class ConsentEventPublic(Model):
    seq: int
    event_id: str
    idempotency_key: str
    customer_id: str
    purpose: str
    channel: str
    status: str
    source: str
    occurred_at: StoreTime
    recorded_at: StoreTime
    actor: str
    notice_version: str | None
    evidence: str | None


class ConsentDecision(Model):
    """Whether consent allows `purpose` on one channel now, and the event the answer rests on."""

    purpose: str
    channel: str
    allowed: bool
    reason: str | None
    event_id: str | None


class ConsentStatePublic(Model):
    customer_id: str
    personalisation: ConsentDecision = Field(
        description="PIPL art. 24: false means only non-personalised content for this customer."
    )
    decisions: list[ConsentDecision] = Field(description="Every purpose on every concrete channel.")
    latest: list[ConsentEventPublic] = Field(description="The latest event per (purpose, channel).")
    history: list[ConsentEventPublic] | None = Field(None, description="Every event, with `?history=true`.")


class ReceiptPublic(Model):
    """Proof of a data-subject request; names the customer only by keyed reference, so it outlives erasure."""

    request_id: str
    kind: str
    subject_ref: str
    actor: str
    completed_at: StoreTime
    stores: dict[str, Any]


class ExportResult(Model):
    receipt: ReceiptPublic
    document: dict[str, Any] = Field(description="Everything held on the customer (format lingxi.dsr.export/1).")


class CorrectionRequest(Model):
    changes: Annotated[
        dict[
            Annotated[str, StringConstraints(min_length=1, max_length=64), NO_NUL],
            Annotated[str, Field(max_length=256), NO_NUL] | None,
        ],
        Field(min_length=1, max_length=20),
    ] = Field(description="`customers` column -> new value (text; null clears); `phone` and `id_no` take raw numbers.")


class DeletionRequest(Model):
    confirm_customer_id: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="Must repeat the customer number of the path: erasure cannot be undone."
    )


class ReceiptList(Model):
    data: list[ReceiptPublic]
    count: int


class InventoryItemPublic(Model):
    table: str
    column: str
    description: str
    pi_class: str
    personal: bool
    purpose: str
    required: bool


class InventoryPublic(Model):
    data: list[InventoryItemPublic]
    count: int
    classes: dict[str, str]


class RecipientPublic(Model):
    name: str
    contact: str
    purpose: str
    method: str
    fields: list[str]
    consent_purpose: str
    pia_id: str | None


class SharingPublic(Model):
    data: list[RecipientPublic]
    count: int
    shares: bool = Field(description="False: Lingxi provides personal information to no third party.")
