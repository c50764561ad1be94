"""Capabilities plug in: a capability added as a folder appears everywhere without editing central files.

The fixture `tests/fixtures/loyalty` is a bank's own package outside Lingxi, named in LINGXI_CAPABILITIES.
It declares a table (with its own Alembic branch), a lake dataset written by a pipeline stage, a
permission, an audit action, a navigation entry, and ships a route, a page and a CLI group. The tests
drive it as a user would: `lingxi init`, `lingxi pipeline run` and `lingxi --help` in a subprocess, the
app over HTTP, a data-subject request that exports and erases its rows. `loyalty_undeclared` is the same
capability without its holdings: data-subject requests refuse to run while its customer data is undeclared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from lingxi import registry
from lingxi.api.app import create_app, flat_routes
from lingxi.api.deps import declared_permission
from lingxi.auth import service
from lingxi.auth.errors import AccountError
from lingxi.auth.roles import Role, known_permissions, permissions_of
from lingxi.config import Settings
from lingxi.errors import ConfigError
from lingxi.privacy import holdings

from .auth.conftest import FAST, PASSWORD
from .plugins import PLUGIN, UNDECLARED, use_plugins

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def plugin() -> Iterator[None]:
    use_plugins(PLUGIN)
    yield
    use_plugins()


def lingxi(data_dir: Path, *args: str, plugins: str = PLUGIN) -> subprocess.CompletedProcess[str]:
    """The `lingxi` command in a fresh process, with the fixture importable and named."""
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT)])  # this checkout's lingxi, not an installed copy
    env = {**os.environ, "LINGXI_DATA_DIR": str(data_dir), registry.ENV_VAR: plugins, "PYTHONPATH": path}
    return subprocess.run(
        [sys.executable, "-m", "lingxi.cli.main", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic bank initialised and run through the daily pipeline with the plug-in named."""
    from lingxi.sim import SimConfig, generate

    root = tmp_path_factory.mktemp("plugin-bank")
    generate(root / "extracts", SimConfig(customers=300, days=20, seed=11))
    data = root / "data"
    init = lingxi(data, "init")
    assert init.returncode == 0, init.stderr
    run = lingxi(data, "pipeline", "run", "--extracts", str(root / "extracts"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "loyalty" in run.stdout  # the plug-in's stage ran, and said so
    return data


def test_the_cli_finds_the_plugin_group_and_stage(bank: Path) -> None:
    helped = lingxi(bank, "--help")
    assert helped.returncode == 0 and "loyalty" in helped.stdout
    assert lingxi(bank, "loyalty", "stage").stdout.strip().startswith("loyalty:")
    stages = lingxi(bank, "pipeline", "stages").stdout
    assert stages.index("load") < stages.index("loyalty")
    matrix = json.loads(lingxi(bank, "roles", "--json").stdout)  # the authorisation matrix, as an operator reads it
    assert {role for role, held in matrix.items() if "loyalty:read" in held} == {"strategist", "branch_rm"}
    without = lingxi(bank, "--help", plugins="")
    assert without.returncode == 0 and "loyalty" not in without.stdout  # nothing central names it


def test_init_applies_the_plugin_migration_branch(bank: Path, plugin: None) -> None:
    import sqlalchemy

    store = sqlalchemy.create_engine(Settings(data_dir=bank).resolved_database_url)
    try:
        assert "lx_loyalty_points" in sqlalchemy.inspect(store).get_table_names()
        with store.connect() as conn:
            n = conn.execute(sqlalchemy.text("SELECT count(*) FROM lx_loyalty_points")).scalar_one()
        assert n > 0  # filled by the stage
    finally:
        store.dispose()


def test_the_stage_wrote_its_lake_dataset(bank: Path) -> None:
    folders = sorted((bank / "lake" / "loyalty_points").iterdir())
    table = pq.read_table(folders[-1])
    transactions = pq.read_table(bank / "lake" / "transactions", columns=["customer_id"]).to_pylist()
    counts: dict[str, int] = {}
    for row in transactions:
        if row["customer_id"] is not None:
            counts[row["customer_id"]] = counts.get(row["customer_id"], 0) + 1
    assert {r["customer_id"]: r["points"] for r in table.to_pylist()} == counts


def branch_of(bank: Path, customer_id: str) -> str:
    customers = pq.read_table(sorted((bank / "lake" / "customers").iterdir())[-1]).to_pylist()
    return next(str(c["branch_id"]) for c in customers if c["customer_id"] == customer_id)


def other_branch_customer(bank: Path, branch: str) -> str:
    customers = pq.read_table(sorted((bank / "lake" / "customers").iterdir())[-1]).to_pylist()
    return next(str(c["customer_id"]) for c in customers if c["branch_id"] != branch)


@pytest.fixture
def app_clients(bank: Path, plugin: None) -> Iterator[dict[str, TestClient]]:
    settings = Settings(data_dir=bank)
    app = create_app(settings, policy=FAST)
    store = app.state.lingxi.store
    first_points = pq.read_table(sorted((bank / "lake" / "loyalty_points").iterdir())[-1]).to_pylist()[0]
    branch = branch_of(bank, first_points["customer_id"])
    users = (
        ("strat", "strategist", None),
        ("aud", "auditor", None),
        ("dpo", "approver", None),
        ("rm_a", "branch_rm", branch),
    )
    for name, role, branch_id in users:
        try:
            service.create_user(store, name, PASSWORD, role, by="cli:test", policy=FAST, branch_id=branch_id)
        except AccountError as e:  # created by an earlier test of this module
            assert "exists" in str(e), e
    clients = {}
    with TestClient(app, base_url="http://localhost") as first:
        for name, *_ in users:
            client = first if not clients else TestClient(app, base_url="http://localhost")
            r = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            clients[name] = client
        yield clients


def test_the_app_serves_the_plugin_route_and_page_under_its_permission(
    bank: Path, app_clients: dict[str, TestClient]
) -> None:
    routes = {
        (m, r.path): r for r in flat_routes(app_clients["strat"].app) if isinstance(r, APIRoute) for m in r.methods
    }
    for key in (("GET", "/api/v1/loyalty/{customer_id}"), ("GET", "/loyalty")):
        declared = [p for d in routes[key].dependant.dependencies if (p := declared_permission(d.call))]
        assert declared == ["loyalty:read"], key  # the matrix rule: every route declares its permission
    # the authorisation matrix: the permission is known, the declared role holds it, the others do not
    assert "loyalty:read" in known_permissions()
    assert {r.value for r in Role if "loyalty:read" in permissions_of(r)} == {"strategist", "branch_rm"}
    table = pq.read_table(sorted((bank / "lake" / "loyalty_points").iterdir())[-1]).to_pylist()
    cid, points = table[0]["customer_id"], table[0]["points"]
    got = app_clients["strat"].get(f"/api/v1/loyalty/{cid}")
    assert got.status_code == 200 and got.json() == {"customer_id": cid, "points": points}
    assert app_clients["aud"].get(f"/api/v1/loyalty/{cid}").status_code == 403
    assert app_clients["dpo"].get(f"/api/v1/loyalty/{cid}").status_code == 403  # approver: not granted
    assert app_clients["strat"].get("/api/v1/loyalty/C999999999").status_code == 404
    # branch scope holds for the plug-in's route: the RM reads its branch's customer, not another branch's
    assert app_clients["rm_a"].get(f"/api/v1/loyalty/{cid}").json() == {"customer_id": cid, "points": points}
    other = other_branch_customer(bank, branch_of(bank, cid))
    assert app_clients["rm_a"].get(f"/api/v1/loyalty/{other}").status_code == 404  # as unknown: ids cannot be probed
    anonymous = TestClient(app_clients["strat"].app, base_url="http://localhost")
    assert anonymous.get(f"/api/v1/loyalty/{cid}").status_code == 401
    assert anonymous.get("/loyalty", headers={"accept": "text/html"}, follow_redirects=False).status_code == 303
    # the page, in the console's frame, with its navigation entry and text in both languages
    page = app_clients["strat"].get("/loyalty", headers={"accept": "text/html"})
    assert page.status_code == 200 and 'data-testid="loyalty"' in page.text and "积分" in page.text
    home = app_clients["strat"].get("/", headers={"accept": "text/html"})
    assert 'href="/loyalty"' in home.text
    denied = app_clients["aud"].get("/", headers={"accept": "text/html"})
    assert 'href="/loyalty"' not in denied.text and "积分" in denied.text  # greyed, not hidden
    # its audit action is recorded and can be filtered on
    entries = app_clients["aud"].get("/api/v1/audit", params={"action": "loyalty_read"}).json()["data"]
    assert entries and entries[0]["target"] == cid


def test_a_data_subject_request_covers_the_plugin_data(bank: Path, app_clients: dict[str, TestClient]) -> None:
    table = pq.read_table(sorted((bank / "lake" / "loyalty_points").iterdir())[-1]).to_pylist()
    cid = table[-1]["customer_id"]
    dpo = app_clients["dpo"]
    exported = dpo.post(f"/api/v1/customers/{cid}/dsr/export")
    assert exported.status_code == 200, exported.text
    document = exported.json()["document"]
    assert [r["customer_id"] for r in document["lake"]["loyalty_points"]] == [cid]
    assert [r["customer_id"] for r in document["operational"]["lx_loyalty_points"]] == [cid]
    erased = dpo.post(f"/api/v1/customers/{cid}/dsr/delete", json={"confirm_customer_id": cid})
    assert erased.status_code == 200, erased.text
    stores = erased.json()["stores"]
    assert stores["operational"]["lx_loyalty_points"] == 1 and stores["lake"]["loyalty_points"]["rows_removed"] == 1
    for folder in (bank / "lake" / "loyalty_points").iterdir():
        assert cid not in json.dumps(pq.read_table(folder).to_pylist())


def test_undeclared_customer_data_stops_data_subject_requests(bank: Path) -> None:
    use_plugins(UNDECLARED)
    try:
        settings = Settings(data_dir=bank)
        app = create_app(settings, policy=FAST)
        store = app.state.lingxi.store
        try:
            service.create_user(store, "dpo2", PASSWORD, "approver", by="cli:test", policy=FAST)
        except Exception:
            pass
        with TestClient(app, base_url="http://localhost") as client:
            r = client.post("/api/v1/auth/login", json={"username": "dpo2", "password": PASSWORD})
            client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            cid = pq.read_table(sorted((bank / "lake" / "loyalty_points").iterdir())[-1]).to_pylist()[0]["customer_id"]
            refused = client.post(f"/api/v1/customers/{cid}/dsr/export")
        assert refused.status_code == 422 and "lx_loyalty_points" in refused.json()["error"]
        with pytest.raises(ConfigError, match="table `lx_loyalty_points`, lake dataset `loyalty_points`"):
            holdings.check_declared(store, ["loyalty_points", "customers"])
    finally:
        use_plugins()


def test_a_misnamed_plugin_stops_the_cli_in_one_line(tmp_path: Path) -> None:
    done = lingxi(tmp_path / "data", "--help", plugins="no.such.package")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    first = done.stderr.strip().splitlines()[0]
    assert first == "error: capability package `no.such.package` cannot be imported (no such package)"
