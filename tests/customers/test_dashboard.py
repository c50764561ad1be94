"""The home dashboard's quarantine card counts what `lingxi status` counts: rows of loads that published."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy

from lingxi.customers import dashboard
from lingxi.store.tables import Load


def test_the_quarantine_card_counts_rows_of_published_loads_and_names_the_rejected(
    store: sqlalchemy.Engine,
) -> None:
    at = datetime(2026, 12, 1, 9, 0)
    loads = [("a", "published", 2), ("b", "rejected", 50), ("c", "published", 3), ("d", "failed", 7)]
    with store.begin() as conn:
        for load_id, status, bad in loads:
            conn.execute(
                sqlalchemy.insert(Load).values(
                    id=load_id,
                    dataset="transactions",
                    source="t.csv",
                    fingerprint=load_id * 8,
                    status=status,
                    rows_in=100,
                    rows_loaded=100 - bad,
                    rows_quarantined=bad,
                    reasons={},
                    started_at=at,
                )
            )
    (card,) = dashboard.quarantine(store)
    assert card["rows_quarantined"] == 5  # a rejected or failed load's rows are not part of the data
    assert (card["loads"], card["loads_rejected"]) == (4, 1)
