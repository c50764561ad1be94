"""Finding repeated keys cheaply: by their 64-bit hashes first, by the keys themselves only where a hash matched.

A key must be unique within a load's input and, for append tables, new to the published rows. Comparing
the key text of every row with every key seen so far cost a join with a table that grew with each chunk:
the tenth million-row chunk of a file paid three times what the first did. Instead each row's key is
hashed in DuckDB; repeats within the chunk are found by sorting its hashes here (a few milliseconds per
million rows), and keys seen before by a semi join of the chunk's hashes with the hashes of the keys
seen (integers: a third the cost of text). Only the rows whose hash matched, normally none, have their
keys compared (checks.CheckPlan.row_problems_sql), so a hash collision never quarantines a row.

The semi join is skipped when the chunk's keys lie outside the range of those seen: journal numbers
and event ids usually rise through an extract, and a day's transactions follow the last day's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


def repeated_hashes(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The distinct hashes that occur more than once."""
    ordered = np.sort(hashes)
    return np.unique(ordered[1:][ordered[1:] == ordered[:-1]])


@dataclass
class KeyRange:
    """The lowest and highest value seen of a key column (text compares as DuckDB does: UTF-8 bytes)."""

    low: Any = None
    high: Any = None

    def overlaps(self, low: Any, high: Any) -> bool:
        if self.low is None or low is None:
            return False
        return bool(low <= self.high and self.low <= high)

    def extend(self, low: Any, high: Any) -> None:
        if low is None:
            return
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)
