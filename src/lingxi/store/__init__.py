"""Operational store (SQLAlchemy + Alembic) and the lake's snapshot publishing."""

from __future__ import annotations

from lingxi.store.db import connect, migrate, require_migrated
from lingxi.store.lake import Lake, Snapshot

__all__ = ["Lake", "Snapshot", "connect", "migrate", "require_migrated"]
