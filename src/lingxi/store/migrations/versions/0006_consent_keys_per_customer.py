"""Consent idempotency keys unique per customer: UNIQUE(customer_id, idempotency_key) instead of a global key.

A global key let a caller learn, by a 409, that some other customer had used a key. Now the same key
for another customer is simply another event. Pseudonymised rows keep working: an erasure hashes the
key but the customer id becomes the customer's own `erased:<ref>`, so two erased customers who used
the same key do not collide.

PostgreSQL alters the table in place (its trigger stays). SQLite cannot drop a constraint, so Alembic's
batch mode rebuilds `lx_consent_event`, and a rebuild drops the append-only triggers: they are created
again from migration 0003's own DDL (`create_guard`), in the same transaction.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "lx_consent_event"
PER_CUSTOMER = "uq_lx_consent_event_customer_key"  # lingxi.privacy.tables.CUSTOMER_KEY_CONSTRAINT
#: The global key's constraint: PostgreSQL's name for 0003's unnamed one; on SQLite the name the rebuild gives it.
GLOBAL = {"postgresql": "lx_consent_event_idempotency_key_key", "sqlite": "uq_lx_consent_event_idempotency_key"}
#: Names SQLite's unnamed UNIQUE constraints as they are reflected, so the global one can be dropped by name.
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _swap(drop: str, create: str, columns: list[str]) -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table(TABLE, naming_convention=SQLITE_NAMES if dialect == "sqlite" else None) as batch:
        batch.drop_constraint(drop, type_="unique")
        batch.create_unique_constraint(create, columns)
    if dialect == "sqlite":  # the rebuilt table has no triggers: the ledger must stay append-only
        ledger = context.script.get_revision("0003")
        assert ledger is not None
        ledger.module.create_guard()


def _global_name() -> str:
    return GLOBAL.get(op.get_bind().dialect.name, GLOBAL["postgresql"])


def upgrade() -> None:
    _swap(_global_name(), PER_CUSTOMER, ["customer_id", "idempotency_key"])


def downgrade() -> None:
    key: sa.ColumnClause[str] = sa.column("idempotency_key")
    shared = sa.select(key).select_from(sa.table(TABLE)).group_by(key).having(sa.func.count() > 1).limit(1)
    if op.get_bind().execute(shared).first() is not None:
        raise RuntimeError(
            "cannot downgrade below 0006: some idempotency keys are used by more than one customer, "
            "which a global key cannot hold"
        )
    _swap(PER_CUSTOMER, _global_name(), ["idempotency_key"])
