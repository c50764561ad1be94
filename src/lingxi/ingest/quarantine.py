"""The quarantine of one load: every bad row, with the file, its number, every problem found and the row.

Rows land in `<lake>/_quarantine/<table>/<load id>/part-NNNNN.parquet` as
`load_id, file, row, reason, field, problems, raw` (`raw` is the input row as JSON). Identifiers that the
mapping hashes are kept out, but for their last two characters: the quarantine must not become a copy
of the raw identifiers the lake never holds.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


class Quarantine:
    """Writes bad rows as they are found and counts them by reason."""

    def __init__(self, folder: Path, load_id: str, *, redacted: set[str]) -> None:
        self.folder, self.load_id, self.redacted = folder, load_id, redacted
        self.reasons: Counter[str] = Counter()  # "field: code" -> rows
        self.rows = 0

    def as_json(self, row: dict[str, object]) -> str:
        """An input row for the `raw` column, without internal columns, hashed identifiers redacted."""
        out = {}
        for key, value in row.items():
            if key.startswith("__"):
                continue
            if key in self.redacted and value is not None:
                value = "***" + str(value)[-2:]
            out[key] = value
        return json.dumps(out, ensure_ascii=False, default=str)

    def write(
        self,
        *,
        file: str,
        rows: list[int | None],
        problems: list[list[str]],
        raw: list[str],
        files: list[str] | None = None,
    ) -> None:
        """One part file; the first problem of each row gives its `reason` and `field` columns."""
        n = len(rows)
        table = pa.table(
            {
                "load_id": pa.array([self.load_id] * n, pa.string()),
                "file": pa.array(files or [file] * n, pa.string()),
                "row": pa.array(rows, pa.int64()),
                "reason": pa.array([p[0].split(": ", 1)[1].split(" ")[0] for p in problems], pa.string()),
                "field": pa.array([p[0].split(": ", 1)[0] for p in problems], pa.string()),
                "problems": pa.array(["; ".join(p) for p in problems], pa.string()),
                "raw": pa.array(raw, pa.string()),
            }
        )
        part = len(list(self.folder.glob("*.parquet")))
        pq.write_table(table, self.folder / f"part-{part:05d}.parquet", compression="zstd")
        self.rows += n
