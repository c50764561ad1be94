"""What made each lake version, which folders it carries over, and stale marks on datasets.

`lx_dataset_version.note` says what published a version other than a load (`rollback to version 3`,
`replace 2026-11-03`, `compaction`); `carries` lists the folders whose rows a rewritten folder carries
over (compaction, period replacement), so the loader still knows an extract it merged is loaded.
`lx_dataset.stale_reason` / `stale_since` mark a derived dataset whose sources were rolled back or had a
period replaced; the next publish of the dataset (its pipeline stage) clears them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("lx_dataset_version", sa.Column("note", sa.String(200), nullable=True))
    op.add_column("lx_dataset_version", sa.Column("carries", sa.JSON(), nullable=True))
    op.add_column("lx_dataset", sa.Column("stale_reason", sa.String(300), nullable=True))
    op.add_column("lx_dataset", sa.Column("stale_since", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lx_dataset") as batch:
        batch.drop_column("stale_since")
        batch.drop_column("stale_reason")
    with op.batch_alter_table("lx_dataset_version") as batch:
        batch.drop_column("carries")
        batch.drop_column("note")
