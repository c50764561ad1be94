"""AUM (assets under management) and AUM tiers, as DESIGN.md defines them.

AUM is deposits plus investment balances on a snapshot date; loans and card debt are not assets. The
tiers are the defaults a bank edits (segments/ will own the editable version):
long tail < 50,000 CNY; base 50,000–500,000; wealth 500,000–6,000,000; private >= 6,000,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

#: Product types whose balances count as assets.
ASSET_TYPES = ("deposit", "time_deposit", "wealth", "fund", "insurance", "pension")


@dataclass(frozen=True)
class Tier:
    code: str
    lower: int  # inclusive, CNY
    upper: int | None  # exclusive; None: no upper bound


TIERS = (
    Tier("long_tail", 0, 50_000),
    Tier("base", 50_000, 500_000),
    Tier("wealth", 500_000, 6_000_000),
    Tier("private", 6_000_000, None),
)


def tier_of(aum: float | Decimal | None) -> str:
    """The tier code for an AUM amount (no holdings counts as 0, the long tail)."""
    value = float(aum or 0)
    for tier in TIERS:
        if tier.upper is None or value < tier.upper:
            return tier.code
    return TIERS[-1].code


def tier_case_sql(column: str) -> str:
    """A DuckDB CASE expression giving the tier code of `column` (an AUM amount)."""
    whens = " ".join(f"WHEN COALESCE({column}, 0) < {t.upper} THEN '{t.code}'" for t in TIERS if t.upper is not None)
    return f"CASE {whens} ELSE '{TIERS[-1].code}' END"


ASSET_TYPES_SQL = "(" + ", ".join(f"'{t}'" for t in ASSET_TYPES) + ")"
