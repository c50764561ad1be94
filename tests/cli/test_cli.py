"""The `lingxi` command as a user runs it: exit codes, one-line errors, the load report, status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lingxi import __version__
from lingxi.cli.main import app

from .. import factories
from ..clirunner import cli_runner


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    return cli_runner(monkeypatch, tmp_path / "data", columns=160)


def run(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.output


def test_version(cli: CliRunner) -> None:
    assert run(cli, "--version") == (0, f"lingxi {__version__}\n")


def test_init_then_load_clean_and_bad_files_then_status(cli: CliRunner, tmp_path: Path) -> None:
    code, out = run(cli, "init")
    assert code == 0 and "ready" in out
    customers = factories.customers(30)
    assert run(cli, "load", "customers", str(factories.write_csv(tmp_path / "c.csv", customers)))[0] == 0
    assert run(cli, "load", "products", str(factories.write_csv(tmp_path / "p.csv", factories.products())))[0] == 0

    rows = factories.transactions(100, [c["customer_id"] for c in customers])
    for i in range(10):
        rows[i]["direction"] = "up"
    code, out = run(cli, "load", "transactions", str(factories.write_csv(tmp_path / "t.csv", rows)))
    assert code == 1
    assert "direction" in out and "not_allowed" in out and "10" in out
    assert "more than --max-bad 1.0%" in out and "nothing was published" in out
    assert "Traceback" not in out

    code, out = run(cli, "load", "transactions", str(tmp_path / "t.csv"), "--max-bad", "0.2")
    assert code == 0 and "published" in out

    code, out = run(cli, "status")
    assert code == 0
    line = next(ln for ln in out.splitlines() if "transactions" in ln)
    cells = [c.strip() for c in line.split("│") if c.strip()]
    assert cells[3:5] == ["90", "10"]  # 90 rows published, 10 quarantined by the load that published them
    assert "10 more rows were quarantined by loads that published nothing" in out  # the rejected load's


def test_quarantine_list_and_show_read_the_rows_back(cli: CliRunner, tmp_path: Path) -> None:
    run(cli, "init")
    customers = factories.customers(30)
    run(cli, "load", "customers", str(factories.write_csv(tmp_path / "c.csv", customers)))
    run(cli, "load", "products", str(factories.write_csv(tmp_path / "p.csv", factories.products())))
    rows = factories.transactions(100, [c["customer_id"] for c in customers])
    for i in range(6):
        rows[i]["direction"] = "VYBER"
    rows[50]["amount"] = "12,5"
    source = [{("FX" if k == "direction" else k): v for k, v in r.items()} for r in rows]
    mapping = tmp_path / "t.yaml"
    mapping.write_text("columns:\n  direction: FX\n", encoding="utf-8")
    extract = factories.write_csv(tmp_path / "t.csv", source)
    code, out = run(cli, "load", "transactions", str(extract), "-m", str(mapping))
    assert code == 1 and "VYBER ×6" in out and "99,9 ×1" in out  # amount is personal: its shape, not `12,5`
    assert "lingxi quarantine show transactions --load" in out

    code, out = run(cli, "quarantine", "list")
    assert code == 0 and "rejected" in out
    code, out = run(cli, "quarantine", "list", "--json")
    assert [(q["status"], q["reasons"]) for q in json.loads(out)] == [
        ("rejected", {"direction: not_allowed": 6, "amount: bad_type": 1})
    ]

    code, out = run(cli, "quarantine", "show", "transactions", "--reason", "not_allowed", "--limit", "2")
    assert code == 0 and "VYBER ×6" in out and "t.csv:1" in out and "t.csv:2" in out and "t.csv:3" not in out

    code, out = run(cli, "quarantine", "show", "transactions", "--reason", "bad_type", "--json")
    shown = json.loads(out)
    assert [(s["row"], s["field"], s["value"]) for s in shown["samples"]] == [(51, "amount", "12,5")]  # raw here
    mapped = {r["field"]: [(m["section"], m["line"], m["text"]) for m in r["mapping"]] for r in shown["reasons"]}
    assert mapped == {"direction": [("columns", 2, "  direction: FX")], "amount": []}
    assert shown["mapping"] == str(mapping.resolve())

    code, out = run(cli, "quarantine", "show", "transactions", "--reason", "not_alowed")
    assert code == 1 and "did you mean `not_allowed`" in out
    code, out = run(cli, "audit", "tail", "--action", "quarantine_read", "--json")
    assert code == 0 and len(out.strip().splitlines()) == 2  # each show that returned rows is audited


def test_errors_are_one_readable_message_unless_debug(cli: CliRunner, tmp_path: Path) -> None:
    code, out = run(cli, "load", "customers", str(tmp_path / "missing.csv"))
    assert code == 1 and "not initialised" in out and "lingxi init" in out and "Traceback" not in out
    run(cli, "init")
    code, out = run(cli, "load", "custmers", str(tmp_path))
    assert code == 1 and "unknown table `custmers`" in out and "customers" in out
    code, out = run(cli, "load", "customers", str(tmp_path / "missing.csv"))
    assert code == 1 and "does not exist" in out
    result = CliRunner().invoke(app, ["--debug", "load", "customers", str(tmp_path / "missing.csv")])
    assert result.exit_code != 0 and result.exception is not None  # --debug lets the exception through


def test_bad_setting_is_named(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINGXI_MAX_BAD_SHARE", "2")
    code, out = run(cli, "status")
    assert code == 1 and "LINGXI_MAX_BAD_SHARE" in out


def test_console_script_runs_in_a_fresh_process(tmp_path: Path) -> None:
    env = {**os.environ, "LINGXI_DATA_DIR": str(tmp_path / "d")}
    exe = Path(sys.executable).with_name("lingxi")
    done = subprocess.run([str(exe), "init"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "d" / "lingxi.db").exists()


def test_unloads_with_other_extensions_load_once_their_format_is_said(cli: CliRunner, tmp_path: Path) -> None:
    data = Path(__file__).resolve().parents[1] / "data" / "unloads"
    run(cli, "init")
    customers = factories.write_csv(tmp_path / "c.csv", factories.customers(4))
    assert run(cli, "load", "customers", str(customers))[0] == 0
    accounts = ["load", "accounts", str(data / "accounts_20261103.dat"), "-m", str(data / "accounts_20261103.yaml")]
    code, out = run(cli, *accounts)
    assert code == 1 and "(.dat)" in out and "--format csv" in out and "Traceback" not in out
    code, out = run(cli, *accounts, "--format", "csv", "--delimiter", "0x1e", "--max-bad", "0.5")
    assert code == 0 and "published" in out and "type" in out and "not_allowed" in out
    code, out = run(cli, *accounts, "--format", "xml")
    assert code == 1 and "--format xml" in out and "csv, fixed or parquet" in out, out

    txns = ["load", "transactions", str(data / "txn_20261103.del"), "-m", str(data / "txn_20261103.yaml")]
    code, out = run(cli, *txns, "--max-bad", "0.6")  # .del: DB2's delimited unload, no --format needed
    assert code == 0 and "category: fallback ×1 (unknown codes: 88 ×1)" in out
