"""Data-subject requests on a small synthetic bank: export completeness, erasure from every store, corrections."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy
from sqlalchemy import MetaData, insert, select, text

from lingxi.auth.audit import Who
from lingxi.auth.tables import User, UserCustomer
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.errors import InputError, SpecError
from lingxi.ingest.load import LoadOptions, load
from lingxi.pipeline import StageContext, run_pipeline
from lingxi.privacy import consent, correction, dsr
from lingxi.privacy.identifiers import keyed_hash
from lingxi.privacy.tables import ERASED_PREFIX, subject_ref
from lingxi.schema import TABLES
from lingxi.store import Lake

from .. import factories
from .test_consent import KEY, load_bank, make_bank

STAFF = Who("dpo.li", "approver")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def bank_extracts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bank(tmp_path_factory)


def pick_customer(extracts: Path) -> dict[str, Any]:
    """A customer with a unique name, both hashes, anonymous events on a device and consent history (hardest case)."""
    customers = pq.read_table(extracts / "customers").to_pylist()
    names = Counter(c["name"] for c in customers)
    identities = pq.read_table(extracts / "identities").to_pylist()
    devices = {i["customer_id"] for i in identities if i["id_type"] == "device_id"}
    consents = {r["customer_id"] for r in pq.read_table(extracts / "consent_events").to_pylist()}
    events = pq.read_table(extracts / "events", columns=["customer_id", "device_id"]).to_pylist()
    known = Counter(r["customer_id"] for r in events)
    owner = {i["id_value"]: i["customer_id"] for i in identities if i["id_type"] == "device_id"}
    anonymous = Counter(owner.get(r["device_id"]) for r in events if r["customer_id"] is None)  # on their devices
    for c in customers:
        cid = c["customer_id"]
        if names[c["name"]] == 1 and c["phone_hash"] and c["id_no_hash"] and cid in devices and cid in consents:
            if known[cid] and anonymous[cid]:
                return c
    raise AssertionError("no suitable customer in the synthetic bank")


@pytest.fixture
def bank(store: sqlalchemy.Engine, tmp_path: Path, bank_extracts: Path) -> tuple[Lake, dict[str, Any]]:
    """The bank loaded, its consents imported, and the chosen customer seeded into every other store."""
    lake = load_bank(store, tmp_path / "lake", bank_extracts)
    x = pick_customer(bank_extracts)
    cid = x["customer_id"]
    # a second transactions load: one good row (a second lake folder) and one bad row (the quarantine)
    rows = factories.transactions(2, [cid], seed=5, start=900_000)
    rows[1]["amount"] = "lots"
    with DuckDBEngine(threads=1) as engine:
        options = LoadOptions("transactions", factories.write_csv(tmp_path / "t.csv", rows), max_bad=1.0, hash_key=KEY)
        assert load(lake, engine, options).rows_quarantined == 1
        consent.import_lake_consents(lake, engine, actor=Who("cli:test"), hash_key=KEY)
    consent.record_consent(
        store,
        customer_id=cid,
        purpose="marketing",
        channel="push",
        status="withdrawn",
        source="app",
        occurred_at=NOW,
        idempotency_key=f"{cid}-push-off",
        actor=Who("app"),
        hash_key=KEY,
        now=NOW,
    )
    with store.begin() as conn:
        user_id = conn.execute(
            insert(User)
            .values(
                username="rm.a",
                display_name="RM",
                role="branch_rm",
                branch_id="BR01",
                password_hash="x",
                password_changed_at=NOW,
                created_at=NOW,
                updated_at=NOW,
            )
            .returning(User.id)
        ).scalar_one()
        conn.execute(insert(UserCustomer).values(user_id=user_id, customer_id=cid))
    correction.correct_customer(
        lake, cid, {"address": "浙江省杭州市西湖区新地址 9 号"}, actor=STAFF, hash_key=KEY, apply_now=False
    )
    return lake, x


def lake_hits(root: Path, needles: list[str]) -> list[str]:
    """Every Parquet file under the lake (all folders, every version, the quarantine) that holds a needle."""
    hits = []
    for path in sorted(root.rglob("*.parquet")):
        table = pq.read_table(path)
        for name in table.column_names:
            for value in table[name].to_pylist():
                if isinstance(value, str) and any(n in value for n in needles):
                    hits.append(f"{path.relative_to(root)}:{name}")
                    break
    return hits


def store_hits(store: sqlalchemy.Engine, needles: list[str]) -> list[str]:
    """Every row of every operational table (reflected, so tables added later are searched too) holding a needle."""
    meta = MetaData()
    meta.reflect(store)
    hits = []
    with store.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)).all():
                if any(n in str(tuple(row)) for n in needles):
                    hits.append(f"{table.name}: {tuple(row)}")
    return hits


def test_export_holds_everything_held_on_the_customer(bank: tuple[Lake, dict[str, Any]], bank_extracts: Path) -> None:
    lake, x = bank
    cid = x["customer_id"]
    with DuckDBEngine(threads=1) as engine:
        document, receipt = dsr.export_customer(lake, engine, cid, actor=STAFF, hash_key=KEY, now=NOW)
    document = json.loads(json.dumps(document, ensure_ascii=False))  # machine-readable as promised
    assert document["format"] == dsr.EXPORT_FORMAT and document["customer_id"] == cid
    for name, table in TABLES.items():
        if "customer_id" not in table.column_names:
            continue
        expected = [r for r in pq.read_table(bank_extracts / name).to_pylist() if r["customer_id"] == cid]
        got = [r for r in document["lake"][name] if r["customer_id"] == cid]
        assert len(got) == len(expected) + (1 if name == "transactions" else 0), name  # + the extra load's good row
        for column in table.columns:  # every collected field is there, with its class and purpose
            assert document["fields"][name][column.name]["pi_class"] == column.pi_class
            assert all(column.name in r for r in got)
    assert document["lake"]["customers"][0]["name"] == x["name"]
    ledger = consent.history(lake.store, cid)
    assert len(document["consent"]["events"]) == len(ledger) > 1
    assert {e["detail"] for e in document["audit"]} >= {"marketing/push: withdrawn"}
    assert document["operational"]["lx_user_customer"] and document["operational"]["lx_correction"]
    assert receipt.kind == "export" and receipt.subject_ref == subject_ref(cid, KEY)
    assert sorted(r.kind for r in dsr.receipts(lake.store, cid, KEY)) == ["correction", "export"]


def test_deletion_leaves_only_tombstones_in_every_store(bank: tuple[Lake, dict[str, Any]]) -> None:
    lake, x = bank
    store, cid = lake.store, x["customer_id"]
    needles = [cid, x["name"], x["phone_hash"], x["id_no_hash"]]
    assert lake_hits(lake.root, needles) and store_hits(store, [cid])  # the search finds them before
    other = "C000000001" if cid != "C000000001" else "C000000002"
    before_other = consent.current_consent(store, other)
    ledger_events = len(consent.history(store, cid))
    customers_before = lake.snapshot("customers")
    with DuckDBEngine(threads=1) as engine:
        receipt = dsr.erase_customer(lake, engine, cid, actor=STAFF, hash_key=KEY, now=NOW)
        assert lake_hits(lake.root, needles) == []
        assert store_hits(store, needles) == []
        # what is left is tombstones: the keyed reference, the pseudonymised evidence, the receipt
        ref = subject_ref(cid, KEY)
        with store.connect() as conn:
            assert conn.execute(text("SELECT subject_ref FROM lx_erasure")).scalars().all() == [ref]
            kept = conn.execute(
                text(f"SELECT count(*) FROM lx_consent_event WHERE customer_id = '{ERASED_PREFIX}{ref}'")
            )
            assert kept.scalar_one() == ledger_events
        stores = receipt.stores
        assert stores["consent_ledger"]["events_pseudonymised"] == ledger_events
        assert stores["lake"]["customers"]["rows_removed"] == 1 and stores["quarantine"]["rows_removed"] == 1
        assert stores["lake"]["transactions"]["superseded_folders_scrubbed"] == 2
        assert stores["operational"] == {"lx_user_customer": 1, "lx_correction": 1}
        assert stores["audit"]["entries_naming_raw_id"] == 0
        assert sorted(r.kind for r in dsr.receipts(store, cid, KEY)) == ["correction", "deletion"]
        assert dsr.is_erased(store, cid, KEY)
        # everyone else is untouched, and readers see a whole new version
        after = lake.snapshot("customers")
        assert after is not None and customers_before is not None
        assert (after.version, after.row_count) == (customers_before.version + 1, customers_before.row_count - 1)
        assert consent.current_consent(store, other) == before_other
        lake.register(engine)
        assert (
            engine.run(f"SELECT count(*) AS n FROM customers WHERE customer_id = '{cid}'", label="t")["n"][0].as_py()
            == 0
        )
        # an old extract cannot bring the customer back into the ledger; a second run changes nothing
        again = consent.import_lake_consents(lake, engine, actor=Who("cli:test"), hash_key=KEY)
        assert again.inserted == 0
        assert dsr.erase_customer(lake, engine, cid, actor=STAFF, hash_key=KEY).stores["lake"] == {}
    assert store_hits(store, needles) == []


def test_erasure_lasts_when_the_bank_resends_every_extract(
    bank: tuple[Lake, dict[str, Any]], bank_extracts: Path
) -> None:
    """F5: anonymous events on the erased customer's devices (and every other row of theirs) stay out of reloads."""
    lake, x = bank
    store, cid = lake.store, x["customer_id"]
    identities = [r for r in pq.read_table(bank_extracts / "identities").to_pylist() if r["customer_id"] == cid]
    devices = {r["id_value"] for r in identities if r["id_type"] == "device_id"}
    events = pq.read_table(bank_extracts / "events").to_pylist()
    anonymous = [e for e in events if e["customer_id"] is None and e["device_id"] in devices]
    assert anonymous, "the chosen customer has anonymous events on a device of theirs"
    anon_ids = sorted({e["anonymous_id"] for e in anonymous if e["anonymous_id"]})
    event_ids = sorted({e["event_id"] for e in anonymous})
    needles = [cid, x["name"], x["phone_hash"], x["id_no_hash"], *devices, *anon_ids, *event_ids]
    needles += [r["id_value"] for r in identities]
    assert lake_hits(lake.root, needles)
    with DuckDBEngine(memory_limit="512MB", threads=1) as engine:
        dsr.erase_customer(lake, engine, cid, actor=STAFF, hash_key=KEY, now=NOW)
        assert lake_hits(lake.root, needles) == [] and store_hits(store, needles) == []
        with store.connect() as conn:  # the registry holds keyed hashes, never the identifiers
            kinds = Counter(conn.execute(text("SELECT kind FROM lx_erased_identifier")).scalars())
        assert kinds["device_id"] == len(devices) and kinds["phone_hash"] and kinds["id_no_hash"]
        # the bank sends every extract again: daily files come back as duplicates (quarantined), except the
        # erased rows, which are no longer in the lake and would be published again as new
        ctx = StageContext(lake=lake, engine=engine, loader=engine, extracts=bank_extracts, hash_key=KEY, max_bad=1.0)
        run_pipeline(ctx, only=["load", "corrections"])
        reports = {r.table: r for r in ctx.loads}
    assert lake_hits(lake.root, needles) == []  # every Parquet file of every version, and the quarantine
    assert store_hits(store, needles) == []
    linked = {r["id_value"] for r in identities} | set(anon_ids)
    theirs = [e for e in events if e["customer_id"] == cid]
    theirs += [e for e in events if e["customer_id"] is None and {e["device_id"], e["anonymous_id"]} & linked]
    assert reports["events"].rows_erased == len(theirs) > len(anonymous)  # left out and counted, as before
    assert reports["customers"].rows_erased == 1 and reports["identities"].rows_erased == len(identities)
    # a correction of the erased customer is refused (it would write their id again)
    with pytest.raises(InputError, match="erased"):
        correction.correct_customer(lake, cid, {"address": "x"}, actor=STAFF, hash_key=KEY)
    assert store_hits(store, needles) == []


def test_pseudonymised_evidence_is_purged_after_three_years(bank: tuple[Lake, dict[str, Any]]) -> None:
    lake, x = bank
    with DuckDBEngine(threads=1) as engine:
        dsr.erase_customer(lake, engine, x["customer_id"], actor=STAFF, hash_key=KEY, now=NOW)
    other = next(
        c for c in consent.current_consents(lake.store, [f"C{i:09d}" for i in range(1, 9)]).values() if c.latest
    )
    live = len(consent.history(lake.store, other.customer_id))
    assert dsr.purge_expired_evidence(lake.store, now=NOW + timedelta(days=3 * 365 - 1)) == 0
    assert dsr.purge_expired_evidence(lake.store, now=NOW + timedelta(days=3 * 365 + 1)) > 0
    assert len(consent.history(lake.store, other.customer_id)) == live  # live evidence is never deleted


def test_correction_reaches_the_lake_and_settles(store: sqlalchemy.Engine, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake", store)
    with DuckDBEngine(threads=1) as engine:
        path = factories.write_csv(tmp_path / "c.csv", factories.customers(5))
        load(lake, engine, LoadOptions("customers", path, hash_key=KEY))
    receipt = correction.correct_customer(
        lake, "C000002", {"name": "李四", "phone": "+86 138-0013-8000"}, actor=STAFF, hash_key=KEY
    )
    snap = lake.snapshot("customers")
    assert snap is not None and snap.version == 2 and receipt.stores["lake"]["applied_version"] == 2
    rows = {r["customer_id"]: r for p in snap.paths for f in p.rglob("*.parquet") for r in pq.read_table(f).to_pylist()}
    assert rows["C000002"]["name"] == "李四"
    assert rows["C000002"]["phone_hash"] == keyed_hash("13800138000", KEY)
    assert rows["C000001"]["name"] == factories.customers(5)[0]["name"]
    assert correction.apply_corrections(lake) == {}  # applied to the current version: nothing to do
    with pytest.raises(SpecError) as info:
        correction.correct_customer(
            lake, "C000002", {"customer_id": "X", "gender": "Q", "birth_date": "soon"}, actor=STAFF, hash_key=KEY
        )
    assert all(f"`{n}`" in str(info.value) for n in ("customer_id", "gender", "birth_date"))


@pytest.mark.parametrize("when", ["0001-01-01", "9999-12-31", "1899-12-31", "2026-11-03"])
def test_a_corrected_birth_date_must_lie_between_1900_and_today(
    store: sqlalchemy.Engine, tmp_path: Path, when: str
) -> None:
    lake = Lake(tmp_path / "lake", store)
    with DuckDBEngine(threads=1) as engine:
        load(
            lake,
            engine,
            LoadOptions("customers", factories.write_csv(tmp_path / "c.csv", factories.customers(3)), hash_key=KEY),
        )
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with pytest.raises(SpecError, match=f"`birth_date`: `{when}` is out of range \\(1900-01-01 to today\\)"):
        correction.correct_customer(lake, "C000002", {"birth_date": when}, actor=STAFF, hash_key=KEY, now=now)
    fine = correction.correct_customer(
        lake, "C000002", {"birth_date": "1900-01-01"}, actor=STAFF, hash_key=KEY, now=now
    )
    assert fine.stores["lake"]["overlay"] == ["birth_date"]


def test_cli_consent_and_dsr_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from typer.testing import CliRunner

    from lingxi.cli import privacy as privacy_cmd
    from lingxi.cli.context import STATE
    from lingxi.store import connect, migrate

    app = typer.Typer()

    @app.callback()
    def _main() -> None:
        STATE.settings, STATE.data_dir, STATE.debug = None, None, False

    privacy_cmd.register(app)
    data = tmp_path / "data"
    monkeypatch.setenv("LINGXI_DATA_DIR", str(data))
    monkeypatch.delenv("LINGXI_DATABASE_URL", raising=False)
    monkeypatch.delenv("LINGXI_HASH_KEY", raising=False)
    store = connect(f"sqlite:///{(data / 'lingxi.db').resolve()}")
    migrate(store)
    lake = Lake(data / "lake", store)
    with DuckDBEngine(threads=1) as engine:
        load(lake, engine, LoadOptions("customers", factories.write_csv(tmp_path / "c.csv", factories.customers(3))))

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, list(args))
        return result.exit_code, result.output

    grant = (
        "consent",
        "record",
        "C000001",
        "--purpose",
        "marketing",
        "--channel",
        "sms",
        "--status",
        "granted",
        "--source",
        "branch",
        "--key",
        "k1",
        "--at",
        "2026-11-02T09:00:00+08:00",
        "--actor",
        "rm.a",
    )
    code, out = run(*grant)
    assert code == 1 and "`notice_version`" in out and "`evidence`" in out
    code, out = run(*grant, "--notice", "2026-01", "--evidence", "paper-form-7")
    assert code == 0 and "recorded" in out
    assert "already recorded" in run(*grant, "--notice", "2026-01", "--evidence", "paper-form-7")[1]
    code, out = run("consent", "show", "C000001", "--json")
    shown = json.loads(out)
    assert (
        shown["decisions"]["marketing/sms"] == "ALLOWED" and shown["decisions"]["marketing/push"] == "CONSENT_MISSING"
    )
    assert run("consent", "import")[0] == 0  # nothing loaded: nothing imported, no error
    code, out = run("dsr", "export", "C000001", "--out", str(tmp_path / "x.json"), "--actor", "dpo.li")
    assert (
        code == 0 and json.loads((tmp_path / "x.json").read_text())["lake"]["customers"][0]["customer_id"] == "C000001"
    )
    code, out = run("dsr", "correct", "C000001", "--set", "name=王五", "--actor", "dpo.li")
    assert code == 0 and "customers version 2" in out
    assert run("dsr", "correct", "C000001", "--set", "shoe_size=42")[0] == 1
    for field in ("branch_id", "risk_level", "customer_id"):  # F6: never scope, risk or keys
        code, out = run("dsr", "correct", "C000001", "--set", f"{field}=X")
        assert code == 1 and f"`{field}`" in out and "correctable: name" in out, out
    code, out = run("dsr", "correct", "C000001", "--set", "address=新地址 2 号", "--actor", "dpo.li")
    assert code == 0 and "customers version 3" in out
    code, out = run("dsr", "delete", "C000001", "--yes", "--actor", "dpo.li")
    assert code == 0 and json.loads(out)["stores"]["lake"]["customers"]["rows_removed"] == 1
    code, out = run("privacy", "inventory")
    assert code == 0 and "| customers | name | C2 |" in out
    assert json.loads(run("privacy", "inventory", "--json")[1])["sharing"] == []
    store.dispose()
