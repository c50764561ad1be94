"""The daily pipeline: every capability's declared stages, run in order by `lingxi pipeline run`.

Stages are declared, not listed here: each capability names its stages and the stages they follow in its
`capability.py` (lingxi.capability.Stage), and the registry orders them. A stage takes the pipeline
context and returns a one-line summary; a stage that cannot finish raises, which stops the run (later
stages depend on earlier ones): `run_pipeline` raises `StageFailed`, naming the stage, with the stage's
own error chained (its message and hint are kept).

The context holds two engines: `engine`, the analytic engine (`LINGXI_ENGINE`: DuckDB or Spark) that every
analytic stage uses, and `loader`, the DuckDB engine the loader always runs on, beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lingxi import registry
from lingxi.capability import Stage, StageContext
from lingxi.errors import InputError, LingxiError


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


def declared_stages() -> list[Stage]:
    """Every capability's stages, each after the ones it names (lingxi.registry.stages)."""
    return registry.stages()


def run_pipeline(
    ctx: StageContext,
    only: Sequence[str] | None = None,
    on_stage: Callable[[StageResult], None] | None = None,
) -> list[StageResult]:
    """Run the stages in order (or only the named ones); stops at the first failure, naming the stage."""
    stages = declared_stages()
    known = [s.name for s in stages]
    unknown = [n for n in only or [] if n not in known]
    if unknown:
        raise InputError(f"unknown stage(s) {', '.join(unknown)}", hint=f"stages: {', '.join(known)}")
    results = []
    for stage in stages:
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
