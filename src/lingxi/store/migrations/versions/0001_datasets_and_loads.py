"""Datasets, their published versions, and loader runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lx_dataset",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("current_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "lx_dataset_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset", sa.String(64), sa.ForeignKey("lx_dataset.name"), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("parts", sa.JSON, nullable=False),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("contract_version", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Date, nullable=True),
        sa.Column("load_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("dataset", "version", name="uq_dataset_version"),
    )
    op.create_table(
        "lx_load",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("dataset", sa.String(64), nullable=False, index=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_in", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_loaded", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rows_quarantined", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("quarantine_path", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("lx_load")
    op.drop_table("lx_dataset_version")
    op.drop_table("lx_dataset")
