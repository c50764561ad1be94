"""The batch loader: validation, quarantine, thresholds, idempotency, encodings, mappings."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lingxi.errors import InputError, SpecError
from lingxi.ingest.mapping import Mapping, read_mapping

from .. import factories
from .conftest import Loader


def quarantine(report_path: str | None) -> list[dict[str, object]]:
    assert report_path is not None
    rows: list[dict[str, object]] = []
    for part in sorted(Path(report_path).glob("*.parquet")):
        rows += pq.read_table(part).to_pylist()
    return rows


def test_clean_file_is_published_whole(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    rows = factories.transactions(300, ids)
    report = loader("transactions", factories.write_csv(tmp_path / "t.csv", rows))
    assert report.status == "published" and report.ok
    assert (report.rows_in, report.rows_valid, report.rows_quarantined) == (300, 300, 0)
    loaded = loader.rows("transactions", "SELECT txn_id, amount, txn_month FROM transactions ORDER BY txn_id")
    assert [r["txn_id"] for r in loaded] == sorted(r["txn_id"] for r in rows)
    assert str(loaded[0]["amount"]) == rows[0]["amount"]
    assert {r["txn_month"] for r in loaded} <= {"2026-09", "2026-10", "2026-11"}


def test_ten_percent_bad_rows_are_quarantined_with_each_reason_and_rejected(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    rows = factories.transactions(200, ids)
    injected = {
        0: ("amount", "abc", "amount: bad_type"),
        1: ("amount", "-5.00", "amount: below_minimum"),
        2: ("direction", "sideways", "direction: not_allowed"),
        3: ("customer_id", "C999999", "customer_id: unknown_reference"),
        4: ("ts", "", "ts: missing_required"),
        5: ("txn_id", rows[100]["txn_id"], "key: duplicate_key"),
    }
    bad_ids = set()
    for i in range(20):  # 10% of 200 rows
        column, value, _ = injected[i % 6]
        row = rows[150 + i]
        row[column] = value
        bad_ids.add(row["txn_id"])
    report = loader("transactions", factories.write_csv(tmp_path / "t.csv", rows))
    assert report.status == "rejected" and not report.ok
    assert report.rows_in == 200 == report.rows_valid + report.rows_quarantined
    assert report.rows_quarantined == 20
    expected = {}
    for i in range(20):
        expected[injected[i % 6][2]] = expected.get(injected[i % 6][2], 0) + 1
    assert report.reasons == expected
    kept = quarantine(report.quarantine_path)
    assert len(kept) == 20
    assert {json.loads(str(r["raw"]))["txn_id"] for r in kept} == bad_ids
    assert loader.lake.snapshot("transactions") is None  # nothing published over the threshold


def test_threshold_allows_publishing_the_good_rows(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    rows = factories.transactions(100, ids)
    rows[5]["amount"] = "n/a"
    report = loader("transactions", factories.write_csv(tmp_path / "t.csv", rows), max_bad=0.05)
    assert report.status == "published" and report.rows_valid == 99
    assert len(loader.rows("transactions")) == 99


def test_reloading_the_same_file_changes_nothing(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    path = factories.write_csv(tmp_path / "t.csv", factories.transactions(50, ids))
    first = loader("transactions", path)
    again = loader("transactions", path)
    assert again.status == "unchanged" and again.previous_load == first.load_id
    assert again.version == first.version
    assert len(loader.rows("transactions")) == 50
    # a full extract reloaded is unchanged too, unless it is read with another mapping
    assert loader("customers", tmp_path / "base" / "customers.csv").status == "unchanged"
    mapping = Mapping(values={"gender": {"M": "F"}})
    assert loader("customers", tmp_path / "base" / "customers.csv", mapping=mapping).status == "published"


def test_appending_a_new_day_keeps_the_old_and_flags_overlap(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    day1 = factories.transactions(50, ids, start=1)
    day2 = factories.transactions(50, ids, seed=3, start=51)
    loader("transactions", factories.write_csv(tmp_path / "d1.csv", day1))
    report = loader("transactions", factories.write_csv(tmp_path / "d2.csv", day2 + day1[:2]), max_bad=0.05)
    assert report.status == "published" and report.reasons == {"key: key_already_loaded": 2}
    assert len(loader.rows("transactions")) == 100
    snap = loader.lake.snapshot("transactions")
    assert snap is not None and snap.row_count == 100 and len(snap.paths) == 2


def test_gb18030_file_is_detected_and_chinese_survives(loader: Loader, tmp_path: Path) -> None:
    rows = factories.customers(20)
    rows[0]["name"] = "欧阳𠀾"  # a character outside GBK, only in GB18030
    path = factories.write_csv(tmp_path / "c.csv", rows, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    report = loader("customers", path)
    assert report.status == "published"
    names = {r["customer_id"]: r["name"] for r in loader.rows("customers")}
    assert names["C000001"] == "欧阳𠀾" and names["C000002"] == rows[1]["name"]


def test_mapping_renames_columns_decodes_values_parses_formats_and_hashes(loader: Loader, tmp_path: Path) -> None:
    source = [
        {"KHH": "C1", "JGH": "BR01", "CSRQ": "19800102", "XB": "1", "SJHM": "+86 138-0013-8000", "FXDJ": "3"},
        {"KHH": "C2", "JGH": "BR02", "CSRQ": "19910230", "XB": "2", "SJHM": "13800138000", "FXDJ": "9"},
        {"KHH": "C3", "JGH": "BR02", "CSRQ": "19700101", "XB": "2", "SJHM": "12345", "FXDJ": "1"},
    ]
    mapping_file = tmp_path / "m.yaml"
    mapping_file.write_text(
        "table: customers\n"
        "columns:\n"
        "  customer_id: KHH\n  branch_id: JGH\n"
        "  birth_date: {source: CSRQ, format: '%Y%m%d'}\n"
        "  gender: XB\n  risk_level: FXDJ\n"
        "  phone_hash: {source: SJHM, transform: hash_phone}\n"
        "values:\n  gender: {1: M, 2: F}\n  risk_level: {1: C1, 2: C2, 3: C3, 4: C4, 5: C5}\n",
        encoding="utf-8",
    )
    report = loader(
        "customers", factories.write_csv(tmp_path / "c.csv", source), mapping=read_mapping(mapping_file), max_bad=1.0
    )
    assert report.reasons == {"birth_date: bad_type": 1, "risk_level: not_allowed": 1, "phone_hash: bad_identifier": 1}
    assert report.rows_valid == 1
    (row,) = loader.rows("customers")
    assert row["gender"] == "M" and str(row["birth_date"]) == "1980-01-02" and row["risk_level"] == "C3"
    from lingxi.privacy.identifiers import keyed_hash

    assert row["phone_hash"] == keyed_hash("13800138000", "test-key")
    raws = [json.loads(str(r["raw"])) for r in quarantine(report.quarantine_path)]
    assert all("13800138000" not in json.dumps(r) and "12345" not in json.dumps(r) for r in raws)


def test_bad_mapping_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("columns:\n  custmer_id: KHH\n  gender: {source: XB, format: '%Y'}\nbogus: 1\n")
    with pytest.raises(SpecError) as info:
        read_mapping(path)
    assert "bogus" in str(info.value)
    path.write_text("columns:\n  custmer_id: KHH\n  gender: {source: XB, format: '%Y'}\n")
    from lingxi.schema import get_table

    with pytest.raises(SpecError, match="2 problems") as info:
        read_mapping(path).check(get_table("customers"))
    assert "`custmer_id` is not a column of `customers`" in str(info.value)


def test_missing_required_column_names_it_and_the_fix(loader: Loader, tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "branch_id"} for r in factories.customers(3)]
    with pytest.raises(InputError, match="`branch_id`") as info:
        loader("customers", factories.write_csv(tmp_path / "c.csv", rows))
    assert "--mapping" in str(info.value)


def test_reference_to_a_table_not_loaded_is_refused(loader: Loader, tmp_path: Path) -> None:
    path = factories.write_csv(tmp_path / "t.csv", factories.transactions(5, ["C000001"]))
    with pytest.raises(InputError, match="load `customers` first"):
        loader("transactions", path)
    report = loader("transactions", path, check_references=False)
    assert report.status == "published"


def test_parquet_folder_and_small_chunks_give_the_same_result(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    rows = factories.transactions(120, ids)
    rows[110]["txn_id"] = rows[3]["txn_id"]  # duplicate across chunks
    folder = tmp_path / "parts"
    factories.write_parquet(folder / "a.parquet", rows[:60])
    factories.write_parquet(folder / "b.parquet", rows[60:])
    report = loader("transactions", folder, chunk_rows=7, max_bad=0.05)
    assert report.rows_in == 120 and report.rows_valid == 119
    assert report.reasons == {"key: duplicate_key": 1}
    kept = quarantine(report.quarantine_path)
    assert [(Path(str(r["file"])).name, r["row"]) for r in kept] == [("b.parquet", 51)]  # numbered within its file
    loaded = loader.rows("transactions", "SELECT txn_id, customer_id FROM transactions")
    assert len({r["txn_id"] for r in loaded}) == 119


def test_rows_are_sorted_by_customer_within_each_file(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    loader("transactions", factories.write_csv(tmp_path / "t.csv", factories.transactions(400, ids)))
    snap = loader.lake.snapshot("transactions")
    assert snap is not None
    files = list(snap.paths[0].rglob("*.parquet"))
    assert len(files) >= 2  # one per month partition
    for f in files:
        assert f.parent.name.startswith("txn_month=")
        customers = pq.read_table(f, columns=["customer_id"]).column(0).to_pylist()
        assert customers == sorted(customers)


def test_lake_files_carry_the_contract_schema_and_their_sort_order(loader: Loader, tmp_path: Path) -> None:
    from lingxi.schema import get_table

    ids = loader.base()
    loader("transactions", factories.write_parquet(tmp_path / "t.parquet", factories.transactions(300, ids)))
    snap = loader.lake.snapshot("transactions")
    assert snap is not None
    contract = get_table("transactions").arrow_schema()
    for f in snap.paths[0].rglob("*.parquet"):
        assert pq.read_schema(f).equals(contract, check_metadata=True)
        sorting = pq.ParquetFile(f).metadata.row_group(0).sorting_columns
        assert [contract.names[c.column_index] for c in sorting] == ["customer_id"]
    for name in ("customers", "products"):  # code columns (ENUMs while checked) are plain text in the files
        base = loader.lake.snapshot(name)
        assert base is not None
        for f in base.paths[0].rglob("*.parquet"):
            assert pq.read_schema(f).equals(get_table(name).arrow_schema(), check_metadata=True)
    rows = loader.rows("transactions", "SELECT DISTINCT direction FROM transactions ORDER BY 1")
    assert [r["direction"] for r in rows] == ["credit", "debit"]


def test_lines_with_the_wrong_number_of_fields_are_quarantined_and_counted(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    path = factories.write_csv(tmp_path / "t.csv", factories.transactions(50, ids))
    lines = path.read_text().splitlines()
    lines[10] += ",extra"
    lines[20] = ",".join(lines[20].split(",")[:3])
    path.write_text("\n".join(lines) + "\n")
    report = loader("transactions", path, max_bad=0.1)
    assert report.status == "published"
    assert (report.rows_in, report.rows_valid, report.rows_quarantined) == (50, 48, 2)
    assert report.reasons == {"row: malformed_row": 2}
    kept = quarantine(report.quarantine_path)
    assert sorted(r["row"] for r in kept) == [10, 20]  # data rows, counted from 1 after the header
    assert {json.loads(str(r["raw"]))["line"] for r in kept} == {lines[10], lines[20]}


def test_parquet_with_the_bank_s_own_names_is_mapped_and_bad_rows_are_kept_whole(
    loader: Loader, tmp_path: Path
) -> None:
    ids = loader.base()
    names = {"txn_id": "JYLSH", "customer_id": "KHH", "ts": "JYSJ", "amount": "JYJE", "direction": "JDBZ"}
    rows = [{names.get(k, k): v for k, v in r.items()} for r in factories.transactions(40, ids)]
    rows[7]["JYJE"] = "-1.00"
    rows[9]["JDBZ"] = "sideways"
    mapping = Mapping.model_validate({"columns": {k: v for k, v in names.items()}})
    report = loader("transactions", factories.write_parquet(tmp_path / "t.parquet", rows), mapping=mapping, max_bad=0.1)
    assert (report.rows_in, report.rows_valid, report.rows_quarantined) == (40, 38, 2)
    assert report.reasons == {"amount: below_minimum": 1, "direction: not_allowed": 1}
    kept = sorted(quarantine(report.quarantine_path), key=lambda r: int(str(r["row"])))
    assert [r["row"] for r in kept] == [8, 10]
    assert json.loads(str(kept[0]["raw"]))["amount"] == "-1.00"
    assert json.loads(str(kept[1]["raw"]))["txn_id"] == rows[9]["JYLSH"]
    loaded = loader.rows("transactions", "SELECT txn_id FROM transactions")
    assert len(loaded) == 38 and rows[0]["JYLSH"] in {r["txn_id"] for r in loaded}


def test_events_need_a_customer_or_anonymous_id_and_valid_json(loader: Loader, tmp_path: Path) -> None:
    loader.base()
    rows = [
        {
            "event_id": "e1",
            "ts": "2026-11-01 10:00:00",
            "customer_id": "C000001",
            "channel": "app",
            "event_name": "app_open",
            "properties": '{"a": 1}',
        },
        {
            "event_id": "e2",
            "ts": "2026-11-01 10:00:01",
            "anonymous_id": "anon-1",
            "channel": "app",
            "event_name": "page_view",
            "properties": "{broken",
        },
        {"event_id": "e3", "ts": "2026-11-01 10:00:02", "channel": "wechat", "event_name": "Bad-Name"},
    ]
    report = loader("events", factories.write_csv(tmp_path / "e.csv", rows), max_bad=1.0)
    assert report.rows_valid == 1
    assert report.reasons == {
        "properties: bad_json": 1,
        "customer_id|anonymous_id: missing_identity": 1,
        "event_name: bad_format": 1,
    }
    snap = loader.lake.snapshot("events")
    assert snap is not None
    assert {f.parent.name for f in snap.paths[0].rglob("*.parquet")} == {"event_date=2026-11-01"}

    # an extract without the anonymous_id column at all: only customer_id can identify
    more = [
        {"event_id": "e4", "ts": "2026-11-02 09:00:00", "customer_id": "C000002", "channel": "app", "event_name": "a"},
        {"event_id": "e5", "ts": "2026-11-02 09:00:01", "customer_id": "", "channel": "app", "event_name": "b"},
    ]
    report = loader("events", factories.write_csv(tmp_path / "e2.csv", more), max_bad=1.0)
    assert report.rows_valid == 1 and report.reasons == {"customer_id|anonymous_id: missing_identity": 1}


def test_progress_is_reported_in_bytes_up_to_the_whole_input(loader: Loader, tmp_path: Path) -> None:
    from lingxi.ingest.load import LoadOptions, load

    ids = loader.base()
    path = factories.write_csv(tmp_path / "t.csv", factories.transactions(3000, ids))
    seen: list[tuple[int, int]] = []
    options = LoadOptions(table="transactions", path=path, chunk_rows=500, hash_key="k")
    load(loader.lake, loader.engine, options, on_progress=lambda done, total: seen.append((done, total)))
    assert seen and all(total == path.stat().st_size for _, total in seen)
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == path.stat().st_size


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_resent_extract_cannot_bring_back_an_erased_customer(loader: Loader, tmp_path: Path, fmt: str) -> None:
    from lingxi.auth.audit import Who
    from lingxi.privacy.dsr import erase_customer

    write = factories.write_csv if fmt == "csv" else factories.write_parquet
    ids = loader.base()
    txns = factories.transactions(80, ids)
    loader("transactions", write(tmp_path / f"t.{fmt}", txns))
    gone = txns[0]["customer_id"]
    erase_customer(loader.lake, loader.engine, gone, actor=Who("cli:test"), hash_key="test-key")
    assert gone not in {r["customer_id"] for r in loader.rows("customers")}

    report = loader("customers", tmp_path / "base" / "customers.csv")  # the bank re-sends its full extract
    assert report.status == "published" and report.rows_erased == 1 and report.rows_quarantined == 0
    assert report.rows_in == report.rows_valid + report.rows_quarantined + report.rows_erased
    assert gone not in {r["customer_id"] for r in loader.rows("customers")}
    txns[1]["customer_id"] = f"  {gone} "  # padded as fixed-width exports are: still the same customer
    again = loader("transactions", write(tmp_path / f"t2.{fmt}", txns), max_bad=1.0)
    assert again.rows_erased == sum(t["customer_id"].strip() == gone for t in txns)
    assert again.status == "empty" and again.rows_valid == 0  # the rest were loaded already
    assert gone not in {r["customer_id"] for r in loader.rows("transactions")}
    for part in Path(loader.lake.root, "_quarantine").rglob("*.parquet"):
        assert gone not in json.dumps(pq.read_table(part).to_pylist(), default=str)


def test_padded_text_from_fixed_width_exports_is_trimmed(loader: Loader, tmp_path: Path) -> None:
    rows = factories.customers(3)
    rows[0] |= {"customer_id": "  C000001 ", "risk_level": " C3", "gender": "F  ", "branch_id": "   "}
    rows[1] |= {"city_tier": " 2 ", "name": " 王芳 "}
    rows[2] |= {"risk_level": " C3", "gender": "F  "}
    report = loader("customers", factories.write_csv(tmp_path / "c.csv", rows), max_bad=0.5)
    assert report.reasons == {"branch_id: missing_required": 1}  # blank after trimming is missing
    (second, third) = loader.rows(
        "customers", "SELECT customer_id, city_tier, name, risk_level, gender FROM customers ORDER BY 1"
    )
    assert second["customer_id"] == "C000002" and second["city_tier"] == 2 and second["name"] == "王芳"
    assert (third["customer_id"], third["risk_level"], third["gender"]) == ("C000003", "C3", "F")


@pytest.mark.parametrize("chunk_rows", [7, 1_000_000])
def test_a_key_repeated_after_a_quarantined_row_is_a_duplicate_at_any_chunk_size(
    loader: Loader, tmp_path: Path, chunk_rows: int
) -> None:
    ids = loader.base()
    rows = factories.transactions(60, ids)
    rows[5]["amount"] = "abc"  # quarantined for its amount...
    rows[40]["txn_id"] = rows[5]["txn_id"]  # ...and its key still counts as seen, in the same chunk or a later one
    path = factories.write_parquet(tmp_path / "t.parquet", rows)  # Parquet: cut at chunk_rows
    report = loader("transactions", path, chunk_rows=chunk_rows, max_bad=0.05)
    assert report.reasons == {"amount: bad_type": 1, "key: duplicate_key": 1}
    assert [r["row"] for r in quarantine(report.quarantine_path)] == [6, 41]


def test_keys_seen_earlier_are_found_when_keys_fall_through_the_file(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    rows = list(reversed(factories.transactions(40, ids)))  # keys fall: every chunk lies below the ones before
    rows[30]["txn_id"] = rows[2]["txn_id"]
    rows[35]["txn_id"] = rows[1]["txn_id"]
    report = loader("transactions", factories.write_parquet(tmp_path / "t.parquet", rows), chunk_rows=5, max_bad=0.1)
    assert report.reasons == {"key: duplicate_key": 2}
    assert [r["row"] for r in quarantine(report.quarantine_path)] == [31, 36]


def test_composite_keys_with_a_date_and_a_code_are_checked_whole(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    day = [
        {"snapshot_date": "2026-11-30", "customer_id": c, "product_id": p, "balance": "100.00"}
        for c in ids[:10]
        for p in ("P001", "P002")
    ]
    loader("holdings", factories.write_csv(tmp_path / "h1.csv", day))
    next_day = [{**r, "snapshot_date": "2026-12-01"} for r in day]
    report = loader("holdings", factories.write_csv(tmp_path / "h2.csv", next_day + day[:3]), max_bad=0.2)
    assert report.reasons == {"key: key_already_loaded": 3} and report.rows_valid == 20

    identities = [
        {"customer_id": ids[0], "id_type": "app_user_id", "id_value": "u1"},
        {"customer_id": ids[0], "id_type": "device_id", "id_value": "u1"},  # same value, another type: new key
        {"customer_id": ids[0], "id_type": "app_user_id", "id_value": "u1"},
    ]
    path = factories.write_parquet(tmp_path / "i.parquet", identities)
    report = loader("identities", path, chunk_rows=1, max_bad=0.5)  # one row per chunk: found among earlier keys
    assert report.reasons == {"key: duplicate_key": 1}
    assert [r["row"] for r in quarantine(report.quarantine_path)] == [3]


def test_dates_beyond_pythons_range_in_a_key_do_not_stop_later_loads(loader: Loader, tmp_path: Path) -> None:
    """DuckDB reads `infinity` and year-10000 dates; the key ranges never leave DuckDB, so they compare."""
    ids = loader.base()
    rows = [
        {"snapshot_date": day, "customer_id": ids[0], "product_id": "P001", "balance": "1.00"}
        for day in ("infinity", "2026-11-30")
    ]
    assert loader("holdings", factories.write_csv(tmp_path / "h1.csv", rows), max_bad=0.6).ok
    again = [{**rows[1], "customer_id": ids[1]}, rows[1]]
    report = loader("holdings", factories.write_csv(tmp_path / "h2.csv", again), max_bad=0.6)
    assert report.status == "published" and report.reasons == {"key: key_already_loaded": 1}


def test_code_columns_stored_as_binary_read_as_their_text(loader: Loader, tmp_path: Path) -> None:
    """Hive and Sqoop often write strings as Parquet BINARY without the UTF8 annotation."""
    ids = loader.base()
    table = pa.Table.from_pylist(factories.transactions(20, ids))
    for name in ("direction", "channel"):
        table = table.set_column(table.column_names.index(name), name, table.column(name).cast(pa.binary()))
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    report = loader("transactions", path)
    assert report.status == "published" and report.rows_valid == 20, report.reasons


@pytest.mark.parametrize("chunk_rows", [1, 1_000_000])
def test_a_loaded_key_sent_twice_is_one_problem_per_row_at_any_chunk_size(
    loader: Loader, tmp_path: Path, chunk_rows: int
) -> None:
    ids = loader.base()
    day1 = factories.transactions(10, ids)
    loader("transactions", factories.write_parquet(tmp_path / "d1.parquet", day1))
    day2 = [*factories.transactions(5, ids, seed=3, start=100), day1[3], day1[3]]
    path = factories.write_parquet(tmp_path / "d2.parquet", day2)
    report = loader("transactions", path, chunk_rows=chunk_rows, max_bad=0.5)
    assert report.reasons == {"key: key_already_loaded": 2}
