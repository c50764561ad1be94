"""The `lingxi` command as a user runs it: exit codes, one-line errors, the load report, status."""

from __future__ import annotations

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
    assert "90" in line and "20" in line  # 90 rows published; 10 + 10 quarantined over two loads


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
