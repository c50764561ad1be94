"""The lake's own bookkeeping in the operational store: dataset pointers, versions and loads (no customer rows)."""

from __future__ import annotations

from lingxi.capability import Capability, tables_of
from lingxi.store.tables import Dataset, DatasetVersion, Load

CAPABILITY = Capability(
    name="store",
    description="Lake snapshots (pointer, versions) and the record of every load.",
    tables=tables_of(Dataset, DatasetVersion, Load),
)
