"""The audit log: chain, verify, tamper detection, append-only triggers, encoding, concurrency, the auditor's query."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lingxi.auth import PermissionDenied, Principal, Role, audit, permissions_of
from lingxi.auth.audit import Action, AuditQuery, Who, encode_text
from lingxi.keys import DEV_AUDIT_KEY

from .conftest import RM, Clock, fill, tamper


def test_entries_chain_and_verify(store: sqlalchemy.Engine, clock: Clock) -> None:
    assert audit.verify(store).ok and audit.verify(store).count == 0
    fill(store, 5, clock)
    report = audit.verify(store)
    assert report.ok and report.count == 5
    entries = list(reversed(audit.search(store, AuditQuery())))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.entry_hash for a, b in zip(entries, entries[1:], strict=False))
    assert report.head_hash == entries[-1].entry_hash
    first = entries[0]
    assert (first.actor, first.role, first.branch_id, first.action, first.target) == (
        "rm.a",
        "branch_rm",
        "BR-A",
        "customer_read",
        "C0000",
    )
    assert first.fields == ("name", "mobile")
    assert first.at == clock.now.replace(tzinfo=None) - timedelta(seconds=4)


def test_database_refuses_update_and_delete(store: sqlalchemy.Engine, clock: Clock) -> None:
    fill(store, 2, clock)
    for sql in ("UPDATE lx_audit SET result = 'denied' WHERE seq = 1", "DELETE FROM lx_audit WHERE seq = 2"):
        with pytest.raises(DBAPIError, match="append-only"), store.begin() as conn:
            conn.execute(text(sql))
    assert audit.verify(store).ok


@pytest.mark.parametrize(
    ("sql", "broken", "problem"),
    [
        ("UPDATE lx_audit SET target = 'C9999' WHERE seq = 3", 3, "entry 3 was changed"),
        ("UPDATE lx_audit SET at = at WHERE seq = 3", None, None),  # a no-op edit is not a false alarm
        ("DELETE FROM lx_audit WHERE seq = 2", 2, "entry 2 is missing"),
        ("DELETE FROM lx_audit WHERE seq >= 4", 4, "end deleted"),
    ],
)
def test_verify_finds_the_first_tampered_entry(
    store: sqlalchemy.Engine, clock: Clock, sql: str, broken: int | None, problem: str | None
) -> None:
    fill(store, 5, clock)
    tamper(store, sql)
    report = audit.verify(store)
    assert report.broken_seq == broken
    assert (report.problem is None) if problem is None else (problem in (report.problem or ""))


def test_rehashing_an_edited_entry_still_breaks_the_next_link(store: sqlalchemy.Engine, clock: Clock) -> None:
    fill(store, 4, clock)
    [entry] = [e for e in audit.search(store, AuditQuery()) if e.seq == 2]
    forged = audit.Entry(**{**vars(entry), "target": "C9999"})
    new_hash = audit.chain_hash(forged.prev_hash, forged.canonical(), DEV_AUDIT_KEY)  # even holding the key
    tamper(store, f"UPDATE lx_audit SET target = 'C9999', entry_hash = '{new_hash}' WHERE seq = 2")
    report = audit.verify(store)
    assert report.broken_seq == 3 and "does not follow" in (report.problem or "")


def test_injected_newlines_and_json_are_encoded(store: sqlalchemy.Engine, clock: Clock) -> None:
    hostile = 'C1\n2026-11-02 09:00 admin login ok\r{"forged": true, "action": "login"}\u2028x\\n'
    audit.record(store, Action.CUSTOMER_READ, Who("rm.a\nadmin"), target=hostile, reason=hostile, now=clock())
    [e] = audit.search(store, AuditQuery())
    for value in (e.target, e.reason, e.actor):
        assert value is not None and not any(ch in value for ch in "\n\r\u2028")
    assert e.target == encode_text(hostile, 256) and e.action == "customer_read"
    line = json.dumps(e.as_dict())
    assert "\n" not in line and json.loads(line)["target"] == e.target  # the JSON object stays whole
    assert set(json.loads(e.canonical())) == {
        "seq",
        "at",
        "actor",
        "role",
        "branch_id",
        "action",
        "target",
        "fields",
        "reason",
        "result",
        "detail",
        "key_id",
    }
    assert encode_text("a\\nb", 10) == "a\\\\nb"  # an escaped-looking text stays distinguishable from a newline
    assert audit.verify(store).ok


def test_values_never_land_in_the_log(store: sqlalchemy.Engine, clock: Clock) -> None:
    with pytest.raises(ValueError, match="field names"):
        audit.record(store, Action.UNMASK, RM, fields=["13812345678"], now=clock())
    with pytest.raises(ValueError):
        audit.record(store, "rename_everything", RM, now=clock())
    audit.record(store, Action.UNMASK, RM, reason="called 13812345678 about card 6222021234567890123", now=clock())
    [e] = audit.search(store, AuditQuery())
    assert "13812345678" not in (e.reason or "") and "6222021234567890123" not in (e.reason or "")


def test_concurrent_appends_keep_one_chain(store: sqlalchemy.Engine) -> None:
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(25):
                audit.record(store, Action.CUSTOMER_READ, Who(f"w{k}"), target=f"C{i}")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = audit.verify(store)
    assert report.ok and report.count == 100


def test_auditor_queries_with_filters_and_the_query_is_audited(store: sqlalchemy.Engine, clock: Clock) -> None:
    fill(store, 3, clock)
    audit.record(store, Action.EXPORT, Who("strat", "strategist"), target="segment:young", now=clock.advance(hours=1))
    auditor = Principal(9, "aud", Role.AUDITOR, None, permissions_of(Role.AUDITOR))
    analyst = Principal(8, "ana", Role.ANALYST, None, permissions_of(Role.ANALYST))
    with pytest.raises(PermissionDenied, match="audit:read"):
        audit.query(store, analyst, AuditQuery())
    assert [e.target for e in audit.query(store, auditor, AuditQuery(action=Action.EXPORT))] == ["segment:young"]
    assert len(audit.query(store, auditor, AuditQuery(actor="rm.a", limit=2))) == 2
    since = audit.query(store, auditor, AuditQuery(since=clock.now, until=clock.advance(seconds=1)))
    assert [e.action for e in since] == ["export"]
    page = audit.query(store, auditor, AuditQuery(actor="rm.a", before_seq=2))
    assert [e.seq for e in page] == [1]
    reads = audit.search(store, AuditQuery(action=Action.AUDIT_READ))
    assert len(reads) == 4 and reads[0].actor == "aud" and audit.verify(store).ok
