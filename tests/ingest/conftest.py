from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lingxi.engine.duckdb import DuckDBEngine
from lingxi.ingest.load import LoadOptions, LoadReport, load
from lingxi.store import Lake

from .. import factories


@pytest.fixture
def duck() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(memory_limit="1GB")
    yield engine
    engine.close()


class Loader:
    """Runs the loader against one lake, as `lingxi load` does."""

    def __init__(self, lake: Lake, engine: DuckDBEngine, tmp: Path) -> None:
        self.lake, self.engine, self.tmp = lake, engine, tmp

    def __call__(self, table: str, path: Path, **options: object) -> LoadReport:
        opts = LoadOptions(table=table, path=path, hash_key="test-key", **options)  # type: ignore[arg-type]
        return load(self.lake, self.engine, opts)

    def rows(self, table: str, sql: str | None = None) -> list[dict[str, object]]:
        self.lake.register(self.engine, [table])
        return self.engine.run(sql or f"SELECT * FROM {table} ORDER BY 1", label="test").to_pylist()

    def base(self, n_customers: int = 40) -> list[str]:
        """Load customers and products, which the other tables refer to."""
        rows = factories.customers(n_customers)
        assert self("customers", factories.write_csv(self.tmp / "base" / "customers.csv", rows)).status == "published"
        assert self("products", factories.write_csv(self.tmp / "base" / "products.csv", factories.products())).ok
        return [r["customer_id"] for r in rows]


@pytest.fixture
def loader(lake: Lake, duck: DuckDBEngine, tmp_path: Path) -> Loader:
    return Loader(lake, duck, tmp_path)
