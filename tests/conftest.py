"""Shared fixtures: stores on SQLite and PostgreSQL, a lake, engines, and small contract files."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import select, text

from lingxi.auth import audit
from lingxi.auth.tables import AuditEntry
from lingxi.redaction import _CARD_IN_TEXT, _ID_IN_TEXT, _MOBILE_IN_TEXT
from lingxi.store import Lake, connect, migrate

from .golden import UPDATE_OPTION, GoldenSQL, golden_for
from .pgcluster import ThrowawayCluster

# The suite may run on the public development keys where a test makes no keyring (lingxi.keys); the
# commands it runs in subprocesses inherit this. Tests of the refusal set another environment.
os.environ["LINGXI_ENVIRONMENT"] = "test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        UPDATE_OPTION,
        action="store_true",
        default=False,
        help="rewrite the golden SQL files under tests/snapshots/ instead of comparing with them",
    )


@pytest.fixture
def golden_sql(request: pytest.FixtureRequest) -> GoldenSQL:
    """Golden SQL of the current test: `golden_sql.check(case, query)` (tests/golden.py)."""
    return golden_for(request)


STORES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database (throw-away cluster unless one is given)."""
    given = os.environ.get("LINGXI_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    cluster = ThrowawayCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """The URL of a new, empty database on the PostgreSQL server; dropped afterwards."""
    name = f"lx_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = server.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty operational store: a SQLite file, or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lingxi.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[sqlalchemy.Engine]:
    engine = connect(store_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[sqlalchemy.Engine]:
    engine = connect(f"sqlite:///{tmp_path / 'lingxi.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def lake(tmp_path: Path, sqlite_store: sqlalchemy.Engine) -> Lake:
    return Lake(tmp_path / "lake", sqlite_store)


# --- the audit log never holds a secret (issue 10, F3) -------------------------------------------------------

#: Passwords the tests type, and identifiers no audit entry may hold in clear.
TEST_PASSWORDS = ("correct horse battery", "wrong password!", "guess guess guess", "a long passphrase")
SECRET_IN_TEXT = (_ID_IN_TEXT, _MOBILE_IN_TEXT, _CARD_IN_TEXT)
KEY_LIKE = re.compile(r"^(subject:)?[A-Za-z0-9_.-]{1,64}$")
HEX_TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{12,64}(?![0-9A-Za-z])")


@pytest.fixture(scope="session", autouse=True)
def audit_rows_hold_no_secret() -> Iterator[None]:
    """Every audit row any test writes is read back as stored and swept for passwords, mobiles, ID and card numbers.

    Fails the run (an error at the end of the session) naming the rows; it sweeps what the suite writes
    in-process: sign-ins, refusals, reads, privacy requests, user and token changes.
    """
    original = audit.append
    found: list[str] = []

    def sweeping(conn: sqlalchemy.Connection, *args: Any, **kwargs: Any) -> int:
        seq = original(conn, *args, **kwargs)
        row = conn.execute(select(AuditEntry).where(AuditEntry.seq == seq)).one()
        # a bare target is a customer number (numeric in many banks), a username or a keyed reference: kept as
        # typed; a route or any other text is swept like the free text
        target = None if row.target is None or KEY_LIKE.match(row.target) else row.target
        text = " | ".join(str(v) for v in (row.actor, target, row.reason, row.detail) if v)
        text = HEX_TOKEN.sub("<hex>", text)  # keyed hashes and request ids: a run of their digits is no card
        if any(p in text for p in TEST_PASSWORDS) or any(r.search(text) for r in SECRET_IN_TEXT):
            found.append(f"{row.action}: {text}")
        return seq

    audit.append = sweeping  # type: ignore[assignment]
    yield
    audit.append = original  # type: ignore[assignment]
    assert not found, "audit rows holding a secret:\n" + "\n".join(found[:20])
