"""The segments capability's declaration: the daily AUM tier snapshot, and the customer data it holds."""

from __future__ import annotations

from lingxi.capability import Capability, LakeHolding, Served, Stage
from lingxi.schema.fx import RATES
from lingxi.segments.service import SOURCES, TIER_DATASET, tier_stage

CAPABILITY = Capability(
    name="segments",
    description="Groups of customers; so far the AUM tiers, as a dated snapshot in the lake.",
    stages=(
        Stage(
            "tiers",
            "compute every customer's AUM tier as a dated snapshot in the lake",
            tier_stage,
            after=("load",),
            reads=(*SOURCES, RATES),  # a rollback of the rates makes the tiers stale too
            writes=(TIER_DATASET,),
        ),
    ),
    lake_holdings=(LakeHolding(TIER_DATASET),),
    served=(Served(TIER_DATASET),),  # the 360 reads one customer's tier
)
