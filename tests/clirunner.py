"""Running the `lingxi` command in-process, on a data directory of the test's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner


def cli_runner(monkeypatch: pytest.MonkeyPatch, data_dir: Path, *, columns: int = 300) -> CliRunner:
    """A CliRunner whose commands use `data_dir`, with no store URL, engine or plug-ins from the environment."""
    monkeypatch.setenv("LINGXI_DATA_DIR", str(data_dir))
    for name in (
        "LINGXI_DATABASE_URL",
        "LINGXI_ENGINE",
        "LINGXI_CAPABILITIES",
        "LINGXI_HASH_KEY",
        "LINGXI_AUDIT_KEY",
        "LINGXI_KEYRING_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", str(columns))  # wide enough that tables are not wrapped
    return CliRunner()
