"""The only code that talks to DuckDB or Spark."""

from __future__ import annotations

from lingxi.engine.base import CANONICAL_DIALECT, Engine
from lingxi.engine.factory import create_engine

__all__ = ["CANONICAL_DIALECT", "Engine", "create_engine"]
