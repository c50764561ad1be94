"""The bank data contract (canonical lake tables) as versioned schemas."""

from __future__ import annotations

from lingxi.schema.contract import LOAD_ORDER, TABLES, get_table
from lingxi.schema.types import Column, Partition, Table

__all__ = ["LOAD_ORDER", "TABLES", "Column", "Partition", "Table", "get_table"]
