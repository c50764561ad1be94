"""Users, customer books, sessions, API tokens, and the hash-chained audit log.

The audit table gets triggers that refuse UPDATE and DELETE on both SQLite and PostgreSQL, so the log is
append-only for every ordinary connection; the hash chain (lingxi.auth.audit) catches anyone who works
around them (a DBA who drops the trigger).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION lx_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'lx_audit is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "lx_user",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("branch_id", sa.String(64), nullable=True),
        sa.Column("book_only", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lock_level", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime, nullable=True),
        sa.Column("password_changed_at", sa.DateTime, nullable=False),
        sa.Column("last_login_at", sa.DateTime, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "lx_user_customer",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("lx_user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("customer_id", sa.String(64), primary_key=True),
    )
    op.create_table(
        "lx_session",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("lx_user.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime, nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
    )
    op.create_table(
        "lx_api_token",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("lx_user.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("last_used_at", sa.DateTime, nullable=True),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "lx_audit",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("actor", sa.String(128), nullable=False, index=True),
        sa.Column("role", sa.String(32), nullable=True),
        sa.Column("branch_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(32), nullable=False, index=True),
        sa.Column("target", sa.String(256), nullable=True, index=True),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("reason", sa.String(512), nullable=True),
        sa.Column("result", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(1024), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    head = op.create_table(
        "lx_audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "last_hash": GENESIS}])
    create_guard()


def create_guard() -> None:
    """The append-only triggers of `lx_audit`; migrations that rebuild the table on SQLite call it again."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER lx_audit_append_only BEFORE UPDATE OR DELETE ON lx_audit "
            "FOR EACH ROW EXECUTE FUNCTION lx_audit_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER lx_audit_no_{verb.lower()} BEFORE {verb} ON lx_audit "
                f"BEGIN SELECT RAISE(ABORT, 'lx_audit is append-only: {verb} is not allowed'); END"
            )


def downgrade() -> None:
    op.drop_table("lx_audit_head")
    op.drop_table("lx_audit")  # drops its triggers too
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS lx_audit_append_only()")
    op.drop_table("lx_api_token")
    op.drop_table("lx_session")
    op.drop_table("lx_user_customer")
    op.drop_table("lx_user")
