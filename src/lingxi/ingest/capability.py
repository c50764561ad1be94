"""The loader's declaration: every dataset of the bank data contract holds customer rows in the lake.

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
from lingxi.ingest.review import QUARANTINE_PERMISSION, QUARANTINE_READ
from lingxi.ingest.stage import load_extracts

MESSAGES: dict[str, dict[str, str]] = json.loads(Path(__file__).with_name("messages.json").read_text(encoding="utf-8"))

CAPABILITY = Capability(
    name="ingest",
    description="Loading bank extracts into the lake: validation, quarantine, publishing snapshots.",
    stages=(Stage("load", "load the day's extracts into the lake", load_extracts),),
    permissions=(
        PermissionGrant(
            QUARANTINE_PERMISSION,
            "read the quarantine: counts by reason, offending values and sample rows (masked for the role)",
            roles=("admin", "analyst"),
        ),
    ),
    audit_actions=(QUARANTINE_READ,),
    nav=(NavEntry("nav.data", "/quarantine", "govern", permission=QUARANTINE_PERMISSION, match="/quarantine"),),
    messages=MESSAGES,
    lake_holdings=(LakeHolding("*contract*"),),
)
