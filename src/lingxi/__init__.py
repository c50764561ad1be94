"""Lingxi (灵犀): customer intelligence and operations for retail banks."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
