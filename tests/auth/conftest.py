"""Fixtures for access-control tests: cheap argon2 parameters, a clock the test moves, tampering helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy
from sqlalchemy import text

from lingxi.auth import Argon2Params, AuthPolicy

#: The production policy with argon2 made cheap (1 pass, 8 KiB): the tests check behaviour, not cost.
FAST = AuthPolicy(hashing=Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1))
PASSWORD = "correct horse battery"


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


def tamper(store: sqlalchemy.Engine, sql: str) -> None:
    """Run `sql` against lx_audit as a DBA would: around the append-only triggers."""
    with store.begin() as conn:
        if store.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE lx_audit DISABLE TRIGGER lx_audit_append_only"))
            conn.execute(text(sql))
            conn.execute(text("ALTER TABLE lx_audit ENABLE TRIGGER lx_audit_append_only"))
        else:
            conn.execute(text("DROP TRIGGER lx_audit_no_update"))
            conn.execute(text("DROP TRIGGER lx_audit_no_delete"))
            conn.execute(text(sql))
