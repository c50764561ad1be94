"""Connecting to the operational store and bringing its schema up to date with Alembic.

SQLite (WAL, so readers never block the writer) is the embedded default; PostgreSQL is used when
`LINGXI_DATABASE_URL` names it. Schema changes only ever come from migrations: `create_all` is not
used on any production path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lingxi import registry
from lingxi.errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")


def connect(url: str) -> Engine:
    """A SQLAlchemy engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as e:
        raise StoreError(
            f"no database driver for `{url.split(':', 1)[0]}`",
            hint="install it with `pip install 'lingxi[postgres]'`",
        ) from e


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    """Lingxi's history plus the branches plug-in capabilities bring (`Capability.migrations`)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    locations = [str(MIGRATIONS / "versions"), *registry.migration_locations()]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Apply migrations up to `revision` (every branch's head by default)."""
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as e:
        raise StoreError(
            f"cannot reach the operational store at {engine.url.render_as_string(hide_password=True)}: {e.orig}",
            hint="check LINGXI_DATABASE_URL and that the database server is running",
        ) from e


def current_revision(engine: Engine) -> str | None:
    """The store's revision; with plug-in branches, their heads joined by `+` (sorted)."""
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return "+".join(sorted(heads)) or None


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(create_engine("sqlite://")))


def head_revision() -> str | None:
    """The revision the code expects, in the form of `current_revision` (Alembic keeps only the latest of
    revisions that depend on each other, so a store at `head_revision` may show fewer heads; see `pending`)."""
    return "+".join(sorted(_script().get_heads())) or None


def pending(engine: Engine) -> list[str]:
    """The heads of the code's history (Lingxi's and plug-ins' branches) that the store has not reached."""
    script = _script()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    applied = {r.revision for r in script.iterate_revisions(current, "base") if r is not None} if current else set()
    return sorted(h for h in script.get_heads() if h not in applied)


def require_migrated(engine: Engine) -> None:
    """Fail with a clear message when the store has not been initialised or is behind the code."""
    try:
        current = current_revision(engine)
    except OperationalError as e:
        raise StoreError(f"cannot open the operational store: {e.orig}", hint="check LINGXI_DATABASE_URL") from e
    if current is None:
        raise StoreError("the operational store is not initialised", hint="run `lingxi init` first")
    missing = pending(engine)
    if missing:
        raise StoreError(
            f"the operational store is at revision {current}, the code expects {head_revision()} "
            f"({', '.join(missing)} not applied)",
            hint="run `lingxi init` to apply the pending migrations",
        )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
