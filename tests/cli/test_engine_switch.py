"""LINGXI_ENGINE as an operator meets it: a wrong value fails in one line; the loader says it stays on DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lingxi.cli.main import app

from .. import factories
from ..clirunner import cli_runner


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    return cli_runner(monkeypatch, tmp_path / "data", columns=300)


@pytest.mark.parametrize("command", [["pipeline", "run"], ["status"], ["consent", "import"], ["init"]])
def test_an_unknown_engine_fails_in_one_line_naming_the_allowed_values(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("LINGXI_ENGINE", "nonsense")
    result = cli.invoke(app, command)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "LINGXI_ENGINE" in lines[0] and "nonsense" in lines[0]
    assert "'duckdb'" in lines[0] and "'spark'" in lines[0]


def test_other_invalid_settings_keep_their_message_and_hint(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINGXI_PORT", "eighty")
    result = cli.invoke(app, ["status"])
    assert result.exit_code == 1
    assert "LINGXI_PORT" in result.stderr and "integer" in result.stderr and "hint:" in result.stderr


def test_load_on_spark_says_in_one_line_that_the_loader_runs_on_duckdb(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert cli.invoke(app, ["init"]).exit_code == 0
    monkeypatch.setenv("LINGXI_ENGINE", "spark")
    path = factories.write_csv(tmp_path / "c.csv", factories.customers(10))
    result = cli.invoke(app, ["load", "customers", str(path)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if "DuckDB" in line]
    assert len(notes) == 1 and "loader runs on DuckDB" in notes[0]
    assert "published" in result.stdout
