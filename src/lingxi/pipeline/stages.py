"""Pipeline stages, run in order by `lingxi pipeline run`; each later capability adds its stage here.

A stage takes the pipeline context and returns a one-line summary; a stage that cannot finish raises a
LingxiError, which stops the run (later stages depend on earlier ones): `run_pipeline` raises `StageFailed`,
naming the stage, with the stage's own error chained (its message and hint are kept).

The context holds two engines: `engine`, the analytic engine (`LINGXI_ENGINE`: DuckDB or Spark) that every
analytic stage uses, and `loader`, the DuckDB engine the loader always runs on, beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from lingxi.engine import Engine
from lingxi.errors import DataQualityError, InputError, LingxiError
from lingxi.ingest.load import LoaderEngine, LoadOptions, LoadReport, load
from lingxi.ingest.readers import SUFFIXES
from lingxi.schema import LOAD_ORDER
from lingxi.store import Lake


@dataclass
class PipelineContext:
    """What every stage may use."""

    lake: Lake
    engine: Engine  # the analytic engine (LINGXI_ENGINE)
    loader: LoaderEngine  # DuckDB, for the loader only
    extracts: Path | None = None
    as_of: date = field(default_factory=date.today)
    max_bad: float = 0.01
    hash_key: str = ""
    chunk_rows: int = 1_000_000
    loads: list[LoadReport] = field(default_factory=list)


class StageFailed(LingxiError):
    """A pipeline stage could not finish: names the stage; the stage's own error is `error` (and `__cause__`).

    The message is the stage's error's own message (and hint) after `pipeline stage `<name>` failed:`, so
    every error family reads the same way, whatever its constructor takes.
    """

    def __init__(self, stage: str, error: Exception) -> None:
        self.stage = stage
        self.error = error
        if isinstance(error, LingxiError):
            message = str(error.args[0]) if error.args else type(error).__name__
            hint = error.hint
        else:  # a bug in the stage, not a problem with the data: the traceback is what helps
            message = f"unexpected {type(error).__name__}: {error}"
            hint = "this is a bug: run again with `lingxi --debug pipeline run ...` for the traceback, and report it"
        super().__init__(f"pipeline stage `{stage}` failed: {message}", hint=hint)


@dataclass(frozen=True)
class StageResult:
    name: str
    seconds: float
    summary: str


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    run: Callable[[PipelineContext], str]


def _extract_for(folder: Path, table: str) -> Path | None:
    """`<folder>/<table>/` or `<folder>/<table>.csv|.parquet`, whichever exists."""
    if (folder / table).is_dir():
        return folder / table
    for suffix in SUFFIXES:
        if (folder / f"{table}{suffix}").is_file():
            return folder / f"{table}{suffix}"
    return None


def load_extracts(ctx: PipelineContext) -> str:
    """Load every contract table found in the extracts folder, in reference order."""
    if ctx.extracts is None:
        return "no extracts folder given; skipped"
    if not ctx.extracts.is_dir():
        raise InputError(f"extracts folder `{ctx.extracts}` does not exist", hint="pass --extracts DIR")
    parts = []
    for table in LOAD_ORDER:
        path = _extract_for(ctx.extracts, table)
        if path is None:
            continue
        report = load(
            ctx.lake,
            ctx.loader,
            LoadOptions(
                table=table,
                path=path,
                max_bad=ctx.max_bad,
                as_of=ctx.as_of,
                chunk_rows=ctx.chunk_rows,
                hash_key=ctx.hash_key,
            ),
        )
        ctx.loads.append(report)
        if not report.ok:
            raise DataQualityError(
                f"`{table}` was rejected: {report.bad_share:.1%} of its rows were quarantined",
                hint=f"see {report.quarantine_path}",
            )
        parts.append(f"{table} {report.rows_valid:,}" + (" (unchanged)" if report.status == "unchanged" else ""))
    if not parts:
        raise InputError(
            f"no contract tables in `{ctx.extracts}`",
            hint="expected folders or files named after the tables: " + ", ".join(LOAD_ORDER),
        )
    return "; ".join(parts)


def reapply_corrections(ctx: PipelineContext) -> str:
    """Re-apply recorded corrections to datasets a load replaced, so a re-sent extract cannot undo them."""
    from lingxi.privacy.correction import apply_corrections

    applied = {name: version for name, version in apply_corrections(ctx.lake).items() if version is not None}
    if not applied:
        return "no correction to re-apply"
    return "re-applied to " + ", ".join(f"{name} (version {version})" for name, version in sorted(applied.items()))


def import_consents(ctx: PipelineContext) -> str:
    """Bring consent grants and withdrawals from the lake's `consent_events` into the consent ledger."""
    from lingxi.auth.audit import Who
    from lingxi.privacy.consent import import_lake_consents

    report = import_lake_consents(ctx.lake, ctx.engine, actor=Who("pipeline"), hash_key=ctx.hash_key)
    return (
        f"{report.inserted:,} new consent events, {report.already_present:,} already in the ledger, "
        f"{report.erased_skipped:,} of erased customers skipped"
    )


STAGES: list[Stage] = [
    Stage("load", "load the day's extracts into the lake", load_extracts),
    Stage("corrections", "re-apply customers' corrections to reloaded datasets", reapply_corrections),
    Stage("consent", "import consent history from the lake into the consent ledger", import_consents),
]


def run_pipeline(
    ctx: PipelineContext,
    only: Sequence[str] | None = None,
    on_stage: Callable[[StageResult], None] | None = None,
) -> list[StageResult]:
    """Run the stages in order (or only the named ones); stops at the first failure, naming the stage."""
    known = {s.name for s in STAGES}
    unknown = [n for n in only or [] if n not in known]
    if unknown:
        raise InputError(f"unknown stage(s) {', '.join(unknown)}", hint=f"stages: {', '.join(known)}")
    results = []
    for stage in STAGES:
        if only and stage.name not in only:
            continue
        started = time.perf_counter()
        try:
            summary = stage.run(ctx)
        except Exception as e:
            raise StageFailed(stage.name, e) from e
        result = StageResult(stage.name, time.perf_counter() - started, summary)
        results.append(result)
        if on_stage is not None:
            on_stage(result)
    return results
