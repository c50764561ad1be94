"""`lingxi sim` writes the bank, shows its rows per table, and reports bad options with a hint."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from lingxi.cli.sim import register


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test harness standing in for lingxi.cli.main."""

    register(app)
    return app


def test_sim_command_writes_tables_and_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "bank"
    result = CliRunner().invoke(
        _app(),
        [
            "sim",
            "--customers",
            "400",
            "--days",
            "30",
            "--seed",
            "3",
            "--out",
            str(out),
            "--chunk-customers",
            "150",
            "--start-date",
            "2025-03-01",
        ],
    )
    assert result.exit_code == 0, result.output
    for table in ("customers", "transactions", "events", "truth"):
        assert table in result.output
        assert (out / table / "part-00002.parquet").exists()
    assert "customers/s" in result.output


def test_bad_options_raise_a_lingxi_error_with_a_hint(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["sim", "--customers", "10", "--out", str(tmp_path), "--start-date", "March 1st"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error:" in result.output and "YYYY-MM-DD" in result.output  # one readable line with the fix
    result = CliRunner().invoke(_app(), ["sim", "--customers", "0", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "--customers must be at least 1" in result.output
