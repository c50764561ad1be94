"""The daily pipeline: the stages that turn the day's extracts into everything downstream, in order."""

from __future__ import annotations

from lingxi.pipeline.stages import STAGES, PipelineContext, StageFailed, StageResult, run_pipeline

__all__ = ["STAGES", "PipelineContext", "StageFailed", "StageResult", "run_pipeline"]
