"""The ORM models every capability declares and the one Alembic history describe the same schema."""

from __future__ import annotations

import pprint
from datetime import datetime

import pytest
import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from lingxi import registry
from lingxi.privacy.tables import ConsentEventRow
from lingxi.store import connect, migrate
from lingxi.store.db import alembic_config


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


def _ledger_row(seq: int, customer: str, key: str) -> dict[str, object]:
    at = datetime(2026, 3, 1, 9, 0)
    return {"seq": seq, "event_id": f"e{seq}", "idempotency_key": key, "customer_id": customer, "purpose": "marketing",
            "channel": "sms", "status": "granted", "source": "app", "occurred_at": at, "recorded_at": at,
            "actor": "app:test", "notice_version": "v1", "evidence": "form"}  # fmt: skip


def _assert_append_only(store: sqlalchemy.Engine) -> None:
    for sql in (
        "UPDATE lx_consent_event SET status = 'withdrawn'",
        "UPDATE lx_consent_event SET customer_id = 'erased:x', status = 'withdrawn'",
        "DELETE FROM lx_consent_event",
    ):
        with pytest.raises(DBAPIError, match="append-only"), store.begin() as conn:
            conn.execute(text(sql))


def test_consent_keys_per_customer_keep_the_ledger_append_only(store_url: str) -> None:
    """0006 rebuilds `lx_consent_event` on SQLite: its rows stay, and so do the triggers of 0003, both ways."""
    store = connect(store_url)
    migrate(store, "0005")
    table = ConsentEventRow.__table__
    with store.begin() as conn:
        conn.execute(insert(table), [_ledger_row(1, "A", "K"), _ledger_row(2, "A", "K2")])
    migrate(store)
    _assert_append_only(store)
    with store.begin() as conn:
        conn.execute(insert(table), [_ledger_row(3, "B", "K")])  # the same key for another customer
        conn.execute(update(table).where(table.c.seq == 1).values(customer_id="erased:ref-a"))  # an erasure may
    with pytest.raises(IntegrityError), store.begin() as conn:
        conn.execute(insert(table), [_ledger_row(4, "A", "K2")])
    with store.connect() as conn:
        rows = conn.execute(select(table.c.seq, table.c.customer_id, table.c.idempotency_key).order_by("seq")).all()
    assert [tuple(r) for r in rows] == [(1, "erased:ref-a", "K"), (2, "A", "K2"), (3, "B", "K")]

    command.downgrade(alembic_config(store), "0006")  # later revisions first, so 0006's own refusal is what shows
    with pytest.raises(RuntimeError, match="more than one customer"):  # a global key cannot hold B's event
        command.downgrade(alembic_config(store), "0005")
    with store.begin() as conn:
        conn.execute(text("DELETE FROM lx_consent_event WHERE customer_id LIKE 'erased:%'"))  # retention purge
    command.downgrade(alembic_config(store), "0005")
    _assert_append_only(store)
    with pytest.raises(IntegrityError), store.begin() as conn:
        conn.execute(insert(table), [_ledger_row(5, "C", "K")])  # the global key is back
    store.dispose()


@pytest.mark.parametrize("target", ["0004", "0005"])
def test_the_audit_log_stays_append_only_through_every_migration(store_url: str, target: str) -> None:
    """0005 rebuilds `lx_audit` on SQLite when it is undone: the triggers of 0002 come back with it."""
    store = connect(store_url)
    migrate(store)
    command.downgrade(alembic_config(store), target)
    with store.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO lx_audit (seq, at, actor, action, fields, result, prev_hash, entry_hash) "
                "VALUES (1, '2026-12-01 00:00:00', 'cli:test', 'login', '[]', 'ok', 'p', 'h')"
            )
        )
    for sql in ("UPDATE lx_audit SET actor = 'x'", "DELETE FROM lx_audit"):
        with pytest.raises(DBAPIError, match="append-only"), store.begin() as conn:
            conn.execute(text(sql))
    store.dispose()
