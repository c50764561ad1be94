"""The loader's declaration: its pipeline stages, its audit actions, the lake datasets it fills, its pages.

Every dataset of the bank data contract holds customer rows in the lake. Besides loading, the ingest
capability keeps the lake in shape: compaction of append datasets and pruning of expired versions (the
`compact` stage), rollbacks and period replacements (audited as `lake_rollback` / `lake_replace`).

Reading the quarantine is its own permission, `ingest:quarantine`: quarantined rows are input rows that
failed a check, so they can hold personal values. It is granted to the admin (who runs the loads, and sees
every personal value masked) and the analyst (the data manager of DESIGN.md, who reads every branch and
sees the rows as the customer 360 shows them); a bank grants it to others by editing this declaration.
The console's texts of the quarantine pages live beside it, in `messages.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

from lingxi.capability import Capability, LakeHolding, NavEntry, PermissionGrant, Stage
from lingxi.ingest.compact import PRUNE_ACTION, compact_stage
from lingxi.ingest.replace import REPLACE_ACTION
from lingxi.ingest.review import QUARANTINE_PERMISSION, QUARANTINE_READ
from lingxi.ingest.rollback import ROLLBACK_ACTION
from lingxi.ingest.stage import load_extracts

MESSAGES: dict[str, dict[str, str]] = json.loads(Path(__file__).with_name("messages.json").read_text(encoding="utf-8"))

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
    permissions=(
        PermissionGrant(
            QUARANTINE_PERMISSION,
            "read the quarantine: counts by reason, offending values and sample rows (masked for the role)",
            roles=("admin", "analyst"),
        ),
    ),
    audit_actions=(QUARANTINE_READ, ROLLBACK_ACTION, REPLACE_ACTION, PRUNE_ACTION),
    nav=(NavEntry("nav.data", "/quarantine", "govern", permission=QUARANTINE_PERMISSION, match="/quarantine"),),
    messages=MESSAGES,
    lake_holdings=(LakeHolding("*contract*"),),
)
