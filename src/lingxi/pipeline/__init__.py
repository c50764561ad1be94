"""The daily pipeline: the stages that turn the day's extracts into everything downstream, in order."""

from __future__ import annotations

from lingxi.capability import Stage
from lingxi.pipeline.stages import PipelineContext, StageFailed, StageResult, declared_stages, run_pipeline

__all__ = ["PipelineContext", "Stage", "StageFailed", "StageResult", "declared_stages", "run_pipeline"]
