"""The engine fixture: the same tests run on DuckDB and (under `-m spark`) on a local Spark session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lingxi.engine import Engine
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.ingest.load import LoadOptions, load
from lingxi.store import Lake, connect, migrate

from .. import factories

ENGINES = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("spark", id="spark", marks=pytest.mark.spark),
]


@pytest.fixture(scope="session")
def spark_session():  # type: ignore[no-untyped-def]
    from lingxi.engine.spark import create_session

    session = create_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def bank_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    """A small bank loaded through the loader: 60 customers, 5 products, 2,000 transactions."""
    root: Path = tmp_path_factory.mktemp("bank")
    store = connect(f"sqlite:///{root / 'lingxi.db'}")
    migrate(store)
    lake = Lake(root / "lake", store)
    customers = factories.customers(60)
    files = {
        "customers": factories.write_csv(root / "in" / "customers.csv", customers),
        "products": factories.write_csv(root / "in" / "products.csv", factories.products()),
        "transactions": factories.write_csv(
            root / "in" / "transactions.csv", factories.transactions(2000, [c["customer_id"] for c in customers])
        ),
    }
    duck = DuckDBEngine()
    for table, path in files.items():
        assert load(lake, duck, LoadOptions(table=table, path=path)).status == "published"
    duck.close()
    yield lake
    store.dispose()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, bank_lake: Lake) -> Iterator[Engine]:
    if request.param == "duckdb":
        eng: Engine = DuckDBEngine()
    else:
        from lingxi.engine.spark import SparkEngine

        eng = SparkEngine(request.getfixturevalue("spark_session"))
    bank_lake.register(eng)
    yield eng
    eng.close()


@pytest.fixture
def reference(bank_lake: Lake) -> Iterator[Engine]:
    """DuckDB over the same lake, the engine every other engine must agree with."""
    eng = DuckDBEngine()
    bank_lake.register(eng)
    yield eng
    eng.close()
