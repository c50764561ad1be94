"""A failing stage gives the operator one clear line naming the stage, whatever error family it raised."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lingxi.auth.errors import AuthenticationFailed, PermissionDenied, SessionExpired
from lingxi.cli.main import app
from lingxi.errors import (
    ConfigError,
    DataQualityError,
    EngineError,
    InputError,
    NotFound,
    SpecError,
    StoreError,
)
from lingxi.pipeline import StageContext, StageFailed, run_pipeline, stages

from ..clirunner import cli_runner

ERRORS: dict[str, Exception] = {
    "ConfigError": ConfigError("option `--window` must be positive"),
    "SpecError": SpecError("Segment `young_affluent`", ["rule 1: unknown column `avg_balnce_90d`", "rule 3: no"]),
    "EngineError": EngineError("duckdb failed while running tier snapshot:\nSELECT 1\n\nBinder Error"),
    "NotFound": NotFound("dataset `holdings` is not published", hint="load it first"),
    "InputError": InputError("extracts folder `x` does not exist", hint="pass --extracts DIR"),
    "DataQualityError": DataQualityError("`transactions` was rejected: 12.0% quarantined", hint="see q/"),
    "StoreError": StoreError("cannot reach the operational store"),
    "AuthenticationFailed": AuthenticationFailed(),
    "SessionExpired": SessionExpired(),
    "PermissionDenied": PermissionDenied("the pipeline may not send to channel `sms`"),
    "RuntimeError": RuntimeError("division by zero in the tier stage"),
}


def _failing(error: Exception) -> list[stages.Stage]:
    def boom(ctx: StageContext) -> str:
        raise error

    return [stages.Stage("ok", "a stage that works", lambda ctx: "fine"), stages.Stage("boom", "fails", boom)]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    runner = cli_runner(monkeypatch, tmp_path / "data", columns=300)
    assert runner.invoke(app, ["init"]).exit_code == 0
    return runner


@pytest.mark.parametrize("family", ERRORS)
def test_a_failing_stage_gives_one_clear_line(cli: CliRunner, monkeypatch: pytest.MonkeyPatch, family: str) -> None:
    error = ERRORS[family]
    monkeypatch.setattr(stages, "declared_stages", lambda: _failing(error))
    result = cli.invoke(app, ["pipeline", "run"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "TypeError" not in result.output
    lines = result.stderr.splitlines()
    first = str(error.args[0]).splitlines()[0] if error.args else ""
    assert lines[0].startswith("error: pipeline stage `boom` failed: "), lines
    assert first in lines[0], lines
    if family == "RuntimeError":
        assert "unexpected RuntimeError" in lines[0] and lines[1].startswith("  hint: this is a bug")
    hint = getattr(error, "hint", None)
    extra = len(str(error.args[0]).splitlines()) - 1 if error.args else 0
    assert len(lines) == 1 + extra + (1 if hint or family == "RuntimeError" else 0), lines
    assert "✓ ok" in result.stdout  # the stage before it ran and was reported


@pytest.mark.parametrize("family", ERRORS)
def test_the_stage_error_is_chained_unchanged(lake: object, monkeypatch: pytest.MonkeyPatch, family: str) -> None:
    monkeypatch.setattr(stages, "declared_stages", lambda: _failing(ERRORS[family]))
    ctx = StageContext(lake=lake, engine=None, loader=None)  # type: ignore[arg-type]
    with pytest.raises(StageFailed) as info:
        run_pipeline(ctx)
    assert info.value.stage == "boom"
    assert info.value.error is ERRORS[family] and info.value.__cause__ is ERRORS[family]
