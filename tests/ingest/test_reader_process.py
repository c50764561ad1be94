"""A serving process reads throughout a period replacement and a rollback: it sees before or after, never a mix.

The reader is another OS process (spawned), reading through `LakeReader` as the console does: once with
the dataset copied into its memory (the console's serving copy) and once straight from the Parquet views.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest

from lingxi.auth.audit import Who
from lingxi.ingest.replace import Period
from lingxi.ingest.rollback import rollback

from .. import factories
from .conftest import Loader
from .test_corrections import KEY, days_of_transactions

STATE_QUERY = "SELECT count(*) AS n, sum(amount) AS total, min(txn_id) AS first, max(txn_id) AS last FROM transactions"


def _read_until_stopped(store_url: str, root: str, serve_rows: int, out: str) -> None:
    """Read the transactions' state in a loop until `<out>.stop` exists; write every distinct state and error."""
    from lingxi.store import Lake, connect
    from lingxi.store.serving import LakeReader

    store = connect(store_url)
    reader = LakeReader(Lake(Path(root), store), refresh_every=0.0, serve_rows=serve_rows, threads=1)
    seen: dict[str, int] = {}
    errors: list[str] = []
    reads = 0
    stop = Path(out + ".stop")
    while not stop.exists():
        try:
            row = reader.rows(STATE_QUERY, label="state")[0]
            state = json.dumps([row["n"], str(row["total"]), row["first"], row["last"]])
            seen[state] = seen.get(state, 0) + 1
        except Exception as e:  # every failure is reported, none stops the loop
            errors.append(f"{type(e).__name__}: {e}")
        reads += 1
        if reads == 1:
            Path(out + ".ready").touch()
    reader.close()
    store.dispose()
    Path(out).write_text(json.dumps({"seen": seen, "errors": errors, "reads": reads}))


def state_of(loader: Loader) -> str:
    row = loader.rows("transactions", STATE_QUERY)[0]
    return json.dumps([row["n"], str(row["total"]), row["first"], row["last"]])


@pytest.mark.parametrize("serve_rows", [5_000_000, 0], ids=["memory-copy", "parquet"])
def test_a_reader_process_sees_only_whole_states_during_replace_and_rollback(
    loader: Loader, tmp_path: Path, serve_rows: int
) -> None:
    ids = loader.base()
    days = days_of_transactions(ids, days=3, per_day=400)
    for day, rows in days.items():
        loader("transactions", factories.write_csv(tmp_path / f"d{day}.csv", rows))
    before = state_of(loader)
    out = str(tmp_path / "reads.json")
    url = loader.lake.store.url.render_as_string(hide_password=False)
    process = multiprocessing.get_context("spawn").Process(
        target=_read_until_stopped, args=(url, str(loader.lake.root), serve_rows, out)
    )
    process.start()
    try:
        deadline = time.monotonic() + 60
        while not Path(out + ".ready").exists():
            assert process.is_alive() and time.monotonic() < deadline, "the reader did not start"
            time.sleep(0.05)
        fixed = [dict(r, amount="1.00") for r in days[2][:300]]
        path = factories.write_csv(tmp_path / "d2-fixed.csv", fixed)
        assert loader("transactions", path, replace=Period.parse("2026-11-02")).status == "published"
        replaced = state_of(loader)
        time.sleep(0.5)
        rollback(loader.lake, "transactions", actor=Who("cli:ops"), hash_key=KEY)
        rolled_back = state_of(loader)
        time.sleep(0.5)
    finally:
        Path(out + ".stop").touch()
        process.join(60)
    assert process.exitcode == 0
    result: dict[str, Any] = json.loads(Path(out).read_text())
    assert result["errors"] == []
    assert rolled_back == before != replaced
    assert set(result["seen"]) <= {before, replaced}  # never a mix of the two
    assert set(result["seen"]) == {before, replaced}, "the reader saw both states"
    assert result["reads"] > 10
