"""A small synthetic bank served by the app, with one user per role in two branches (session-scoped).

Branch A and branch B are the branches of the first two customers; `rm_a` is a branch RM of A, `remote`
a remote RM whose book is one customer of A. Sign-ins use cheap argon2 parameters (tests/auth/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lingxi.api.app import create_app
from lingxi.auth import service
from lingxi.config import DEV_HASH_KEY, Settings
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.pipeline import StageContext, run_pipeline
from lingxi.privacy.identifiers import keyed_hash
from lingxi.store import Lake, connect, migrate

from ..auth.conftest import FAST, PASSWORD

SEED = 7
CUSTOMERS = 800


@dataclass(frozen=True)
class Bank:
    settings: Settings
    branch_a: str
    branch_b: str
    cust_a: str  # a customer of branch A (in the remote RM's book)
    cust_a2: str  # another customer of branch A (not in the book)
    cust_b: str  # a customer of branch B
    phone_a: str  # the mobile number of a customer of branch A
    phone_a_customer: str
    count_a: int  # customers in branch A


#: username -> (role, branch)
USERS = {
    "admin1": ("admin", None),
    "strategist1": ("strategist", None),
    "analyst1": ("analyst", None),
    "approver1": ("approver", None),
    "auditor1": ("auditor", None),
    "rm_a": ("branch_rm", "A"),
    "rm_b": ("branch_rm", "B"),
    "remote1": ("remote_rm", None),
}


def sim_phone(customer_id: str) -> str:
    """The synthetic bank's mobile number for a customer (lingxi.sim.customers.synthetic_phones, no duplicates)."""
    return str(13_000_000_000 + (int(customer_id[1:]) * 7919 + SEED * 104_729) % 6_000_000_000)


def build_bank(root: Path, database_url: str | None = None) -> Bank:
    """The synthetic bank under `root`; its operational store is SQLite there unless `database_url` names one."""
    from lingxi.sim import SimConfig, generate

    generate(root / "extracts", SimConfig(customers=CUSTOMERS, days=40, seed=SEED))
    settings = Settings(data_dir=root / "data", database_url=database_url)
    store = connect(settings.resolved_database_url)
    migrate(store)
    lake = Lake(settings.lake_dir, store)
    with DuckDBEngine(memory_limit="512MB", threads=1) as engine:
        run_pipeline(StageContext(lake=lake, engine=engine, loader=engine, extracts=root / "extracts"))
        lake.register(engine, ["customers"])
        rows = engine.con.sql(
            "SELECT customer_id, branch_id, phone_hash FROM customers ORDER BY customer_id"
        ).fetchall()
    a, b = rows[0][1], next(r[1] for r in rows if r[1] != rows[0][1])
    in_a = [r for r in rows if r[1] == a]
    with_phone = next(r for r in in_a if r[2] and keyed_hash(sim_phone(r[0]), DEV_HASH_KEY) == r[2])
    branches = {"A": a, "B": b}
    for name, (role, branch) in USERS.items():
        service.create_user(
            store,
            name,
            PASSWORD,
            role,
            by="cli:test",
            policy=FAST,
            branch_id=branches.get(branch or ""),
            book_only=role == "remote_rm",
        )
    service.assign_customers(store, "remote1", [in_a[0][0]], by="cli:test")
    store.dispose()
    cust_b = next(r[0] for r in rows if r[1] == b)
    return Bank(settings, a, b, in_a[0][0], in_a[1][0], cust_b, sim_phone(with_phone[0]), with_phone[0], len(in_a))


@pytest.fixture(scope="session")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Bank:
    return build_bank(tmp_path_factory.mktemp("bank"))


@pytest.fixture(scope="session")
def app(bank: Bank) -> Iterator[FastAPI]:
    application = create_app(bank.settings, policy=FAST)
    yield application
    application.state.lingxi.reader.close()


def login(app: FastAPI, username: str) -> tuple[TestClient, str]:
    """A client signed in as `username` (session cookie) and its CSRF token."""
    client = TestClient(app, base_url="http://localhost")
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client, str(r.json()["csrf_token"])


@pytest.fixture(scope="session")
def clients(app: FastAPI) -> dict[str, tuple[TestClient, str]]:
    """One signed-in client per user."""
    return {name: login(app, name) for name in USERS}


@pytest.fixture(scope="session")
def anonymous(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://localhost")


#: A bank's customers extract mapping (its own column names, gender codes, compact dates) and a load of it
#: with bad rows: `quarantine_customers` loads it into a bank; it is rejected, so nothing published changes.
CUSTOMER_MAPPING = """table: customers
columns:
  customer_id: KHH
  branch_id: JGH
  name: XM
  birth_date: {source: CSRQ, format: "%Y%m%d"}
  gender: XB
values:
  gender: {"1": M, "2": F}
"""


@dataclass(frozen=True)
class Quarantined:
    load_id: str
    names: list[str]  # the names of the quarantined rows, as written
    bad_gender: int  # rows with gender code `9`
    bad_birth_date: int  # rows with birth date `19781302`


def quarantine_customers(bank: Bank, folder: Path) -> Quarantined:
    """Load a customers extract with bad rows into `bank` (rejected: the published customers stay)."""
    from lingxi.ingest.load import LoadOptions, load
    from lingxi.ingest.mapping import read_mapping

    from .. import factories

    folder.mkdir(parents=True, exist_ok=True)
    rows = factories.customers(20, seed=11)
    source = [
        {
            "KHH": f"Q{i:06d}",
            "JGH": r["branch_id"],
            "XM": r["name"],
            "CSRQ": r["birth_date"].replace("-", ""),
            "XB": {"M": "1", "F": "2"}[r["gender"]],
        }
        for i, r in enumerate(rows)
    ]
    for r in source[:5]:
        r["XB"] = "9"
    for r in source[5:7]:
        r["CSRQ"] = "19781302"
    mapping = folder / "customers.yaml"
    mapping.write_text(CUSTOMER_MAPPING, encoding="utf-8")
    store = connect(bank.settings.resolved_database_url)
    try:
        with DuckDBEngine(memory_limit="512MB", threads=1) as engine:
            options = LoadOptions(
                "customers",
                factories.write_csv(folder / "KH_20261130.csv", source),
                mapping=read_mapping(mapping),
                mapping_path=mapping,
                hash_key=DEV_HASH_KEY,
            )
            report = load(Lake(bank.settings.lake_dir, store), engine, options)
    finally:
        store.dispose()
    assert report.status == "rejected", report
    return Quarantined(report.load_id, [str(r["XM"]) for r in source[:7]], 5, 2)
