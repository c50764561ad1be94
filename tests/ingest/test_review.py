"""Reading the quarantine back: top offending values, sample rows, mapping lines, masking, and erasure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from lingxi.auth.audit import Who
from lingxi.auth.roles import Role, permissions_of
from lingxi.auth.scope import Principal
from lingxi.errors import InputError, NotFound
from lingxi.ingest.mapping import read_mapping
from lingxi.ingest.masked import WITHHELD, View
from lingxi.ingest.review import quarantined_loads, review_load
from lingxi.privacy import dsr
from lingxi.schema import get_table

from .. import factories
from .conftest import Loader

MAPPING = """table: transactions
columns:
  txn_id: JYLSH
  customer_id: KHH
  ts: JYSJ
  amount: JE
  direction:
    source: JYFX
values:
  direction: {"D": debit, "C": credit}
"""


def bank_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transactions under the bank's own column names (see MAPPING), with its own direction codes."""
    codes = {"debit": "D", "credit": "C"}
    return [
        {
            "JYLSH": r["txn_id"],
            "KHH": r["customer_id"],
            "JYSJ": r["ts"],
            "JE": r["amount"],
            "JYFX": codes.get(r["direction"], r["direction"]),
        }
        for r in rows
    ]


def load_mapped(loader: Loader, tmp_path: Path, rows: list[dict[str, Any]], **options: Any) -> Any:
    mapping = tmp_path / "txn.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    csv = factories.write_csv(tmp_path / "txn.csv", bank_rows(rows))
    return loader("transactions", csv, mapping=read_mapping(mapping), mapping_path=mapping, **options)


def principal(role: Role) -> Principal:
    return Principal(1, f"{role.value}1", role, None, permissions_of(role))


def test_the_load_summary_names_the_top_offending_values_per_reason_and_masks_personal_ones(
    loader: Loader, tmp_path: Path
) -> None:
    ids = loader.base()
    rows = factories.transactions(400, ids)
    bad = ["VYBER"] * 6 + ["X"] * 3 + ["Y"] * 2 + ["Z"]  # four offending codes: the three most frequent are shown
    for i, value in enumerate(bad):
        rows[i]["direction"] = value
    rows[20]["amount"] = "abc"  # amount is personal (C2): shown by its shape, never as it was
    rows[21]["amount"] = "abc"
    rows[22]["direction"] = "W" * 60  # a long value is cut
    report = load_mapped(loader, tmp_path, rows, max_bad=0.1)
    assert report.status == "published"
    assert report.top_values["direction: not_allowed"][:3] == [("VYBER", 6), ("X", 3), ("Y", 2)]
    assert len(report.top_values["direction: not_allowed"]) == 3
    assert report.top_values["amount: bad_type"] == [("xxx", 2)]
    assert all("abc" not in v for values in report.top_values.values() for v, _ in values)
    report = load_mapped(loader, tmp_path, [{**rows[22], "txn_id": "T-long"}], max_bad=1.0)
    (long_value, _), *_ = report.top_values["direction: not_allowed"]
    assert long_value == "W" * 39 + "…"


def test_personal_values_in_the_summary_are_masked_by_the_contract(loader: Loader, tmp_path: Path) -> None:
    rows = factories.customers(40)
    rows[0]["birth_date"] = "19781302"  # bad_type, and personal: its shape only
    rows[1]["gender"] = "男"  # not_allowed, personal: never shown as written
    rows[2]["city_tier"] = "7"  # not personal: shown
    report = loader("customers", factories.write_csv(tmp_path / "c.csv", rows), max_bad=0.5)
    assert report.top_values["birth_date: bad_type"] == [("99999999", 1)]
    assert report.top_values["gender: not_allowed"] == [("*", 1)]
    assert report.top_values["city_tier: not_allowed"] == [("7", 1)]


def test_show_gives_sample_rows_with_the_offending_value_reason_and_mapping_lines(
    loader: Loader, tmp_path: Path
) -> None:
    ids = loader.base()
    rows = factories.transactions(100, ids)
    for i in range(5):
        rows[i]["direction"] = "VYBER"
    rows[10]["amount"], rows[10]["direction"] = "abc", "UP"  # two problems: amount's is listed first
    report = load_mapped(loader, tmp_path, rows, max_bad=0.5)
    (tmp_path / "txn.yaml").write_text("columns: {}\n", encoding="utf-8")  # edited after the load: the record stays

    review = review_load(loader.lake, loader.engine, "transactions", View.raw, reason="not_allowed", limit=10)
    assert review.load is not None and review.load.load_id == report.load_id
    assert [(s.row, s.field, s.reason, s.value) for s in review.samples] == [
        *((i + 1, "direction", "not_allowed", "VYBER") for i in range(5)),
        (11, "direction", "not_allowed", "UP"),  # found by its second problem
    ]
    assert review.samples[-1].problems == ["amount: bad_type", "direction: not_allowed"]
    assert review.samples[0].record["txn_id"] == rows[0]["txn_id"]
    by_reason = {r.key: r for r in review.reasons}
    assert by_reason["direction: not_allowed"].rows == 6
    assert [(t.value, t.rows) for t in by_reason["direction: not_allowed"].top] == [("VYBER", 5), ("UP", 1)]
    mapped = [(m.section, m.line, m.text) for m in by_reason["direction: not_allowed"].mapping]
    assert mapped == [
        ("columns", 7, "  direction:\n    source: JYFX"),
        ("values", 10, '  direction: {"D": debit, "C": credit}'),
    ]
    assert review.provenance.mapping == str((tmp_path / "txn.yaml").resolve())
    assert [(m.section, m.line) for m in by_reason["amount: bad_type"].mapping] == [("columns", 6)]

    only_amount = review_load(loader.lake, loader.engine, "transactions", View.raw, reason="bad_type")
    assert [(s.row, s.field, s.value) for s in only_amount.samples] == [(11, "amount", "abc")]


def test_a_load_without_a_mapping_file_says_so_and_rejected_loads_are_listed(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    rows = factories.transactions(50, ids)
    rows[0]["direction"] = "sideways"
    rows[1]["txn_id"] = rows[2]["txn_id"]
    rejected = loader("transactions", factories.write_csv(tmp_path / "t.csv", rows))
    assert rejected.status == "rejected"
    review = review_load(loader.lake, loader.engine, "transactions", View.raw)
    assert review.provenance.mapping is None and all(not r.mapping for r in review.reasons if r.field != "key")
    key = next(r for r in review.reasons if r.key == "key: duplicate_key")
    assert [(t.value, t.rows) for t in key.top] == [(rows[2]["txn_id"], 1)]
    listed = quarantined_loads(loader.lake.store)
    assert [(q.table, q.load_id, q.status, q.reasons) for q in listed] == [
        ("transactions", rejected.load_id, "rejected", {"direction: not_allowed": 1, "key: duplicate_key": 1})
    ]


def test_unknown_reasons_loads_and_tables_are_refused_with_the_fix(loader: Loader, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="did you mean `not_allowed`"):
        review_load(loader.lake, loader.engine, "transactions", View.raw, reason="not_alowed")
    with pytest.raises(NotFound, match="no load `../../etc`"):
        review_load(loader.lake, loader.engine, "transactions", View.raw, load_id="../../etc")
    with pytest.raises(NotFound, match="unknown table `txns`"):
        review_load(loader.lake, loader.engine, "txns", View.raw)
    empty = review_load(loader.lake, loader.engine, "transactions", View.raw)
    assert empty.load is None and empty.samples == []


def test_each_reader_sees_the_values_their_role_may_see() -> None:
    customers = get_table("customers")
    row = {"customer_id": "C000001", "name": "张伟", "birth_date": "1978-13-02", "city_tier": "7", "XM_RAW": "张伟"}
    analyst = View.for_principal(customers, principal(Role.ANALYST))  # reads every branch: as the 360 shows
    assert analyst.record(row) == {
        "customer_id": "C000001",
        "name": "张**",
        "birth_date": "1978-13-02",
        "city_tier": "7",
    }
    assert analyst.sensitive_shown(list(row)) == ["birth_date"]
    admin = View.for_principal(customers, principal(Role.ADMIN))  # reads no customer: every personal value masked
    assert admin.record(row) == {
        "customer_id": "C******",
        "name": "张**",
        "birth_date": "9999-99-99",
        "city_tier": "7",
    }
    assert admin.value("XM_RAW", "张伟") == WITHHELD and admin.sensitive_shown(list(row)) == []
    assert View.raw(customers).record(row) == row


def test_erasure_leaves_nothing_of_the_customer_in_what_the_quarantine_shows(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    erased, other = ids[0], ids[1]
    rows = factories.transactions(40, [erased]) + factories.transactions(40, [other], start=1000)
    for r in rows[:4] + rows[40:43]:  # four bad rows of the customer to erase, three of another
        r["direction"] = "VYBER"
    report = load_mapped(loader, tmp_path, rows, max_bad=0.5)
    before = review_load(loader.lake, loader.engine, "transactions", View.raw)
    assert {s.record["customer_id"] for s in before.samples} == {erased, other}

    dsr.erase_customer(loader.lake, loader.engine, erased, actor=Who("dpo"), hash_key="test-key")

    after = review_load(loader.lake, loader.engine, "transactions", View.raw)
    assert {s.record["customer_id"] for s in after.samples} == {other}
    assert [(t.value, t.rows) for r in after.reasons for t in r.top] == [("VYBER", 3)]
    folder = Path(str(report.quarantine_path))
    assert (folder / "mapping.json").exists()
    for path in folder.iterdir():  # the parts and the mapping record: no value of the erased customer
        assert erased.encode() not in path.read_bytes(), path.name
    meta = MetaData()
    meta.reflect(loader.lake.store)
    with loader.lake.store.connect() as conn:  # the load's row keeps counts, never values
        load_row = conn.execute(select(meta.tables["lx_load"]).where(meta.tables["lx_load"].c.id == report.load_id))
        assert erased not in json.dumps([tuple(r) for r in load_row.all()], default=str)
