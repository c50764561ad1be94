"""`lingxi rollback`, `lingxi load --replace` and `lingxi lake versions|compact|prune` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lingxi.auth.tables import AuditEntry
from lingxi.cli.main import app
from lingxi.store import connect

from .. import factories
from ..clirunner import cli_runner
from ..ingest.test_corrections import days_of_transactions


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    return cli_runner(monkeypatch, tmp_path / "data", columns=200)


def run(cli: CliRunner, *args: str) -> tuple[int, str]:
    """Exit code and output, with runs of white space as one space (Rich wraps long lines)."""
    result = cli.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_a_wrong_day_reloaded_replaced_rolled_back_compacted_and_pruned(cli: CliRunner, tmp_path: Path) -> None:
    assert run(cli, "init")[0] == 0
    customers = factories.customers(30)
    run(cli, "load", "customers", str(factories.write_csv(tmp_path / "c.csv", customers)))
    run(cli, "load", "products", str(factories.write_csv(tmp_path / "p.csv", factories.products())))
    days = days_of_transactions([c["customer_id"] for c in customers])
    for day, rows in days.items():
        assert run(cli, "load", "transactions", str(factories.write_csv(tmp_path / f"d{day}.csv", rows)))[0] == 0

    # the same file again: unchanged, and the message says how to correct loaded data
    code, out = run(cli, "load", "transactions", str(tmp_path / "d2.csv"))
    assert code == 0 and "unchanged" in out and "--replace 2026-11-03" in out and "lingxi rollback" in out
    # the corrected file as an append: its keys are loaded; the refusal names both ways out
    fixed = factories.write_csv(tmp_path / "d2-fixed.csv", [dict(r, amount="9.99") for r in days[2]])
    code, out = run(cli, "load", "transactions", str(fixed))
    assert code == 1 and "key_already_loaded" in out and "--replace" in out and "lingxi rollback" in out
    code, out = run(cli, "load", "transactions", str(fixed), "--replace", "2026-11-2")
    assert code == 1 and "not a day or a month" in out
    code, out = run(cli, "load", "transactions", str(fixed), "--replace", "2026-11-02")
    assert code == 0 and "published" in out and "version 4" in out

    code, out = run(cli, "rollback", "transactions")
    assert code == 0 and "version 5 shows the data of version 3" in out and "--to 4" in out
    code, out = run(cli, "rollback", "transactions", "--to", "9")
    assert code == 1 and "cannot roll `transactions` back to version 9" in out and "Traceback" not in out

    code, out = run(cli, "lake", "compact", "transactions")
    assert code == 0 and "3 files -> 1" in out and "version 6" in out
    code, out = run(cli, "lake", "versions", "transactions")
    assert code == 0 and out.count("│ kept │") == 5 and out.count("│ current │") == 1
    assert out.index("compaction") < out.index("rollback to version 3") < out.index("replace 2026-11-02")

    code, out = run(cli, "lake", "prune", "--days", "0")
    assert code == 0 and "pruned `transactions`" in out and "versions 1–5 can no longer be rolled back to" in out
    code, out = run(cli, "rollback", "transactions", "--to", "3")
    assert code == 1 and "no longer kept" in out
    store = connect(f"sqlite:///{(tmp_path / 'data' / 'lingxi.db').resolve()}")
    with store.connect() as conn:
        actions = [r.action for r in conn.execute(select(AuditEntry).order_by(AuditEntry.seq))]
        actors = {r.actor for r in conn.execute(select(AuditEntry).where(AuditEntry.action.like("lake_%")))}
    store.dispose()
    assert [a for a in actions if a.startswith("lake_")] == ["lake_replace", "lake_rollback", "lake_prune"]
    assert all(a.startswith("cli:") for a in actors)


def test_status_shows_what_a_rollback_made_stale(cli: CliRunner, tmp_path: Path) -> None:
    assert run(cli, "init")[0] == 0
    customers = factories.customers(10)
    run(cli, "load", "customers", str(factories.write_csv(tmp_path / "c.csv", customers)))
    run(cli, "load", "products", str(factories.write_csv(tmp_path / "p.csv", factories.products())))
    for day in (1, 2):
        rows = [
            {"snapshot_date": f"2026-11-0{day}", "customer_id": c["customer_id"], "product_id": "P001", "balance": "5"}
            for c in customers
        ]
        run(cli, "load", "holdings", str(factories.write_csv(tmp_path / f"h{day}.csv", rows)))
    assert run(cli, "pipeline", "run", "--only", "tiers")[0] == 0
    assert run(cli, "rollback", "holdings")[0] == 0
    code, out = run(cli, "status")
    assert code == 0 and "stale `aum_tiers`" in out and "holdings: rollback to version 1 (version 3)" in out
    assert run(cli, "pipeline", "run", "--only", "tiers")[0] == 0
    assert "stale" not in run(cli, "status")[1]
