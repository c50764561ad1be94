"""The key check on its own: repeated hashes, keys of earlier chunks, and published keys read lazily."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from lingxi.engine.duckdb import DuckDBEngine
from lingxi.ingest.checks import SEEN_TABLE, CheckPlan, Plausibility, build_check_plan
from lingxi.ingest.keys import SeenKeys, repeated_hashes
from lingxi.ingest.mapping import Mapping
from lingxi.schema import get_table

TRANSACTIONS = get_table("transactions")


@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=200))
def test_repeated_hashes_are_the_values_that_occur_more_than_once(values: list[int]) -> None:
    found = repeated_hashes(np.array(values, dtype=np.uint64))
    assert found.tolist() == sorted(v for v, n in Counter(values).items() if n > 1)


def _plan() -> CheckPlan:
    plausible = Plausibility(date(2026, 12, 1))
    return build_check_plan(TRANSACTIONS, Mapping(), {"txn_id": pa.string()}, references=[], plausible=plausible)


def _check(engine: DuckDBEngine, seen: SeenKeys, first_row: int, keys: list[str]) -> dict[int, str]:
    """Check one chunk of keys; the key problems found, by row."""
    rows = pa.table({"__row": pa.array(range(first_row, first_row + len(keys)), pa.int64()), "txn_id": keys})
    engine.register_arrow("chunk", rows)
    engine.execute("CREATE OR REPLACE TEMP TABLE lx_typed AS SELECT * FROM chunk", label="chunk")
    engine.unregister("chunk")
    seen.find_row_problems(_plan())
    found = engine.run("SELECT __row, code FROM lx_row_problems", label="problems").to_pylist()
    assert len(found) == len({r["__row"] for r in found}), "one key problem per row"
    return {r["__row"]: r["code"] for r in found}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet="aZé中😀 0", min_size=1, max_size=3), min_size=1, max_size=40),
    st.integers(min_value=1, max_value=9),
)
def test_every_repeat_of_a_key_is_found_wherever_the_chunks_fall(keys: list[str], chunk: int) -> None:
    """Ranges of Unicode text compare in DuckDB, so skipping the join never hides a repeat."""
    engine = DuckDBEngine()
    seen = SeenKeys(engine, TRANSACTIONS)
    seen.start([])
    found: dict[int, str] = {}
    for first in range(0, len(keys), chunk):
        found |= _check(engine, seen, first + 1, keys[first : first + chunk])
    expected = {i + 1: "duplicate_key" for i, k in enumerate(keys) if k in keys[:i]}
    assert found == expected


def _published(folder: Path, ids: list[str], *, statistics: bool) -> str:
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"txn_id": ids}), folder / "part-00000.parquet", write_statistics=statistics)
    return str(folder / "**" / "*.parquet")


def _seen(engine: DuckDBEngine) -> int:
    return int(engine.run(f"SELECT count(*) AS n FROM {SEEN_TABLE}", label="seen").column("n")[0].as_py())


def test_published_keys_are_read_only_when_a_chunk_could_meet_them(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    seen = SeenKeys(engine, TRANSACTIONS)
    seen.start([_published(tmp_path / "v1", ["T100", "T150", "T200"], statistics=True)])
    assert _seen(engine) == 0  # the published range came from the file footers
    assert _check(engine, seen, 1, ["T300", "T301"]) == {}
    assert _seen(engine) == 2  # only the chunk's own keys: they lie above every published key
    assert _check(engine, seen, 3, ["T150", "T301", "T150"]) == {
        3: "key_already_loaded",
        4: "duplicate_key",
        5: "key_already_loaded",  # not also a duplicate of row 3: smaller chunks would say the same
    }
    assert _seen(engine) == 5


def test_published_keys_without_statistics_are_read_at_once(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    seen = SeenKeys(engine, TRANSACTIONS)
    seen.start([_published(tmp_path / "v1", ["T100", "T200"], statistics=False)])
    assert _seen(engine) == 2
    assert _check(engine, seen, 1, ["T200"]) == {1: "key_already_loaded"}
