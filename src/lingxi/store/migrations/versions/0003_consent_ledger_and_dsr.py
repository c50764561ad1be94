"""Consent ledger, erasure tombstones, data-subject requests and lake corrections.

`lx_consent_event` is append-only, enforced by triggers on SQLite and PostgreSQL as for `lx_audit`
(migration 0002), with two narrow exceptions that an erasure and the retention purge need:

- UPDATE is allowed only to pseudonymise a live row: the customer id becomes `erased:<ref>` and at
  most the idempotency key changes with it; every other column must stay as it was;
- DELETE is allowed only for rows already pseudonymised (consent evidence past its retention period).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_KEPT = ("seq", "event_id", "purpose", "channel", "status", "source", "occurred_at", "recorded_at", "actor",
         "notice_version", "evidence")  # fmt: skip

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION lx_consent_event_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.customer_id LIKE 'erased:%' THEN
            RETURN OLD;
        END IF;
    ELSIF NEW.customer_id LIKE 'erased:%' AND OLD.customer_id NOT LIKE 'erased:%'
        AND ROW({", ".join("NEW." + c for c in _KEPT)}) IS NOT DISTINCT FROM ROW({", ".join("OLD." + c for c in _KEPT)})
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'lx_consent_event is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql
"""

_SQLITE_UPDATE_OK = " AND ".join(
    ["NEW.customer_id LIKE 'erased:%'", "OLD.customer_id NOT LIKE 'erased:%'"] + [f"NEW.{c} IS OLD.{c}" for c in _KEPT]
)


def upgrade() -> None:
    id_type = sa.BigInteger().with_variant(sa.Integer, "sqlite")
    op.create_table(
        "lx_consent_event",
        sa.Column("seq", id_type, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(32), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
        sa.Column("customer_id", sa.String(80), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.DateTime, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("notice_version", sa.String(64), nullable=True),
        sa.Column("evidence", sa.String(256), nullable=True),
    )
    op.create_index(
        "ix_lx_consent_event_subject", "lx_consent_event", ["customer_id", "purpose", "channel", "occurred_at"]
    )
    op.create_table(
        "lx_erasure",
        sa.Column("subject_ref", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("erased_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "lx_dsr_request",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject_ref", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("completed_at", sa.DateTime, nullable=True),
        sa.Column("receipt", sa.JSON, nullable=False),
    )
    op.create_table(
        "lx_correction",
        sa.Column("id", id_type, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(32), sa.ForeignKey("lx_dsr_request.id"), nullable=False, index=True),
        sa.Column("customer_id", sa.String(64), nullable=False, index=True),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("column", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("applied_at", sa.DateTime, nullable=True),
        sa.Column("applied_version", sa.Integer, nullable=True),
    )
    create_guard()


def create_guard() -> None:
    """The append-only triggers of `lx_consent_event`; migrations that rebuild the table on SQLite call it again."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER lx_consent_event_guard BEFORE UPDATE OR DELETE ON lx_consent_event "
            "FOR EACH ROW EXECUTE FUNCTION lx_consent_event_guard()"
        )
    else:
        op.execute(
            "CREATE TRIGGER lx_consent_event_no_update BEFORE UPDATE ON lx_consent_event "
            f"WHEN NOT ({_SQLITE_UPDATE_OK}) "
            "BEGIN SELECT RAISE(ABORT, 'lx_consent_event is append-only: UPDATE is not allowed'); END"
        )
        op.execute(
            "CREATE TRIGGER lx_consent_event_no_delete BEFORE DELETE ON lx_consent_event "
            "WHEN OLD.customer_id NOT LIKE 'erased:%' "
            "BEGIN SELECT RAISE(ABORT, 'lx_consent_event is append-only: DELETE is not allowed'); END"
        )


def downgrade() -> None:
    op.drop_table("lx_correction")
    op.drop_table("lx_dsr_request")
    op.drop_table("lx_erasure")
    op.drop_table("lx_consent_event")  # drops its triggers too
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS lx_consent_event_guard()")
