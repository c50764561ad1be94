"""Customer data access for the API and console: search, customer 360 and dashboard counts.

The one module that reads customers for people: branch scope, masking and the audit of every read are
applied here, never in routes (COMPLIANCE.md R24, R25, R45). It has no FastAPI in it, so a batch job or
the CLI can use it too.
"""

from __future__ import annotations

from lingxi.customers.dashboard import customer_counts, freshness, quarantine, summary
from lingxi.customers.service import SearchResult, customer_360, search
from lingxi.store.serving import LakeReader

__all__ = [
    "LakeReader",
    "SearchResult",
    "customer_360",
    "customer_counts",
    "freshness",
    "quarantine",
    "search",
    "summary",
]
