"""The audit log: append-only, hash-chained with a key, with values encoded so they cannot forge entries.

Each entry stores `entry_hash = HMAC-SHA256(audit key, prev_hash + canonical_json(entry))` and the id of
that key (which the canonical JSON includes, so it cannot be swapped), with the first entry chained to 64
zeros; lingxi.auth.chain says where the key comes from. One row in `lx_audit_head` holds the last
sequence number and hash. An append first UPDATEs that row, which takes its row lock on PostgreSQL and
the write lock on SQLite before anything is read, so concurrent appends (threads or processes) queue up
and the chain never forks. `verify` walks the chain and names the first entry that was changed, removed,
or cut off the end, and checks the signed checkpoints kept outside the database (lingxi.auth.checkpoints)
so a chain that was recomputed, or cut and rewound, is found too.

What is recorded (COMPLIANCE.md R25, ASVS 7.1–7.3): actor, role, branch, action, target (a customer id,
a username...), the names of the fields touched, purpose or reason, result and time (UTC) — never the
values of personal fields, passwords or tokens. Free text (reason, detail) passes `redact_identifiers`
as a second line of defence, and every text value is encoded (control characters escaped) so a newline
or a JSON fragment in a value stays inside that value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from lingxi import registry
from lingxi.auth import checkpoints
from lingxi.auth.chain import GENESIS_HASH as GENESIS_HASH  # re-exported: the audit API in one place
from lingxi.auth.chain import bind_keys as bind_keys
from lingxi.auth.chain import canonical_json as canonical_json
from lingxi.auth.chain import chain_hash as chain_hash
from lingxi.auth.chain import keys_for, same
from lingxi.auth.checkpoints import Checkpoint
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.auth.tables import AuditEntry, AuditHead
from lingxi.keys import Keys
from lingxi.redaction import redact_identifiers


class Action(StrEnum):
    """What an audit entry records: the core actions. Capabilities declare theirs (`Capability.audit_actions`)."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    ACCESS_DENIED = "access_denied"
    CUSTOMER_READ = "customer_read"
    UNMASK = "unmask"
    EXPORT = "export"
    DEFINITION_CHANGE = "definition_change"
    APPROVAL = "approval"
    CONSENT_CHANGE = "consent_change"
    USER_CHANGE = "user_change"
    TOKEN_CHANGE = "token_change"
    AUDIT_READ = "audit_read"
    DATA_SUBJECT_REQUEST = "data_subject_request"


def known_actions() -> list[str]:
    """Every action an entry may record: the core ones, then those capabilities declare."""
    return [*(a.value for a in Action), *registry.audit_actions()]


def _action(value: Action | str) -> str:
    if str(value) not in known_actions():
        raise ValueError(f"unknown audit action `{value}`; declare it in the capability's `audit_actions`")
    return str(value)


_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_ESCAPE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def encode_text(value: str | None, limit: int) -> str | None:
    """`value` with backslashes and control characters escaped and cut to `limit` characters.

    After encoding an entry is always one line and its text cannot close a field or start another
    (ASVS 7.3.1); the escaping is reversible, so nothing is lost for an investigator.
    """
    if value is None:
        return None
    encoded = _ESCAPE.sub(lambda m: _SHORT_ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), str(value))
    return encoded if len(encoded) <= limit else encoded[: limit - 1] + "…"


@dataclass(frozen=True)
class Entry:
    """An audit entry as read back."""

    seq: int
    at: datetime
    actor: str
    role: str | None
    branch_id: str | None
    action: str
    target: str | None
    fields: tuple[str, ...]
    reason: str | None
    result: str
    detail: str | None
    prev_hash: str
    entry_hash: str
    key_id: str | None = None  # the audit key of the HMAC; None: plain SHA-256, written before audit keys

    def canonical(self) -> str:
        return canonical_json(_content(self))

    def as_dict(self) -> dict[str, Any]:
        return {**_content(self), "prev_hash": self.prev_hash, "entry_hash": self.entry_hash}


def _content(e: Entry | AuditEntry) -> dict[str, Any]:
    """What the hash covers; `key_id` only for keyed entries, so entries from before audit keys still match."""
    content = {
        "seq": e.seq,
        "at": e.at.isoformat(timespec="microseconds"),
        "actor": e.actor,
        "role": e.role,
        "branch_id": e.branch_id,
        "action": e.action,
        "target": e.target,
        "fields": list(e.fields),
        "reason": e.reason,
        "result": e.result,
        "detail": e.detail,
    }
    return content if e.key_id is None else {**content, "key_id": e.key_id}


@dataclass(frozen=True)
class Who:
    """The actor columns of an entry: a username (or `cli:<os user>`), and their role and branch if known."""

    actor: str
    role: str | None = None
    branch_id: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Who:
        """A principal as an actor; a token shows as `username/token:<id>`."""
        actor = principal.username if principal.token_id is None else f"{principal.username}/token:{principal.token_id}"
        return cls(actor, principal.role.value, principal.branch_id)


def append(
    conn: Connection,
    action: Action | str,
    who: Who,
    *,
    target: str | None = None,
    fields: Iterable[str] = (),
    reason: str | None = None,
    result: str = "ok",
    detail: str | None = None,
    now: datetime | None = None,
) -> int:
    """Append one entry inside the caller's transaction (so an action and its audit commit together).

    Returns the entry's sequence number. Raises ValueError for an unknown action or a field name that
    is not an identifier (field names, never field values, are what the log holds); ConfigError when no
    audit key is bound to the store outside the test environment (lingxi.auth.chain).
    """
    keys = keys_for(conn.engine)
    action = _action(action)
    names = tuple(fields)
    bad = [n for n in names if not _FIELD_NAME.match(n)]
    if bad:
        raise ValueError(f"audit fields must be field names, got {bad!r}")
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    # UPDATE first: it takes the lock before the head is read, so no other append can read the same head.
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    seq, prev_hash = conn.execute(select(AuditHead.seq, AuditHead.last_hash).where(AuditHead.id == 1)).one()
    row = AuditEntry(
        seq=seq,
        at=at,
        actor=encode_text(who.actor, 128) or "",
        role=encode_text(who.role, 32),
        branch_id=encode_text(who.branch_id, 64),
        action=action,
        target=encode_text(target, 256),
        fields=list(names),
        reason=encode_text(redact_identifiers(reason) if reason else reason, 512),
        result=encode_text(result, 32) or "",
        detail=encode_text(redact_identifiers(detail) if detail else detail, 1024),
        prev_hash=prev_hash,
        entry_hash="",
        key_id=keys.active_id,
    )
    row.entry_hash = chain_hash(prev_hash, canonical_json(_content(row)), keys.active)
    values = {c.key: getattr(row, c.key) for c in AuditEntry.__table__.columns}
    conn.execute(insert(AuditEntry).values(**values))
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=row.entry_hash))
    return int(seq)


def record(store: Engine, action: Action | str, who: Who | Principal, **kwargs: Any) -> int:
    """Append one entry in its own transaction; see `append` for the arguments."""
    with store.begin() as conn:
        return append(conn, action, who if isinstance(who, Who) else Who.of(who), **kwargs)


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` found: how many entries and checkpoints, and the first problem if any."""

    count: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None
    checkpoints: int = 0  # checkpoints checked
    latest: Checkpoint | None = None  # the checkpoint that saw the furthest entry
    unkeyed: int = 0  # entries from before audit keys (plain SHA-256), all at the start

    @property
    def ok(self) -> bool:
        return self.problem is None


def _entry(row: Any) -> Entry:
    """An Entry from a result row of `select(AuditEntry)` run on a Connection (column attributes)."""
    return Entry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        role=row.role,
        branch_id=row.branch_id,
        action=row.action,
        target=row.target,
        fields=tuple(row.fields or ()),
        reason=row.reason,
        result=row.result,
        detail=row.detail,
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
        key_id=row.key_id,
    )


def _all_entries(store: Engine, batch: int = 5_000) -> Iterator[Entry]:
    last = 0
    while True:
        with store.connect() as conn:
            rows = conn.execute(
                select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
            ).all()
        if not rows:
            return
        for row in rows:
            yield _entry(row)
        last = rows[-1].seq


def verify(store: Engine, keys: Keys | None = None, *, checkpoint_file: Path | None = None) -> VerifyReport:
    """Walk the chain from the first entry; report the first entry that was edited, removed or cut off.

    Each entry is checked under the audit key its key_id names (`keys`, by default those bound to the
    store). With `checkpoint_file`, every checkpoint's signature is checked, the entry each one saw must
    still be there unchanged (a recomputed chain is not), and the log must not end before the newest.
    Entries without a key (from before audit keys) must come first, and a checkpoint must vouch for them.
    """
    keys = keys or keys_for(store)
    marks, problem = checkpoints.load(checkpoint_file, keys) if checkpoint_file else ([], None)
    if problem:
        return VerifyReport(0, GENESIS_HASH, None, problem)
    by_seq: dict[int, list[Checkpoint]] = {}
    for mark in marks:
        by_seq.setdefault(mark.seq, []).append(mark)
    latest = max(marks, key=lambda m: m.seq, default=None)
    walk = _Walk(keys, by_seq)
    for e in _all_entries(store):
        if problem := walk.step(e):
            return walk.broken(problem)
    count, running = walk.count, walk.running
    head_seq, head_hash = checkpoints.head(store)
    if head_seq != count or head_hash != running:
        return walk.broken(f"the log ends at entry {count} but {head_seq} were written (end deleted)")
    if latest is not None and latest.seq > count:
        return walk.broken(
            f"the log ends at entry {count} but a checkpoint at {latest.at} saw entry {latest.seq}: the end was cut off"
        )
    if walk.unkeyed and (latest is None or latest.seq < walk.unkeyed):
        # a chain recomputed with plain SHA-256 and no key ids would look just like entries from before audit keys
        return VerifyReport(
            count,
            running,
            None,
            f"entries 1 to {walk.unkeyed} have no audit key and no checkpoint vouches for them; if they were "
            "written before audit keys (migration 0005), run `lingxi audit checkpoint` once to vouch for them",
        )
    return VerifyReport(count, running, checkpoints=len(marks), latest=latest, unkeyed=walk.unkeyed)


class _Walk:
    """The chain walked so far: how many entries hold, the last hash, how many of them are unkeyed."""

    def __init__(self, keys: Keys, marks: dict[int, list[Checkpoint]]) -> None:
        self.keys, self.marks = keys, marks
        self.count, self.running, self.unkeyed = 0, GENESIS_HASH, 0

    def step(self, e: Entry) -> str | None:
        """The problem with the next entry `e`, or None (and `e` joins the entries that hold)."""
        if e.seq != self.count + 1:
            return f"entry {self.count + 1} is missing (deleted)"
        if e.prev_hash != self.running:
            return f"entry {e.seq} does not follow entry {e.seq - 1}"
        if e.key_id is None and self.unkeyed < self.count:
            return f"entry {e.seq} has no audit key but comes after keyed entries (its hash was recomputed)"
        secret = None if e.key_id is None else self.keys.secrets.get(e.key_id)
        if e.key_id is not None and secret is None:
            return f"entry {e.seq} is signed with audit key `{e.key_id}`, which is not in the keyring"
        if not same(chain_hash(e.prev_hash, e.canonical(), secret), e.entry_hash):
            return f"entry {e.seq} was changed (its hash does not match it)"
        for mark in self.marks.get(e.seq, ()):
            if not same(mark.entry_hash, e.entry_hash):
                return f"entry {e.seq} is not the entry the checkpoint at {mark.at} saw (the chain was rewritten)"
        self.count, self.running = self.count + 1, e.entry_hash
        self.unkeyed += e.key_id is None
        return None

    def broken(self, problem: str) -> VerifyReport:
        """The report of a walk that stopped: every entry before the next one holds."""
        return VerifyReport(self.count, self.running, self.count + 1, problem)


@dataclass(frozen=True)
class AuditQuery:
    """Filters for reading the log, newest first. `before_seq` pages backwards."""

    actor: str | None = None
    action: Action | str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    limit: int = 100


def search(store: Engine, q: AuditQuery) -> list[Entry]:
    """Entries matching `q`, newest first. No permission check: for the CLI and `query`."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(max(1, min(q.limit, 1000)))
    if q.actor is not None:
        stmt = stmt.where(AuditEntry.actor == q.actor)
    if q.action is not None:
        stmt = stmt.where(AuditEntry.action == _action(q.action))
    if q.target is not None:
        stmt = stmt.where(AuditEntry.target == q.target)
    if q.since is not None:
        stmt = stmt.where(AuditEntry.at >= q.since.astimezone(UTC).replace(tzinfo=None))
    if q.until is not None:
        stmt = stmt.where(AuditEntry.at < q.until.astimezone(UTC).replace(tzinfo=None))
    if q.before_seq is not None:
        stmt = stmt.where(AuditEntry.seq < q.before_seq)
    with store.connect() as conn:
        return [_entry(row) for row in conn.execute(stmt).all()]


def query(store: Engine, principal: Principal, q: AuditQuery) -> list[Entry]:
    """`search` for a principal holding `audit:read` (the auditor, compliance); the read is itself audited."""
    principal.require(Permission.AUDIT_READ)
    found = search(store, q)
    filters = {k: v for k, v in vars(q).items() if v is not None and k != "limit"}
    record(store, Action.AUDIT_READ, principal, detail=json.dumps(filters, default=str, sort_keys=True))
    return found


@dataclass(frozen=True)
class Page:
    """One page of the log for a reader, and the sequence number to pass as `before_seq` for the next one."""

    entries: list[Entry]
    next_before_seq: int | None


def read_page(store: Engine, principal: Principal, q: AuditQuery) -> Page:
    """`query` as the console and the API page through it: newest first, `next_before_seq` while more remain."""
    entries = query(store, principal, q)
    more = len(entries) == q.limit and entries[-1].seq > 1
    return Page(entries, entries[-1].seq if more else None)
