"""`lingxi segments`: the tier snapshot's SQL without an engine, a bank's tier file checked, counts per tier."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lingxi.cli.main import app

from ..clirunner import cli_runner
from .test_service import extracts


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    return cli_runner(monkeypatch, tmp_path / "data", columns=200)


def test_compile_prints_spark_sql_for_a_bank_tier_file_without_data(cli: CliRunner, tmp_path: Path) -> None:
    tiers = tmp_path / "tiers.yaml"
    tiers.write_text("name: bank_tiers\ntiers:\n  - {code: mass, lower: 0}\n  - {code: vip, lower: 1000000}\n")
    done = cli.invoke(app, ["segments", "compile", "--dialect", "spark", "--tiers", str(tiers)])
    assert done.exit_code == 0, done.output
    assert "WITH lx_holdings_latest AS" in done.stdout and "'vip'" in done.stdout and "1000000" in done.stdout
    assert "DECIMAL(20, 2)" in done.stdout  # Spark's spelling, rendered by sqlglot


def test_a_bad_tier_file_is_refused_with_every_problem(cli: CliRunner, tmp_path: Path) -> None:
    tiers = tmp_path / "tiers.yaml"
    tiers.write_text("tiers:\n  - {code: Mass, lower: 10}\n  - {code: vip, lower: 5}\n")
    done = cli.invoke(app, ["segments", "compile", "--tiers", str(tiers)])
    assert done.exit_code == 1
    assert "the first tier starts at 0" in done.stderr and "must match" in done.stderr and "above tier 1" in done.stderr
    missing = cli.invoke(app, ["segments", "compile", "--tiers", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1 and "cannot read tier file" in missing.stderr
    dialect = cli.invoke(app, ["segments", "compile", "--dialect", "oracle"])
    assert dialect.exit_code == 1 and "oracle" in dialect.stderr


def test_tiers_shows_the_published_snapshot(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["init"]).exit_code == 0
    assert "no tier snapshot yet" in cli.invoke(app, ["segments", "tiers"]).stdout
    folder = extracts(tmp_path / "x")
    run = cli.invoke(app, ["pipeline", "run", "--extracts", str(folder), "--as-of", "2026-11-01"])
    assert run.exit_code == 0, run.output
    shown = cli.invoke(app, ["segments", "tiers"])
    assert shown.exit_code == 0, shown.output
    assert "as of 2026-11-01" in shown.stdout
    counts = dict(re.findall(r"([a-z_]+)\s*[│|]\s*([\d,]+)\s*[│|]", shown.stdout))
    assert counts == {"long_tail": "4", "base": "1", "wealth": "1", "private": "1", "total": "7"}
