"""The ORM models every capability declares and the one Alembic history describe the same schema."""

from __future__ import annotations

import pprint

import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lingxi import registry


def test_autogenerate_finds_no_difference_between_models_and_migrations(store: sqlalchemy.Engine) -> None:
    with store.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        diff = compare_metadata(context, registry.metadata())  # type: ignore[arg-type]
    assert diff == [], pprint.pformat(diff)


def test_every_operational_table_belongs_to_a_capability(store: sqlalchemy.Engine) -> None:
    declared = {t.name for t in registry.tables()}
    present = set(sqlalchemy.inspect(store).get_table_names()) - {"alembic_version"}
    assert present == declared


def test_a_table_missing_from_the_migrations_is_found(store: sqlalchemy.Engine) -> None:
    """The comparison is not vacuous: a model no migration creates shows up as a difference."""
    extra = sqlalchemy.MetaData()
    sqlalchemy.Table("lx_not_migrated", extra, sqlalchemy.Column("customer_id", sqlalchemy.String(64)))
    with store.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), [*registry.metadata(), extra])  # type: ignore[arg-type]
    assert [(d[0], d[1].name) for d in diff] == [("add_table", "lx_not_migrated")]
