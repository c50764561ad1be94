"""The loader's declaration: its pipeline stages, its audit actions, and the lake datasets it fills.

Every dataset of the bank data contract holds customer rows in the lake. Besides loading, the ingest
capability keeps the lake in shape: compaction of append datasets and pruning of expired versions (the
`compact` stage), rollbacks and period replacements (audited as `lake_rollback` / `lake_replace`).
"""

from __future__ import annotations

from lingxi.capability import Capability, LakeHolding, Stage
from lingxi.ingest.compact import PRUNE_ACTION, compact_stage
from lingxi.ingest.replace import REPLACE_ACTION
from lingxi.ingest.rollback import ROLLBACK_ACTION
from lingxi.ingest.stage import load_extracts

CAPABILITY = Capability(
    name="ingest",
    description="Loading bank extracts into the lake: validation, quarantine, publishing snapshots.",
    stages=(
        Stage("load", "load the day's extracts into the lake", load_extracts),
        Stage(
            "compact",
            "merge the daily files of append datasets per partition; prune versions past retention",
            compact_stage,
            after=("load", "corrections"),
        ),
    ),
    audit_actions=(ROLLBACK_ACTION, REPLACE_ACTION, PRUNE_ACTION),
    lake_holdings=(LakeHolding("*contract*"),),
)
