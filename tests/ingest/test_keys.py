"""The pieces of the key check: repeated hashes, and key ranges compared as DuckDB compares them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from lingxi.engine.duckdb import DuckDBEngine
from lingxi.ingest.checks import SEEN_TABLE, build_check_plan
from lingxi.ingest.keys import KeyRange, SeenKeys, repeated_hashes
from lingxi.ingest.mapping import Mapping
from lingxi.schema import get_table


@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=200))
def test_repeated_hashes_are_the_values_that_occur_more_than_once(values: list[int]) -> None:
    found = repeated_hashes(np.array(values, dtype=np.uint64))
    assert found.tolist() == sorted(v for v, n in Counter(values).items() if n > 1)


@settings(max_examples=50)
@given(st.lists(st.text(min_size=1, max_size=6), min_size=2, max_size=20))
def test_text_ranges_order_as_duckdb_orders_them(texts: list[str]) -> None:
    """The range test skips the key check only when DuckDB itself would find no key in common."""
    texts = [t.replace("\x00", "") or "a" for t in texts]
    half = len(texts) // 2
    con = duckdb.connect()
    seen, chunk = KeyRange(), KeyRange()
    for part, target in ((texts[:half], seen), (texts[half:], chunk)):
        low, high = con.execute("SELECT min(v), max(v) FROM (SELECT unnest(?::VARCHAR[]) AS v)", [part]).fetchone()
        assert (low, high) == (min(part), max(part))  # Python's order of code points is DuckDB's byte order
        target.extend(low, high)
    if set(texts[:half]) & set(texts[half:]):
        assert seen.overlaps(chunk.low, chunk.high)


def test_an_empty_range_overlaps_nothing() -> None:
    seen = KeyRange()
    assert not seen.overlaps("a", "z")
    seen.extend(None, None)  # a chunk with no readable key
    assert not seen.overlaps("a", "z")
    seen.extend("m", "p")
    assert seen.overlaps("a", "m") and seen.overlaps("p", "z") and not seen.overlaps("q", "z")


def _published(folder: Path, ids: list[str], *, statistics: bool) -> Path:
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"txn_id": ids}), folder / "part-00000.parquet", write_statistics=statistics)
    return folder


def _seen(engine: DuckDBEngine) -> int:
    return int(engine.run(f"SELECT count(*) AS n FROM {SEEN_TABLE}", label="seen").column("n")[0].as_py())


def test_published_keys_are_read_only_when_a_chunk_could_meet_them(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    seen = SeenKeys(engine, get_table("transactions"))
    seen.start([_published(tmp_path / "v1", ["T100", "T150", "T200"], statistics=True)])
    assert _seen(engine) == 0 and seen.published_range == KeyRange("T100", "T200")  # from the file footers
    plan = build_check_plan(get_table("transactions"), Mapping(), {"txn_id": pa.string()}, references=[])
    engine.execute("CREATE TEMP TABLE lx_typed AS SELECT 1::BIGINT AS __row, 'T300' AS txn_id")
    seen.find_row_problems(plan)
    assert _seen(engine) == 1  # only the chunk's own key: T300 lies above every published key
    engine.execute("CREATE OR REPLACE TEMP TABLE lx_typed AS SELECT 2::BIGINT AS __row, 'T150' AS txn_id")
    seen.find_row_problems(plan)
    problems = engine.run("SELECT __row, code FROM lx_row_problems", label="problems").to_pylist()
    assert problems == [{"__row": 2, "code": "key_already_loaded"}] and _seen(engine) == 4


def test_published_keys_without_statistics_are_read_at_once(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    seen = SeenKeys(engine, get_table("transactions"))
    seen.start([_published(tmp_path / "v1", ["T100", "T200"], statistics=False)])
    assert _seen(engine) == 2 and seen.range == KeyRange("T100", "T200")
