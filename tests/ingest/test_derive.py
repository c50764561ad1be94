"""Bank extracts loaded with mapping files alone: expressions, ID-number helpers, two-digit years, lookups.

Each test writes a file shaped like a core-banking unload (its own column names, an ID number instead of
a birth date, transactions keyed by account) and a YAML mapping, loads it, and checks every row's
outcome: the published value, or the quarantine reason.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lingxi.errors import InputError, SpecError
from lingxi.ingest.mapping import read_mapping

from .. import factories
from .conftest import Loader

AS_OF = date(2026, 12, 1)


def mapping_file(tmp_path: Path, text: str, name: str = "mapping.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def quarantined(loader: Loader, report: Any) -> dict[str, list[str]]:
    """Each quarantined row's own key (its first raw value) -> its problems."""
    found: dict[str, list[str]] = {}
    for part in Path(report.quarantine_path or loader.tmp / "none").rglob("*.parquet"):
        for row in pq.read_table(part).to_pylist():
            raw = json.loads(row["raw"])
            key = raw.get("txn_id") or raw.get("event_id") or raw.get("customer_id") or next(iter(raw.values()))
            found[str(key)] = row["problems"].split("; ")
    return found


CUSTOMERS_MAPPING = """\
table: customers
columns:
  customer_id: KHH
  branch_id: {const: BR01}
  name: XM
  birth_date: {expr: "id_birth_date(ZJHM)"}
  gender: {expr: "id_gender(ZJHM)"}
  id_no_hash: {source: ZJHM, transform: hash_id_no}
  risk_level: {expr: "CASE WHEN FXDJ IS NULL THEN NULL ELSE 'C' || FXDJ END"}
"""


def test_birth_date_and_gender_come_from_the_id_number_before_it_is_hashed(loader: Loader, tmp_path: Path) -> None:
    woman_1949 = factories.id_number(date(1949, 12, 31), serial=2, male=False)
    man_1985 = factories.id_number(date(1985, 6, 1), serial=7, male=True)
    rows = [
        {"KHH": "C000001", "XM": "王芳", "ZJHM": woman_1949, "FXDJ": "3"},
        {"KHH": "C000002", "XM": "李伟", "ZJHM": man_1985.replace("X", "x"), "FXDJ": "2"},  # lower-case x too
        {"KHH": "C000003", "XM": "张敏", "ZJHM": "110105491231002", "FXDJ": ""},  # 15-digit legacy number
        {"KHH": "C000004", "XM": "刘静", "ZJHM": factories.id_number(date(1990, 1, 2), check=False), "FXDJ": "1"},
        {"KHH": "C000005", "XM": "陈娜", "ZJHM": "", "FXDJ": "4"},  # no number: no birth date, no problem
    ]
    mapping = read_mapping(mapping_file(tmp_path, CUSTOMERS_MAPPING))
    report = loader("customers", factories.write_csv(tmp_path / "KH.csv", rows), mapping=mapping, max_bad=0.5)
    assert report.status == "published" and report.rows_valid == 4 and report.rows_quarantined == 1, report.reasons
    assert "ZJHM" not in report.ignored_columns and report.ignored_columns == []
    published = {r["customer_id"]: r for r in loader.rows("customers")}
    assert (published["C000001"]["birth_date"], published["C000001"]["gender"]) == (date(1949, 12, 31), "F")
    assert (published["C000002"]["birth_date"], published["C000002"]["gender"]) == (date(1985, 6, 1), "M")
    assert published["C000002"]["id_no_hash"] is not None  # the lower-case x was normalised and hashed
    assert (published["C000003"]["birth_date"], published["C000003"]["gender"]) == (date(1949, 12, 31), "F")
    assert published["C000005"]["birth_date"] is None and published["C000005"]["id_no_hash"] is None
    assert (published["C000001"]["risk_level"], published["C000003"]["risk_level"]) == ("C3", None)
    assert "C000004" not in published
    problems = quarantined(loader, report)["C000004"]
    assert "birth_date: bad_check_digit" in problems and "gender: bad_check_digit" in problems
    raw = json.dumps([pq.read_table(p).to_pylist() for p in Path(report.quarantine_path or "").rglob("*.parquet")])
    assert rows[3]["ZJHM"] not in raw  # the quarantine never holds the number itself


def test_two_digit_years_need_a_pivot_and_read_in_its_century(loader: Loader, tmp_path: Path) -> None:
    rows = [
        {"customer_id": "C000001", "branch_id": "BR01", "CSRQ": "451231"},  # 1945, not 2045
        {"customer_id": "C000002", "branch_id": "BR01", "CSRQ": "300101"},  # the pivot year itself
        {"customer_id": "C000003", "branch_id": "BR01", "CSRQ": "291231"},  # 2029: after the as-of date
        {"customer_id": "C000004", "branch_id": "BR01", "CSRQ": "010315"},  # 2001
    ]
    path = factories.write_csv(tmp_path / "KH.csv", rows)
    without = mapping_file(tmp_path, "columns:\n  birth_date: {source: CSRQ, format: '%y%m%d'}\n", "no-pivot.yaml")
    with pytest.raises(SpecError, match=r"no-pivot.yaml line 2 \(`birth_date`\).*two-digit year.*pivot"):
        loader("customers", path, mapping=read_mapping(without))

    pivoted = mapping_file(tmp_path, "columns:\n  birth_date: {source: CSRQ, format: '%y%m%d', pivot: 1930}\n")
    report = loader("customers", path, mapping=read_mapping(pivoted), max_bad=0.5, as_of=AS_OF)
    assert report.status == "published", report.reasons
    births = {r["customer_id"]: r["birth_date"] for r in loader.rows("customers")}
    assert births == {"C000001": date(1945, 12, 31), "C000002": date(1930, 1, 1), "C000004": date(2001, 3, 15)}
    assert quarantined(loader, report)["C000003"] == ["birth_date: after_as_of"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pivot=st.integers(min_value=1900, max_value=2000),
    births=st.lists(st.dates(min_value=date(1890, 1, 1), max_value=date(2030, 12, 31)), min_size=1, max_size=25),
)
def test_no_birth_date_after_the_as_of_date_is_ever_published(
    loader: Loader, tmp_path: Path, pivot: int, births: list[date]
) -> None:
    rows = [{"customer_id": f"C{i:06d}", "branch_id": "BR01", "CSRQ": f"{b:%y%m%d}"} for i, b in enumerate(births, 1)]
    folder = tmp_path / f"p{pivot}-{len(births)}-{hash(tuple(births)) & 0xFFFF}"
    mapping = mapping_file(
        folder.parent, f"columns:\n  birth_date: {{source: CSRQ, format: '%y%m%d', pivot: {pivot}}}\n"
    )
    report = loader(
        "customers",
        factories.write_csv(folder / "KH.csv", rows),
        mapping=read_mapping(mapping),
        max_bad=1.0,
        as_of=AS_OF,
    )
    assert report.rows_in == report.rows_valid + report.rows_quarantined
    if report.status != "published":
        return
    for row in loader.rows("customers"):
        born = row["birth_date"]
        assert born <= AS_OF and pivot <= born.year <= pivot + 99
        assert AS_OF.year - born.year <= 121  # at most 120 years old (a day's slack for the birthday)


def test_a_mistyped_column_points_at_its_mapping_line_with_the_nearest_name(loader: Loader, tmp_path: Path) -> None:
    rows = [{"KHH": "C000001", "JGH": "BR01", "ZJHM": factories.id_number(date(1980, 1, 1))}]
    path = factories.write_csv(tmp_path / "KH.csv", rows)
    text = (
        "table: customers\ncolumns:\n  customer_id: KHH\n  branch_id: JGH\n"
        "  birth_date: {expr: 'id_birth_date(ZJHN)'}\n"
    )
    with pytest.raises(SpecError) as e:
        loader("customers", path, mapping=read_mapping(mapping_file(tmp_path, text)))
    assert "mapping.yaml line 5 (`birth_date`)" in str(e.value) and "did you mean `ZJHM`" in str(e.value)


@pytest.mark.parametrize(
    ("expr", "refused"),
    [
        ("(SELECT max(customer_id) FROM customers)", "is not allowed"),
        ("read_text('/etc/passwd')", "function `read_text` is not allowed"),
        ("getenv('LINGXI_HASH_KEY')", "function `getenv` is not allowed"),
        ("id_birth_date(ZJHM, 1)", "takes 1 argument"),
        ("CASE WHEN", "is not an SQL expression"),
        ("t.ZJHM", "without a table"),
    ],
)
def test_only_safe_expressions_are_accepted(loader: Loader, tmp_path: Path, expr: str, refused: str) -> None:
    rows = [{"customer_id": "C000001", "branch_id": "BR01", "ZJHM": "x"}]
    text = f'columns:\n  birth_date: {{expr: "{expr}"}}\n'
    with pytest.raises(SpecError, match=refused):
        loader(
            "customers",
            factories.write_csv(tmp_path / "c.csv", rows),
            mapping=read_mapping(mapping_file(tmp_path, text)),
        )


def load_accounts(loader: Loader, tmp_path: Path) -> None:
    loader.base(4)
    accounts = [
        {"account_id": "A1", "customer_id": "C000001", "type": "debit_card"},
        {"account_id": "A2", "customer_id": "C000002", "type": "debit_card"},
        {"account_id": "A3", "customer_id": "C000003", "type": "savings"},
    ]
    assert loader("accounts", factories.write_csv(tmp_path / "accounts.csv", accounts)).status == "published"


LEDGER_MAPPING = """\
table: transactions
columns:
  txn_id: LSH
  customer_id: {lookup: {table: accounts, by: {account_id: ZH}, value: customer_id}}
  account_id: ZH
  ts: {source: JYSJ, format: "%y%m%d%H%M%S", pivot: 1950}
  amount: {expr: "abs(TRY_CAST(JE AS DECIMAL(18,2)))"}
  direction: {expr: "CASE WHEN TRY_CAST(JE AS DECIMAL(18,2)) < 0 THEN 'debit' ELSE 'credit' END"}
  channel: {const: counter}
  category: {expr: "CASE WHEN ZY = '工资' AND TRY_CAST(JE AS DECIMAL(18,2)) > 0 THEN 'salary' ELSE 'other' END"}
"""


def test_an_account_keyed_ledger_gets_its_customers_by_lookup(loader: Loader, tmp_path: Path) -> None:
    load_accounts(loader, tmp_path)
    rows = [
        {"LSH": "T1", "ZH": "A1", "JYSJ": "261103091500", "JE": "8500.00", "ZY": "工资"},
        {"LSH": "T2", "ZH": " A2 ", "JYSJ": "261103101500", "JE": "-120.50", "ZY": "消费"},  # padded key
        {"LSH": "T3", "ZH": "A9", "JYSJ": "261103111500", "JE": "10.00", "ZY": "消费"},  # no such account
        {"LSH": "T4", "ZH": "A3", "JYSJ": "261230111500", "JE": "10.00", "ZY": "消费"},  # after the as-of date
        {"LSH": "T5", "ZH": "A3", "JYSJ": "261103111500", "JE": "99999999999", "ZY": "消费"},  # implausible
    ]
    mapping = read_mapping(mapping_file(tmp_path, LEDGER_MAPPING))
    report = loader(
        "transactions",
        factories.write_csv(tmp_path / "LS.txt", rows, delimiter="|"),
        mapping=mapping,
        max_bad=1.0,
        as_of=AS_OF,
    )
    published = {r["txn_id"]: r for r in loader.rows("transactions")}
    assert set(published) == {"T1", "T2"}
    assert (published["T1"]["customer_id"], published["T1"]["category"], published["T1"]["direction"]) == (
        "C000001",
        "salary",
        "credit",
    )
    assert (published["T2"]["customer_id"], str(published["T2"]["amount"]), published["T2"]["direction"]) == (
        "C000002",
        "120.50",
        "debit",
    )
    assert published["T1"]["channel"] == "counter" and published["T1"]["ts"].year == 2026
    problems = quarantined(loader, report)
    assert "customer_id: lookup_not_found" in problems["T3"]
    assert problems["T4"] == ["ts: after_as_of"]
    assert problems["T5"] == ["amount: above_maximum"]


def test_a_key_with_several_rows_is_ambiguous_unless_the_mapping_picks_one(loader: Loader, tmp_path: Path) -> None:
    loader.base(4)
    links = [  # one app user id shared by two customer numbers (an owner and a co-holder)
        {"customer_id": "C000001", "id_type": "app_user_id", "id_value": "U1", "last_seen_at": "2026-11-01 10:00:00"},
        {"customer_id": "C000002", "id_type": "app_user_id", "id_value": "U1", "last_seen_at": "2026-11-20 10:00:00"},
        {"customer_id": "C000003", "id_type": "app_user_id", "id_value": "U3", "last_seen_at": "2026-11-20 10:00:00"},
        {"customer_id": "C000003", "id_type": "wechat_openid", "id_value": "U1", "last_seen_at": "2026-11-25 10:00:00"},
    ]
    assert loader("identities", factories.write_csv(tmp_path / "identities.csv", links)).status == "published"
    events = [
        {"event_id": "e1", "ts": "2026-11-21 09:00:00", "YHID": "U1", "channel": "app", "event_name": "app_launch"},
        {"event_id": "e2", "ts": "2026-11-21 09:00:00", "YHID": "U3", "channel": "app", "event_name": "app_launch"},
    ]
    path = factories.write_csv(tmp_path / "events.csv", events)
    lookup = "{table: identities, by: {id_value: YHID}, value: customer_id, where: \"id_type = 'app_user_id'\""
    ambiguous = mapping_file(tmp_path, f"columns:\n  customer_id: {{lookup: {lookup}}}}}\n", "a.yaml")
    report = loader("events", path, mapping=read_mapping(ambiguous), max_bad=1.0, as_of=AS_OF)
    assert "customer_id: lookup_ambiguous" in quarantined(loader, report)["e1"]
    assert {r["event_id"]: r["customer_id"] for r in loader.rows("events")} == {"e2": "C000003"}

    picked = mapping_file(
        tmp_path, f"columns:\n  customer_id: {{lookup: {lookup}, order: last_seen_at DESC}}}}\n", "b.yaml"
    )
    again = loader("events", path, mapping=read_mapping(picked), max_bad=1.0, as_of=AS_OF)
    assert again.rows_quarantined == 0 or again.rows_valid == 1  # e2 is loaded already; e1 now resolves
    assert {r["event_id"]: r["customer_id"] for r in loader.rows("events")} == {"e1": "C000002", "e2": "C000003"}


def test_a_lookup_in_a_table_not_loaded_says_what_to_load_first(loader: Loader, tmp_path: Path) -> None:
    loader.base(2)
    rows = [{"LSH": "T1", "ZH": "A1", "JYSJ": "261103091500", "JE": "1", "ZY": "x"}]
    with pytest.raises(InputError, match="looked up in `accounts`, which is not loaded yet"):
        loader(
            "transactions",
            factories.write_csv(tmp_path / "t.csv", rows),
            mapping=read_mapping(mapping_file(tmp_path, LEDGER_MAPPING)),
        )


def test_a_lookup_naming_an_unknown_table_or_column_is_refused_before_reading(loader: Loader, tmp_path: Path) -> None:
    text = "columns:\n  customer_id: {lookup: {table: acounts, by: {account_id: ZH}, value: customer_id}}\n"
    rows = [{"txn_id": "T1", "ZH": "A1"}]
    with pytest.raises(SpecError, match="did you mean `accounts`"):
        loader(
            "transactions",
            factories.write_csv(tmp_path / "t.csv", rows),
            mapping=read_mapping(mapping_file(tmp_path, text)),
        )
    text = "columns:\n  customer_id: {lookup: {table: accounts, by: {acount_id: ZH}, value: customer_id}}\n"
    with pytest.raises(SpecError, match="did you mean `account_id`"):
        loader(
            "transactions",
            factories.write_csv(tmp_path / "t.csv", rows),
            mapping=read_mapping(mapping_file(tmp_path, text)),
        )


def test_plausibility_checks_quarantine_what_cannot_be_true(loader: Loader, tmp_path: Path) -> None:
    rows = factories.customers(4)
    rows[0]["birth_date"] = "1890-05-01"  # 136 years old
    rows[1]["birth_date"] = (AS_OF + timedelta(days=1)).isoformat()  # born tomorrow
    rows[2]["onboarded_at"] = "2026-12-03 09:00:00"  # after the as-of day and its tolerance
    rows[3]["onboarded_at"] = "2026-12-02 09:00:00"  # within the tolerance (24 h after the day's end)
    report = loader("customers", factories.write_csv(tmp_path / "c.csv", rows), max_bad=1.0, as_of=AS_OF)
    problems = quarantined(loader, report)
    assert problems == {
        "C000001": ["birth_date: implausible_age"],
        "C000002": ["birth_date: after_as_of"],
        "C000003": ["onboarded_at: after_as_of"],
    }
    assert [r["customer_id"] for r in loader.rows("customers")] == ["C000004"]


DOCUMENTED = (
    "coalesce(a, 'x')", "nullif(a, '')", "greatest(b, 2)", "least(b, 2)", "substr(a, 1, 2)", "trim(a)", "ltrim(a)",
    "rtrim(a)", "upper(a)", "lower(a)", "length(a)", "concat(a, 'x')", "replace(a, 'x', 'y')", "left(a, 1)",
    "right(a, 1)", "lpad(a, 3, '0')", "rpad(a, 3, '0')", "split_part(a, '-', 1)", "starts_with(a, 'x')",
    "contains(a, 'x')", "regexp_extract(a, 'x')", "regexp_replace(a, 'x', 'y')", "regexp_matches(a, 'x')",
    "regexp_full_match(a, 'x')", "abs(b)", "round(b, 1)", "floor(b)", "ceil(b)", "strptime(a, '%Y')",
    "try_strptime(a, '%Y')", "strftime(try_strptime(a, '%Y'), '%Y')", "make_date(2000, 1, 2)", "a IN ('x', 'y')",
    "b BETWEEN 1 AND 2", "a LIKE 'x%'", "CAST(b AS INT)", "TRY_CAST(a AS DECIMAL(18,2))",
    "date_pivot(a, '%y%m%d', 1930)", "id_problem(a)",
)  # fmt: skip


def test_every_function_the_docs_list_runs_in_a_mapping(duck: Any) -> None:
    """docs/loading.md#mapping-expressions lists these; each must parse, bind and run in DuckDB."""
    from lingxi.ingest.derive import _Helpers, bind, parse

    docs = (Path(__file__).parents[2] / "docs" / "loading.md").read_text(encoding="utf-8")
    for text in DOCUMENTED:
        name = text.split("(")[0].strip().lower()
        if "(" in text and name.isidentifier() and name not in ("cast", "try_cast"):
            assert f"`{name}`" in docs or f"`{name}(" in docs, f"{name} is accepted but not documented"
        tree = bind(parse(text), ["a", "b"]).transform(_Helpers().expand)
        duck.con.sql(f"SELECT {tree.sql('duckdb')} FROM (SELECT '2001' AS a, 1.5 AS b)").fetchall()
