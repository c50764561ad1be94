"""The pieces of the key check: repeated hashes, and key ranges compared as DuckDB compares them."""

from __future__ import annotations

from collections import Counter

import duckdb
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lingxi.ingest.keys import KeyRange, repeated_hashes


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
