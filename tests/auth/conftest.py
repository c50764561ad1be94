"""Fixtures for access-control tests: cheap argon2 parameters, a clock the test moves, tampering helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy
from sqlalchemy import text

from lingxi.auth import Argon2Params, AuthPolicy, audit
from lingxi.auth.audit import Action, AuditQuery, Entry, Who

#: The production policy with argon2 made cheap (1 pass, 8 KiB): the tests check behaviour, not cost.
FAST = AuthPolicy(hashing=Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1))
PASSWORD = "correct horse battery"
RM = Who("rm.a", "branch_rm", "BR-A")


class Clock:
    """A clock that only moves when the test says so."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def tamper(store: sqlalchemy.Engine, *statements: str) -> None:
    """Run `statements` against lx_audit as a DBA would: around the append-only triggers (on SQLite, dropped)."""
    with store.begin() as conn:
        if store.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE lx_audit DISABLE TRIGGER lx_audit_append_only"))
            for sql in statements:
                conn.execute(text(sql))
            conn.execute(text("ALTER TABLE lx_audit ENABLE TRIGGER lx_audit_append_only"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS lx_audit_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS lx_audit_no_delete"))
            for sql in statements:
                conn.execute(text(sql))


def fill(store: sqlalchemy.Engine, n: int, clock: Clock) -> None:
    """`n` customer reads by a branch RM, a second apart."""
    for i in range(n):
        audit.record(
            store,
            Action.CUSTOMER_READ,
            RM,
            target=f"C{i:04d}",
            fields=["name", "mobile"],
            reason="CUSTOMER_CONTACT",
            now=clock.advance(seconds=1),
        )


def entries(store: sqlalchemy.Engine) -> list[Entry]:
    """Every entry, oldest first."""
    return list(reversed(audit.search(store, AuditQuery(limit=1000))))


def rewind(store: sqlalchemy.Engine, seq: int) -> None:
    """Cut every entry after `seq` and point `lx_audit_head` at entry `seq` (that table has no trigger)."""
    last = entries(store)[seq - 1].entry_hash
    tamper(
        store,
        f"DELETE FROM lx_audit WHERE seq > {seq}",
        f"UPDATE lx_audit_head SET seq = {seq}, last_hash = '{last}' WHERE id = 1",
    )
