"""The only code that talks to DuckDB or Spark."""

from __future__ import annotations

from lingxi.engine.base import CANONICAL_DIALECT, Engine, Query
from lingxi.engine.factory import create_engine, engine_from, engine_names

__all__ = ["CANONICAL_DIALECT", "Engine", "Query", "create_engine", "engine_from", "engine_names"]
