"""Erasure registry of linked identifiers: keyed hashes of every identifier an erased customer was known by.

`lx_erasure` holds one tombstone per erased customer (the keyed reference of the customer id). Rows
without a customer id (anonymous events on the customer's device, a WeChat openid) would come back
with the next extract, so an erasure also records a keyed hash of each linked identifier (device ids,
phone and ID-number hashes, union and open ids, identity values); the loader, corrections and lake
rewrites consult both tables.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lx_erased_identifier",
        sa.Column("identifier_ref", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject_ref", sa.String(64), nullable=False, index=True),
        sa.Column("erased_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lx_erased_identifier")
