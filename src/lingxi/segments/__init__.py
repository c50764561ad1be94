"""Segments: who is in which group of customers. The first group is the AUM tier.

`spec.py` holds the definitions a bank writes (`TierSpec`), `library.py` the built-in ones
(`DEFAULT_TIERS`, `ASSET_TYPES`), and `compile.py` turns them into sqlglot trees any engine runs.
"""

from __future__ import annotations

from lingxi.segments.compile import aum_per_customer, compile_tier_snapshot, tier_case, tier_of
from lingxi.segments.library import ASSET_TYPES, DEFAULT_TIERS
from lingxi.segments.spec import Tier, TierSpec

__all__ = [
    "ASSET_TYPES",
    "DEFAULT_TIERS",
    "Tier",
    "TierSpec",
    "aum_per_customer",
    "compile_tier_snapshot",
    "tier_case",
    "tier_of",
]
