"""Golden SQL: compiled queries kept at tests/snapshots/<test>/<case>/<dialect>.sql and compared on every run.

A test asks for the `golden_sql` fixture and calls `golden_sql.check(case, query)`: the query is rendered
(pretty) in every dialect Lingxi targets and compared with the stored file. After a deliberate change, or
a sqlglot upgrade, refresh the files with `pytest --snapshot-update` (or `make snapshots`) and review the
diff like code: it is exactly what changes in the SQL the engines run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlglot import exp

from lingxi.engine.sql import DIALECTS, render

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE_OPTION = "--snapshot-update"


class GoldenSQL:
    """Compares rendered queries with the files of one test (or rewrites them with --snapshot-update)."""

    def __init__(self, test: str, *, update: bool) -> None:
        self.folder = SNAPSHOTS / test
        self.update = update

    def check(self, case: str, query: exp.Expr, dialects: Sequence[str] = DIALECTS) -> None:
        for dialect in dialects:
            path = self.folder / case / f"{dialect}.sql"
            sql = render(query, dialect, pretty=True) + "\n"
            if self.update:
                if not path.exists() or path.read_text(encoding="utf-8") != sql:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(sql, encoding="utf-8")
                continue
            assert path.exists(), f"no golden SQL at {path}: run `pytest {UPDATE_OPTION}` and review the new file"
            expected = path.read_text(encoding="utf-8")
            assert sql == expected, f"{path} differs (refresh with `pytest {UPDATE_OPTION}` if intended)"


def golden_for(request: pytest.FixtureRequest) -> GoldenSQL:
    node = request.node
    test = getattr(node, "originalname", None) or node.name
    return GoldenSQL(test, update=bool(request.config.getoption(UPDATE_OPTION)))
