"""Built-in segment definitions, meant to be copied and edited by a bank.

`DEFAULT_TIERS` are the AUM tiers DESIGN.md gives (CNY): long tail below 50,000; base 50,000–500,000;
wealth 500,000–6,000,000; private from 6,000,000. AUM is deposits plus investment balances on a
snapshot date (`ASSET_TYPES`); loans and card debt are not assets.
"""

from __future__ import annotations

from decimal import Decimal

from lingxi.segments.spec import Tier, TierSpec

#: Product types whose balances count as assets under management.
ASSET_TYPES: tuple[str, ...] = ("deposit", "time_deposit", "wealth", "fund", "insurance", "pension")

DEFAULT_TIERS = TierSpec(
    name="aum_tiers",
    tiers=(
        Tier(code="long_tail", lower=Decimal(0)),
        Tier(code="base", lower=Decimal(50_000)),
        Tier(code="wealth", lower=Decimal(500_000)),
        Tier(code="private", lower=Decimal(6_000_000)),
    ),
)

__all__ = ["ASSET_TYPES", "DEFAULT_TIERS"]
