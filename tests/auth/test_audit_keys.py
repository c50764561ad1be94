"""Finding F10: the audit chain is keyed (HMAC) and its head checkpointed outside the database.

Before the fix the chain was plain SHA-256 and nothing outside the database held its head, so with the
triggers dropped someone could recompute the whole chain, or cut its end and rewind `lx_audit_head`, and
`verify` said intact. Each test below does that on a copy (triggers dropped, as `tamper` does) and
expects verify to fail; on the old code the same tampering verified as intact.
"""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy

from lingxi.auth import audit, checkpoints
from lingxi.auth.audit import Action
from lingxi.auth.checkpoints import Checkpoint, Checkpointer
from lingxi.errors import ConfigError
from lingxi.keys import DEV_AUDIT_KEY, Keys, key_id

from .conftest import RM, Clock, entries, fill, rewind, tamper

DEV = Keys.single(DEV_AUDIT_KEY)
OTHER = Keys.single("a key the intruder chose")


def recompute(store: sqlalchemy.Engine, secret: str | None, kid: str | None, *, start: int = 1) -> None:
    """Rehash the chain from entry `start` with `secret` (None: plain SHA-256) and key id `kid`, head included."""
    rows = entries(store)
    prev = audit.GENESIS_HASH if start == 1 else rows[start - 2].entry_hash
    statements = []
    for e in rows[start - 1 :]:
        forged = replace(e, prev_hash=prev, key_id=kid)
        new = audit.chain_hash(prev, forged.canonical(), secret)
        key = "NULL" if kid is None else f"'{kid}'"
        statements.append(
            f"UPDATE lx_audit SET prev_hash = '{prev}', entry_hash = '{new}', key_id = {key} WHERE seq = {e.seq}"
        )
        prev = new
    tamper(store, *statements, f"UPDATE lx_audit_head SET last_hash = '{prev}' WHERE id = 1")


def test_entries_are_hmac_chained_under_the_key_they_name(store: sqlalchemy.Engine, clock: Clock) -> None:
    fill(store, 3, clock)
    rows = entries(store)
    assert {e.key_id for e in rows} == {key_id(DEV_AUDIT_KEY)}
    assert rows[0].entry_hash == audit.chain_hash(audit.GENESIS_HASH, rows[0].canonical(), DEV_AUDIT_KEY)
    assert rows[0].entry_hash != audit.chain_hash(audit.GENESIS_HASH, rows[0].canonical(), None)
    assert audit.verify(store, DEV).ok
    report = audit.verify(store, OTHER)  # a keyring without the key: a failure naming it, not a crash
    assert report.broken_seq == 1 and f"audit key `{key_id(DEV_AUDIT_KEY)}`" in (report.problem or "")


@pytest.mark.parametrize(
    ("secret", "kid", "problem"),
    [
        (None, key_id(DEV_AUDIT_KEY), "entry 1 was changed"),  # plain SHA-256, key ids left alone
        (None, None, "entries 1 to 4 have no audit key and no checkpoint vouches for them"),  # passed as "older"
        (OTHER.active, OTHER.active_id, f"signed with audit key `{OTHER.active_id}`, which is not in the keyring"),
        (OTHER.active, key_id(DEV_AUDIT_KEY), "entry 1 was changed"),  # another key under the real key's id
    ],
    ids=["sha256", "sha256-no-key-ids", "other-key", "other-key-real-id"],
)
def test_a_recomputed_chain_fails(
    store: sqlalchemy.Engine, clock: Clock, secret: str | None, kid: str | None, problem: str
) -> None:
    fill(store, 4, clock)
    tamper(store, "UPDATE lx_audit SET target = 'C9999' WHERE seq = 2")
    recompute(store, secret, kid)
    report = audit.verify(store)
    assert not report.ok and problem in (report.problem or "")


def test_a_recomputed_chain_fails_against_a_checkpoint(store: sqlalchemy.Engine, clock: Clock, tmp_path: Path) -> None:
    file = tmp_path / "checkpoints.jsonl"
    fill(store, 3, clock)
    assert checkpoints.write(store, file, DEV, last=None) is not None
    fill(store, 2, clock)
    recompute(store, None, None)  # the whole chain as if written before audit keys
    report = audit.verify(store, checkpoint_file=file)
    assert report.broken_seq == 3 and "is not the entry the checkpoint at" in (report.problem or "")
    assert "the chain was rewritten" in (report.problem or "")


def test_a_cut_and_rewound_log_fails_after_a_checkpoint(store: sqlalchemy.Engine, clock: Clock, tmp_path: Path) -> None:
    file = tmp_path / "checkpoints.jsonl"
    fill(store, 5, clock)
    checkpoints.write(store, file, DEV, last=None)
    fill(store, 2, clock)
    rewind(store, 3)
    assert audit.verify(store).ok  # the chain alone is consistent: what the old code reported
    report = audit.verify(store, checkpoint_file=file)
    assert report.broken_seq == 4 and report.count == 3
    assert "the log ends at entry 3 but a checkpoint at" in (report.problem or "")
    assert "saw entry 5: the end was cut off" in (report.problem or "")


def test_a_cut_log_written_on_fails_at_the_checkpoint(store: sqlalchemy.Engine, clock: Clock, tmp_path: Path) -> None:
    file = tmp_path / "checkpoints.jsonl"
    fill(store, 5, clock)
    checkpoints.write(store, file, DEV, last=None)
    rewind(store, 3)
    fill(store, 3, clock)  # the application goes on writing after the cut
    report = audit.verify(store, checkpoint_file=file)
    assert report.broken_seq == 5 and "is not the entry the checkpoint" in (report.problem or "")


def test_entries_after_the_newest_checkpoint_can_be_cut_unseen(
    store: sqlalchemy.Engine, clock: Clock, tmp_path: Path
) -> None:
    """The residual window docs/security.md states: what was written since the newest checkpoint."""
    file = tmp_path / "checkpoints.jsonl"
    fill(store, 4, clock)
    checkpoints.write(store, file, DEV, last=None)
    fill(store, 2, clock)
    rewind(store, 4)
    report = audit.verify(store, checkpoint_file=file)
    assert report.ok and report.count == 4 and report.checkpoints == 1
    assert report.latest is not None and report.latest.seq == 4


def _edit(line: str, **changes: object) -> str:
    return json.dumps({**json.loads(line), **changes})


@pytest.mark.parametrize(
    ("forge", "problem"),
    [
        (lambda good: _edit(good, seq=9), "checkpoint on line 2 of"),
        (lambda good: _edit(good, entry_hash="0" * 64), "has a bad signature (it was forged or edited)"),
        (lambda good: _edit(good, at="2020-01-01T00:00:00+00:00"), "has a bad signature"),
        (lambda good: Checkpoint.make(9, "0" * 64, OTHER).line(), f"audit key `{OTHER.active_id}`"),
        (lambda good: good[:-5], "line 2 of the checkpoint file"),
        (lambda good: json.dumps({**json.loads(good), "seq": True}), "is not a checkpoint"),
    ],
    ids=["seq", "entry-hash", "time", "other-key", "truncated", "wrong-type"],
)
def test_a_forged_or_edited_checkpoint_fails(
    sqlite_store: sqlalchemy.Engine, clock: Clock, tmp_path: Path, forge: object, problem: str
) -> None:
    file = tmp_path / "checkpoints.jsonl"
    fill(sqlite_store, 3, clock)
    first = checkpoints.write(sqlite_store, file, DEV, last=None)
    assert first is not None and callable(forge)
    with file.open("a") as f:
        f.write(forge(first.line()) + "\n")
    report = audit.verify(sqlite_store, checkpoint_file=file)
    assert not report.ok and problem in (report.problem or "") and report.broken_seq is None


def test_entries_from_before_audit_keys_only_as_a_vouched_prefix(
    store: sqlalchemy.Engine, clock: Clock, tmp_path: Path
) -> None:
    file = tmp_path / "checkpoints.jsonl"
    fill(store, 3, clock)
    recompute(store, None, None)  # a log written before migration 0005: plain SHA-256, no key ids
    assert "no checkpoint vouches for them" in (audit.verify(store, checkpoint_file=file).problem or "")
    checkpoints.write(store, file, DEV, last=None)  # `lingxi audit checkpoint` once after the upgrade
    fill(store, 2, clock)
    report = audit.verify(store, checkpoint_file=file)
    assert report.ok and report.count == 5 and report.unkeyed == 3
    recompute(store, None, None, start=5)  # a keyless entry after keyed ones
    report = audit.verify(store, checkpoint_file=file)
    assert report.broken_seq == 5 and "has no audit key but comes after keyed entries" in (report.problem or "")


def test_rotated_keys_verify_under_the_key_each_entry_names(sqlite_store: sqlalchemy.Engine, clock: Clock) -> None:
    fill(sqlite_store, 2, clock)
    both = Keys(OTHER.active_id, {**DEV.secrets, **OTHER.secrets})
    audit.bind_keys(sqlite_store, both)
    fill(sqlite_store, 2, clock)
    assert [e.key_id for e in entries(sqlite_store)] == [DEV.active_id] * 2 + [OTHER.active_id] * 2
    assert audit.verify(sqlite_store).ok
    report = audit.verify(sqlite_store, OTHER)
    assert report.broken_seq == 1 and DEV.active_id in (report.problem or "")


def test_an_unbound_store_is_refused_outside_the_test_environment(
    sqlite_store: sqlalchemy.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINGXI_ENVIRONMENT", "production")
    with pytest.raises(ConfigError, match="no audit key is bound to this store"):
        audit.record(sqlite_store, Action.LOGIN, RM)
    assert entries(sqlite_store) == []  # the transaction was rolled back: no unsigned entry
    audit.bind_keys(sqlite_store, lambda: OTHER)  # resolved on first use, as the CLI binds them
    audit.record(sqlite_store, Action.LOGIN, RM)
    assert [e.key_id for e in entries(sqlite_store)] == [OTHER.active_id]
    assert audit.verify(sqlite_store).ok


def test_checkpoint_file_lines_and_mode(sqlite_store: sqlalchemy.Engine, clock: Clock, tmp_path: Path) -> None:
    file = tmp_path / "audit" / "checkpoints.jsonl"
    assert checkpoints.write(sqlite_store, file, DEV, last=None) is None  # an empty log has no head to keep
    fill(sqlite_store, 2, clock)
    first = checkpoints.write(sqlite_store, file, DEV, last=None)
    assert first is not None and checkpoints.write(sqlite_store, file, DEV, last=first) is None  # head unmoved
    assert checkpoints.last(file) == first and first.problem(DEV) is None
    doc = json.loads(file.read_text())
    assert set(doc) == {"seq", "entry_hash", "at", "key_id", "signature"} and doc["seq"] == 2
    assert doc["entry_hash"] == entries(sqlite_store)[-1].entry_hash
    if os.name == "posix":
        assert stat.S_IMODE(file.stat().st_mode) == 0o600


def test_checkpointer_writes_while_the_head_moves_and_on_stop(
    sqlite_store: sqlalchemy.Engine, clock: Clock, tmp_path: Path
) -> None:
    file = tmp_path / "checkpoints.jsonl"
    checkpointer = Checkpointer(sqlite_store, file, DEV, interval=0.02)
    checkpointer.start()
    try:
        fill(sqlite_store, 2, clock)
        deadline = time.monotonic() + 10
        while (checkpoints.last(file) or Checkpoint(0, "", "", "", "")).seq < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        seen = [c.seq for c in checkpoints.load(file, DEV)[0]]
        time.sleep(0.1)  # several ticks with the head still: nothing more is written
        assert seen[-1] == 2 and [c.seq for c in checkpoints.load(file, DEV)[0]] == seen
        fill(sqlite_store, 1, clock)
    finally:
        checkpointer.stop()
    marks, problem = checkpoints.load(file, DEV)
    assert problem is None and [c.seq for c in marks] == [*seen, 3]  # by a tick or by the stop
    assert audit.verify(sqlite_store, checkpoint_file=file).ok
