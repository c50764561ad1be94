"""The daily pipeline: the stages that turn the day's extracts into everything downstream, in order."""

from __future__ import annotations

from lingxi.capability import Stage, StageContext
from lingxi.pipeline.stages import StageFailed, StageResult, declared_stages, run_pipeline

__all__ = ["StageContext", "Stage", "StageFailed", "StageResult", "declared_stages", "run_pipeline"]
