"""Real unloads loaded with mapping files alone: the hand-written samples in tests/data/unloads/.

Each test asserts every row's outcome: the value published, or the reason it was quarantined.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lingxi.errors import DataQualityError, InputError
from lingxi.ingest.load import LoadReport
from lingxi.ingest.mapping import Mapping, read_mapping
from lingxi.privacy.identifiers import keyed_hash
from lingxi.store.db import session_factory
from lingxi.store.tables import Load as LoadRow

from .. import factories
from .conftest import Loader

DATA = Path(__file__).resolve().parents[1] / "data" / "unloads"


def mapping(name: str) -> Mapping:
    return read_mapping(DATA / f"{name}.yaml")


def outcomes(loader: Loader, report: LoadReport, table: str, key: str) -> dict[str, object]:
    """Each input row's key -> its published row, or the problems it was quarantined with."""
    result: dict[str, object] = {str(r[key]): r for r in loader.rows(table)} if report.rows_valid else {}
    assert report.quarantine_path is not None or not report.rows_quarantined
    for part in sorted(Path(report.quarantine_path or "/nonexistent").glob("*.parquet")):
        for row in pq.read_table(part).to_pylist():
            raw = json.loads(str(row["raw"]))
            label = raw.get(key) or f"line {row['row']}"
            result[str(label)] = row["problems"]
    return result


def copy(tmp_path: Path, *names: str) -> Path:
    for name in names:
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path / names[0]


def test_headerless_db2_del_unload(loader: Loader) -> None:
    ids = loader.base(4)
    report = loader("transactions", DATA / "txn_20261103.del", mapping=mapping("txn_20261103"), max_bad=1.0)
    assert report.status == "published" and (report.rows_in, report.rows_valid) == (10, 5)
    found = outcomes(loader, report, "transactions", "txn_id")

    def published(txn: str) -> tuple[object, ...]:
        row = found[txn]
        assert isinstance(row, dict), row
        return row["customer_id"], str(row["ts"]), row["amount"], row["direction"], row["channel"], row["category"]

    assert published("T0001") == (ids[0], "2026-11-02 09:15:00", Decimal("1234.50"), "debit", "app", "consumption")
    assert published("T0002") == (ids[1], "2026-11-02 10:30:00", Decimal("88.00"), "credit", "counter", "salary")
    assert published("T0004")[4] is None  # channel code 99 maps to null
    assert published("T0006")[5] == "other"  # unknown category 88: the declared fallback
    assert published("T0010")[2:5] == (Decimal("1.00"), "debit", "wechat")
    assert found["T0003"] == "amount: below_minimum"  # -00000012.30
    assert found["T0005"] == "channel: not_allowed"  # unknown channel 07: quarantined
    assert found["T0007"] == "amount: bad_type"  # +0000001X.00
    assert found["T0008"] == "ts: bad_type"  # 2026-11-31
    assert found["line 9"] == "row: malformed_row (expected 7 fields, found 8)"
    assert report.fallbacks == {"category": {"88": 1}}


def test_gb18030_pipe_separated_dat_with_chinese_codes_and_id_numbers(loader: Loader) -> None:
    report = loader("customers", DATA / "customers_20261103.dat", mapping=mapping("customers_20261103"), max_bad=1.0)
    found = outcomes(loader, report, "customers", "customer_id")
    assert set(found) == {f"C00000{i}" for i in range(1, 7)}
    first, second, fourth = (found[c] for c in ("C000001", "C000002", "C000004"))
    assert isinstance(first, dict) and isinstance(second, dict) and isinstance(fourth, dict)
    assert (first["name"], first["gender"], first["risk_level"], first["city"]) == ("欧阳𠀾", "M", "C2", "北京")
    assert str(first["birth_date"]) == "1949-12-31"
    # a lower-case check letter and a 15-digit legacy number hash as their 18-character upper-case form
    assert first["id_no_hash"] == keyed_hash("11010519491231002X", "test-key")
    assert second["id_no_hash"] == keyed_hash("440305197506070033", "test-key")
    assert (second["gender"], second["risk_level"]) == ("F", "C1")
    assert (fourth["gender"], fourth["id_no_hash"], fourth["risk_level"]) == ("U", None, "C5")
    assert found["C000003"] == "id_no_hash: bad_identifier"  # check digit 1 where 5 is due
    assert found["C000005"] == "risk_level: not_allowed"  # 九级
    assert found["C000006"] == "branch_id: missing_required"
    assert report.quarantine_path is not None
    kept = json.dumps(pq.read_table(report.quarantine_path).to_pylist(), ensure_ascii=False)
    assert "李娜" in kept and "110105199003150021" not in kept and "110105196609090019" not in kept  # redacted


def test_0x1e_separated_dat_with_a_control_file_and_a_done_flag(loader: Loader) -> None:
    ids = loader.base(4)
    path = DATA / "accounts_20261103.dat"
    report = loader("accounts", path, mapping=mapping("accounts_20261103"), format="csv", max_bad=1.0)
    found = outcomes(loader, report, "accounts", "account_id")
    published = {
        k: (v["customer_id"], v["type"], v["currency"], v["status"]) for k, v in found.items() if isinstance(v, dict)
    }
    assert published == {
        "A0001": (ids[0], "current", "CNY", "active"),
        "A0002": (ids[0], "savings", "USD", "active"),
        "A0003": (ids[1], "current", "CNY", "dormant"),
    }
    assert found["A0004"] == "type: not_allowed"  # type code 9
    assert found["A0005"] == "currency: bad_format"  # `HK"`: unquoted, the quote is data


def test_an_extension_without_a_format_is_refused_with_the_fix(loader: Loader, tmp_path: Path) -> None:
    loader.base(4)
    with pytest.raises(InputError, match=r"by its extension \(\.dat\)") as info:
        loader("accounts", DATA / "accounts_20261103.dat", mapping=mapping("accounts_20261103"))
    assert "--format csv" in str(info.value) and "file: {format: ...}" in str(info.value)
    # the same bytes named .asc load once the mapping says they are delimited
    path = copy(tmp_path, "accounts_20261103.dat", "accounts_20261103.ctl", "accounts_20261103.dat.done")
    asc = path.rename(tmp_path / "accounts_20261103.asc")
    (tmp_path / "accounts_20261103.dat.done").rename(tmp_path / "accounts_20261103.asc.done")
    said = mapping("accounts_20261103").model_copy(
        update={"file": mapping("accounts_20261103").file.model_copy(update={"format": "csv"})}
    )
    assert loader("accounts", asc, mapping=said, max_bad=1.0).rows_valid == 3


def test_a_missing_done_flag_is_awaited_then_fails_clearly(loader: Loader, tmp_path: Path) -> None:
    loader.base(4)
    path = copy(tmp_path, "accounts_20261103.dat", "accounts_20261103.ctl")
    options = {"mapping": mapping("accounts_20261103"), "format": "csv", "max_bad": 1.0}
    started = time.monotonic()
    with pytest.raises(InputError, match=r"done flag `.*accounts_20261103\.dat\.done` is not there \(waited 1 s\)"):
        loader("accounts", path, **options)
    assert time.monotonic() - started >= 1.0
    assert loader.lake.snapshot("accounts") is None

    flag = tmp_path / "accounts_20261103.dat.done"
    writer = threading.Timer(0.3, flag.touch)  # the sender finishes while the load waits
    writer.start()
    try:
        report = loader("accounts", path, **options)
    finally:
        writer.join()
    assert report.status == "published" and report.rows_valid == 3


def test_a_control_file_that_disagrees_refuses_the_load(loader: Loader, tmp_path: Path) -> None:
    loader.base(4)
    path = copy(tmp_path, "accounts_20261103.dat", "accounts_20261103.ctl", "accounts_20261103.dat.done")
    (tmp_path / "accounts_20261103.ctl").write_text("FILE=accounts_20261103.dat\nRECORDS=6\n")
    with pytest.raises(DataQualityError, match="nothing was published") as info:
        loader("accounts", path, mapping=mapping("accounts_20261103"), format="csv", max_bad=1.0)
    message = str(info.value)
    assert "`accounts_20261103.dat` against its control file `accounts_20261103.ctl`" in message
    assert "records: expected 6, found 5" in message
    assert loader.lake.snapshot("accounts") is None
    with session_factory(loader.lake.store)() as session:
        (row,) = session.query(LoadRow).filter_by(dataset="accounts").all()
        assert row.status == "failed" and "expected 6, found 5" in str(row.message)

    (tmp_path / "accounts_20261103.ctl").unlink()
    with pytest.raises(InputError, match="control file `.*accounts_20261103.ctl` of .* cannot be read"):
        loader("accounts", path, mapping=mapping("accounts_20261103"), format="csv", max_bad=1.0)


def test_fixed_width_gb18030_with_implied_decimals_and_a_trailer(loader: Loader) -> None:
    report = loader("products", DATA / "products_20261103.asc", mapping=mapping("products_20261103"), max_bad=1.0)
    assert (report.rows_in, report.rows_valid, report.rows_quarantined) == (7, 4, 3)
    found = outcomes(loader, report, "products", "product_id")
    published = {
        k: (v["name"], v["type"], v["risk_level"], v["min_amount"], v["term_days"], v["currency"])
        for k, v in found.items()
        if isinstance(v, dict)
    }
    assert published == {
        "WM260001": ("稳健理财90天", "wealth", "R2", Decimal("10000.00"), 90, "CNY"),
        "FD260002": ("成长混合基金", "fund", "R4", Decimal("1000.00"), 0, "CNY"),
        "DP260003": ("活期存款", "deposit", "R1", Decimal("0.00"), 0, "CNY"),
        "TD260006": ("三年定期", "time_deposit", "R1", Decimal("500.00"), 1095, "USD"),
    }
    assert found["IN260004"] == "min_amount: below_minimum"  # 0000500000- is -5000.00
    assert found["WM260005"] == "type: not_allowed"  # 99; its 4-byte character kept the columns in place
    assert found["line 7"] == "row: malformed_row (expected 47 bytes, found 14)"


def test_a_trailer_that_disagrees_refuses_the_load_and_keeps_the_snapshot(loader: Loader, tmp_path: Path) -> None:
    good = loader("products", DATA / "products_20261103.asc", mapping=mapping("products_20261103"), max_bad=1.0)
    lines = (DATA / "products_20261103.asc").read_bytes().split(b"\n")
    path = tmp_path / "products_20261104.asc"
    path.write_bytes(b"\n".join(line for line in lines if not line.startswith(b"WM260005")))  # a record lost
    with pytest.raises(DataQualityError) as info:
        loader("products", path, mapping=mapping("products_20261103"), max_bad=1.0)
    assert "`products_20261104.asc` against its trailer record: records: expected 7, found 6; " in str(info.value)
    assert "`min_amount` total: expected 7000.00, found 6500.00" in str(info.value)
    snapshot = loader.lake.snapshot("products")
    assert snapshot is not None and snapshot.version == good.version

    path.write_bytes(b"\n".join(lines[:-2]) + b"\n")  # cut short: no trailer at all
    with pytest.raises(InputError, match="the last line of .* is not a trailer record matching") as cut:
        loader("products", path, mapping=mapping("products_20261103"), max_bad=1.0)
    assert "ask the sender" in str(cut.value)


def test_fixed_width_positions_count_bytes_and_a_field_cutting_a_character_is_named(
    loader: Loader, tmp_path: Path
) -> None:
    path = tmp_path / "p.txt"
    path.write_bytes("P1王芳  fund  R1\nP2李    wealthR2\n".encode("gb18030"))  # 16 bytes each
    layout = {"format": "fixed", "encoding": "gb18030", "positions": {"ID": [1, 2], "NM": [3, 8], "TY": [9, 14]}}
    layout["positions"]["RK"] = [15, 16]
    columns = {"product_id": "ID", "name": "NM", "type": "TY", "risk_level": "RK"}
    report = loader("products", path, mapping=Mapping.model_validate({"file": layout, "columns": columns}))
    assert report.status == "published" and report.rows_valid == 2
    names = loader.rows("products", "SELECT product_id, name, type FROM products ORDER BY 1")
    assert [(r["product_id"], r["name"], r["type"]) for r in names] == [("P1", "王芳", "fund"), ("P2", "李", "wealth")]

    cutting = {**layout, "positions": {**layout["positions"], "NM": [3, 5]}}  # half of 芳
    with pytest.raises(InputError, match=r"field `NM` \(bytes 3-5\) on line 1 of .* not valid gb18030") as info:
        loader("products", path, mapping=Mapping.model_validate({"file": cutting, "columns": columns}))
    assert "count bytes" in str(info.value)


def test_short_fixed_width_lines_are_malformed_unless_padding_is_declared(loader: Loader, tmp_path: Path) -> None:
    path = tmp_path / "p.dat"
    path.write_bytes(b"P1fund    R1Y\nP2wealth  R2\n")  # the second line lost its trailing blank
    spec = {"format": "fixed", "widths": {"ID": 2, "TYPE": 8, "RISK": 2, "NM": 1}}
    columns = {"product_id": "ID", "type": "TYPE", "risk_level": "RISK", "name": "NM"}
    report = loader("products", path, mapping=Mapping.model_validate({"file": spec, "columns": columns}), max_bad=1.0)
    assert report.rows_valid == 1 and report.reasons == {"row: malformed_row": 1}
    padded = Mapping.model_validate({"file": {**spec, "short_lines": "pad"}, "columns": columns})
    report = loader("products", path, mapping=padded, max_bad=1.0)
    assert report.rows_valid == 1 and report.reasons == {"name: missing_required": 1}


def test_a_headerless_file_must_name_every_field(loader: Loader) -> None:
    loader.base(4)
    spec = mapping("txn_20261103")
    names = [*(spec.file.columns or []), "BZ"]  # one more than the file has
    more = spec.model_copy(update={"file": spec.file.model_copy(update={"columns": names})})
    with pytest.raises(InputError, match=r"has 7 fields, but the mapping names 8 \(file.columns: JYLSH, .*, BZ\)"):
        loader("transactions", DATA / "txn_20261103.del", mapping=more)


def test_parquet_extracts_get_fallbacks_and_control_figures_too(loader: Loader, tmp_path: Path) -> None:
    ids = loader.base()
    rows = factories.transactions(30, ids)
    for row in rows[:4]:
        row["category"] = "bonus"
    path = factories.write_parquet(tmp_path / "t.parquet", rows)
    (tmp_path / "t.ctl").write_text(f"30|{sum(Decimal(r['amount']) for r in rows)}\n")
    spec = {
        "unknown": {"category": {"fallback": "other"}},
        "control": {"file": "{stem}.ctl", "count_field": 1, "sum_field": 2, "sum_of": "amount"},
    }
    report = loader("transactions", path, mapping=Mapping.model_validate(spec))
    assert report.status == "published" and report.fallbacks == {"category": {"bonus": 4}}
    categories = loader.rows("transactions", "SELECT category, count(*) AS n FROM transactions GROUP BY 1")
    assert {r["category"]: r["n"] for r in categories}["other"] >= 4


def test_mapping_mistakes_in_the_new_sections_are_listed_at_once() -> None:
    from lingxi.errors import SpecError
    from lingxi.schema import get_table

    spec = Mapping.model_validate(
        {
            "file": {"header": False, "columns": ["JYLSH", "KHH"], "widths": {"A": 1}},
            "columns": {"txn_id": "JYLSH", "customer_id": "KHHH"},
            "unknown": {"channel": {"fallback": "other"}, "customer_id": "quarantine"},
            "values": {"direction": {"D": "debet"}},
            "control": {"trailer": "^T", "sum_field": 3},
        }
    )
    with pytest.raises(SpecError) as info:
        spec.check(get_table("transactions"))
    problems = info.value.problems
    assert "`customer_id`: `KHHH` is not a field of the file; did you mean `KHH`?" in problems
    assert (
        "unknown.channel: fallback `other` is not one of counter, atm, app, web, wechat, pos, third_party, batch"
        in (problems)
    )
    assert "unknown.customer_id: `customer_id` has no list of allowed codes in the contract" in problems
    assert "values.direction: debet not among credit, debit" in problems
    assert "control: name the column the total adds up with `sum_of`" in problems
    assert "file.widths and file.positions describe a fixed-width file: add `format: fixed`" in problems
