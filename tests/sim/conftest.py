"""A small synthetic bank shared by the sim tests (10,000 customers, two chunks, 90 days)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lingxi.sim import SimConfig, generate

SEED = 7
CONFIG = SimConfig(customers=10_000, days=90, seed=SEED, chunk_customers=5_000)


@pytest.fixture(scope="session")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bank")
    generate(out, CONFIG)
    return out


def read_parts(out: Path, table: str) -> pa.Table:
    """All parts of one table, in part order."""
    return pa.concat_tables(pq.read_table(p) for p in sorted((out / table).glob("part-*.parquet")))


@pytest.fixture(scope="session")
def read() -> Callable[[Path, str], pa.Table]:
    return read_parts
