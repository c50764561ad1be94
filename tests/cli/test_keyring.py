"""Keys as a new installation gets them (finding F7): `lingxi init` makes them, every command uses them.

The review reversed a DSR audit target `subject:<hash>` to its customer id by hashing all 20,000 ids
with the public default key the demo ran with. These tests run outside the test environment
(`LINGXI_ENVIRONMENT=development`), as a user's machine does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lingxi.auth import audit
from lingxi.auth.roles import Role, permissions_of
from lingxi.auth.scope import Principal
from lingxi.auth.tables import AuditEntry
from lingxi.cli.main import app
from lingxi.config import Settings
from lingxi.customers import LakeReader
from lingxi.customers.service import search
from lingxi.keys import DEV_HASH_KEY, read_file
from lingxi.privacy.tables import audit_target
from lingxi.store import Lake, connect

from ..api.conftest import sim_phone
from ..clirunner import cli_runner

SEED = 7  # sim_phone's seed


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LINGXI_ENVIRONMENT", "development")
    return cli_runner(monkeypatch, tmp_path / "data", columns=200)


def run(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def fails(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    return result.output


def test_without_a_keyring_commands_say_to_run_init(cli: CliRunner, tmp_path: Path) -> None:
    out = fails(cli, "sim", "--customers", "10", "--days", "1", "--out", str(tmp_path / "x"))
    assert "no hash key" in out and "lingxi init" in out


def test_the_public_default_key_is_refused(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINGXI_HASH_KEY", DEV_HASH_KEY)
    out = fails(cli, "init")
    assert "public development key" in out and "LINGXI_ENVIRONMENT=test" in out


def with_phone(settings: Settings) -> list[str]:
    """The customers of the lake with a mobile number on file."""
    from lingxi.engine.duckdb import DuckDBEngine

    store = connect(settings.resolved_database_url)
    with DuckDBEngine(memory_limit="256MB", threads=1) as engine:
        Lake(settings.lake_dir, store).register(engine, ["customers"])
        ids = engine.con.sql("SELECT customer_id FROM customers WHERE phone_hash IS NOT NULL ORDER BY 1").fetchall()
    store.dispose()
    return [i for (i,) in ids]


def phone_customer(data: Path, settings: Settings) -> tuple[str, str]:
    """A customer of the demo bank with a mobile number on file, and that number."""
    first = with_phone(settings)[0]
    return first, sim_phone(first)


def found_by_phone(settings: Settings, phone: str) -> list[str]:
    store = connect(settings.resolved_database_url)
    audit.bind_keys(store, settings.keyring().audit)  # the search is audited, signed with the data dir's key
    reader = LakeReader(Lake(settings.lake_dir, store), memory_limit="256MB", threads=1)
    try:
        found = search(
            reader,
            store,
            Principal(1, "s", Role.STRATEGIST, None, permissions_of(Role.STRATEGIST)),
            phone,
            hash_key=settings.keyring().hash,
        )
        return [c["customer_id"] for c in found.customers]
    finally:
        reader.close()
        store.dispose()


def test_a_new_data_directory_gets_its_own_key_that_every_command_uses(cli: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = run(cli, "init")
    ring = read_file(data / "keyring.json")
    assert ring["hash"].active_id in out and ring["hash"].active != DEV_HASH_KEY
    extracts = tmp_path / "extracts"
    run(cli, "sim", "--customers", "300", "--days", "5", "--seed", str(SEED), "--out", str(extracts))
    assert json.loads((extracts / "_sim.json").read_text())["hash_key_id"] == ring["hash"].active_id
    run(cli, "pipeline", "run", "--extracts", str(extracts))
    settings = Settings(data_dir=data, environment="development")
    customer, phone = phone_customer(data, settings)
    assert found_by_phone(settings, phone) == [customer]  # the sim, the loader and the console share the key

    run(cli, "dsr", "delete", customer, "--yes")
    store = connect(settings.resolved_database_url)
    with store.connect() as conn:
        targets = set(
            conn.execute(select(AuditEntry.target).where(AuditEntry.action == "data_subject_request")).scalars()
        )
    store.dispose()
    assert audit_target(customer, ring["hash"].active) in targets
    assert audit_target(customer, DEV_HASH_KEY) not in targets  # hashing every id with the public key finds nothing


def test_after_a_hash_key_rotation_erasures_and_phone_search_still_hold(cli: CliRunner, tmp_path: Path) -> None:
    data, extracts = tmp_path / "data", tmp_path / "extracts"
    run(cli, "init")
    run(cli, "sim", "--customers", "300", "--days", "5", "--seed", str(SEED), "--out", str(extracts))
    run(cli, "pipeline", "run", "--extracts", str(extracts))
    settings = Settings(data_dir=data, environment="development")
    erased, _ = phone_customer(data, settings)
    run(cli, "dsr", "delete", erased, "--yes")
    customer, phone = phone_customer(data, settings)
    old = read_file(data / "keyring.json")["hash"].active_id

    out = run(cli, "keys", "rotate", "hash")
    assert "active" in out and old not in out
    out = run(cli, "load", "customers", str(extracts / "customers"))  # the old extract, sent again
    assert "erased" in out.lower() and erased not in with_phone(settings)
    assert found_by_phone(settings, phone) == [customer]  # hashed under the old key, found under either
    listing = run(cli, "keys", "list")
    assert old in listing and "hash" in listing

    doc = json.loads((data / "keyring.json").read_text())  # the old key lost: the loader refuses to go on
    doc["hash"] = [e for e in doc["hash"] if e["active"]]
    (data / "keyring.json").write_text(json.dumps(doc))
    resent = tmp_path / "customers-again.parquet"  # the same rows in other bytes: not "already loaded"
    pq.write_table(pq.read_table(extracts / "customers").sort_by([("customer_id", "descending")]), resent)
    out = fails(cli, "load", "customers", str(resent))
    assert f"key `{old}` is not in the keyring" in out
