"""The loader's declaration: every dataset of the bank data contract holds customer rows in the lake."""

from __future__ import annotations

from lingxi.capability import Capability, LakeHolding

CAPABILITY = Capability(
    name="ingest",
    description="Loading bank extracts into the lake: validation, quarantine, publishing snapshots.",
    lake_holdings=(LakeHolding("*contract*"),),
)
