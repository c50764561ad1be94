"""Key ids beside keyed hashes and audit entries, so keys can be rotated (lingxi.keys).

`lx_erasure.key_id` and `lx_erased_identifier.key_id` name the hash key an erased customer's
references were made with, so after a rotation the loader still recognises them (and refuses to run
when the keyring lacks that key). `lx_audit.key_id` names the audit key of an entry's HMAC; entries
written before this revision have none (plain SHA-256 chain) and are accepted only before the first
keyed entry. Columns are added with ALTER TABLE (no table rebuild), so the append-only triggers stay.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("lx_erasure", "lx_erased_identifier", "lx_audit")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("key_id", sa.String(16), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("key_id")
    if op.get_bind().dialect.name == "sqlite":  # the rebuilt lx_audit has no triggers: the log must stay append-only
        audit = context.script.get_revision("0002")
        assert audit is not None
        audit.module.create_guard()
