"""Every generated table satisfies the bank data contract, so `lingxi load` quarantines nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lingxi.schema import TABLES

Reader = Callable[[Path, str], pa.Table]


@pytest.mark.parametrize("name", list(TABLES))
def test_parts_have_the_exact_contract_schema(bank: Path, name: str, read: Reader) -> None:
    parts = sorted((bank / name).glob("part-*.parquet"))
    assert parts, f"no parts for {name}"
    for part in parts:
        assert pq.read_schema(part).equals(TABLES[name].arrow_schema(), check_metadata=True)


@pytest.mark.parametrize("name", list(TABLES))
def test_every_row_passes_the_column_checks(bank: Path, name: str, read: Reader) -> None:
    spec = TABLES[name]
    table = read(bank, name)
    assert table.num_rows > 0
    for col in spec.columns:
        values = table[col.name]
        if col.required:
            assert values.null_count == 0, f"{name}.{col.name} has nulls"
        present = pc.drop_null(values)
        if col.allowed:
            as_text = present.cast(pa.string()) if col.type == "int" else present
            assert pc.all(pc.is_in(as_text, pa.array(col.allowed))).as_py() in (True, None), f"{name}.{col.name}"
        if col.pattern:
            ok = pc.all(pc.match_substring_regex(present, col.pattern)).as_py()
            assert ok in (True, None), f"{name}.{col.name} breaks {col.pattern}"
        if col.min_value is not None and len(present):
            assert pc.min(present).as_py() >= col.min_value, f"{name}.{col.name} below minimum"
    for group in spec.any_of:
        masks = [table[c].is_valid() for c in group]
        anyset = masks[0]
        for m in masks[1:]:
            anyset = pc.or_(anyset, m)
        assert pc.all(anyset).as_py(), f"{name}: one of {group} must be set"


@pytest.mark.parametrize("name", list(TABLES))
def test_keys_are_unique_and_references_resolve(bank: Path, name: str, read: Reader) -> None:
    spec = TABLES[name]
    table = read(bank, name)
    keys = table.select(list(spec.key)).group_by(list(spec.key)).aggregate([])
    assert keys.num_rows == table.num_rows, f"{name} has duplicate keys"
    for column, ref_table, ref_col in spec.references:
        values = pc.drop_null(table[column.name])
        known = read(bank, ref_table)[ref_col]
        missing = pc.sum(pc.invert(pc.is_in(values, known))).as_py() or 0
        assert missing == 0, f"{name}.{column.name}: {missing} values not in {ref_table}.{ref_col}"


def test_rows_are_sorted_by_customer_within_each_part(bank: Path) -> None:
    for name in ("customers", "accounts", "holdings", "transactions", "identities", "consent_events"):
        for part in sorted((bank / name).glob("part-*.parquet")):
            ids = pq.read_table(part, columns=["customer_id"])["customer_id"].to_pylist()
            assert ids == sorted(ids), f"{part} is not sorted by customer_id"


def test_sensitive_identifiers_are_keyed_hashes_not_values(bank: Path, read: Reader) -> None:
    customers = read(bank, "customers")
    hashes = pc.drop_null(customers["phone_hash"])
    assert pc.all(pc.match_substring_regex(hashes, r"^[0-9a-f]{64}$")).as_py()
    # Names are Chinese: a surname and one or two given-name characters.
    names = customers["name"].to_pylist()
    assert all(2 <= len(n) <= 3 and "\u4e00" <= n[0] <= "\u9fff" for n in names)
