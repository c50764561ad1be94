"""The loader's declaration: every dataset of the bank data contract holds customer rows in the lake."""

from __future__ import annotations

from lingxi.capability import Capability, LakeHolding, Stage
from lingxi.ingest.stage import load_extracts

CAPABILITY = Capability(
    name="ingest",
    description="Loading bank extracts into the lake: validation, quarantine, publishing snapshots.",
    stages=(Stage("load", "load the day's extracts into the lake", load_extracts),),
    lake_holdings=(LakeHolding("*contract*"),),
)
