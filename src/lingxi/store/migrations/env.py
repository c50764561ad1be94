"""Alembic environment: the engine is handed in by lingxi.store.db.migrate (no alembic.ini).

The models come from the capability registry: each capability declares its tables in its own
`tables.py` (lingxi.capability.Capability.tables), so one Alembic history covers them all and a new
capability's tables reach autogenerate without editing this file.
"""

from __future__ import annotations

from alembic import context

from lingxi import registry

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=registry.metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
