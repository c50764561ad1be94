"""The audit log: append-only, hash-chained, with values encoded so they cannot forge entries.

Each entry stores `entry_hash = sha256(prev_hash + canonical_json(entry))`, with the first entry chained
to 64 zeros. One row in `lx_audit_head` holds the last sequence number and hash. An append first
UPDATEs that row, which takes its row lock on PostgreSQL and the write lock on SQLite before anything is
read, so concurrent appends (threads or processes) queue up and the chain never forks. `verify` walks
the chain and names the first entry that was changed, removed, or cut off the end.

What is recorded (COMPLIANCE.md R25, ASVS 7.1–7.3): actor, role, branch, action, target (a customer id,
a username...), the names of the fields touched, purpose or reason, result and time (UTC) — never the
values of personal fields, passwords or tokens. Free text (reason, detail) passes `redact_identifiers`
as a second line of defence, and every text value is encoded (control characters escaped) so a newline
or a JSON fragment in a value stays inside that value.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from lingxi import registry
from lingxi.auth.roles import Permission
from lingxi.auth.scope import Principal
from lingxi.auth.tables import AuditEntry, AuditHead
from lingxi.redaction import redact_identifiers

GENESIS_HASH = "0" * 64


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

    def canonical(self) -> str:
        return canonical_json(_content(self))

    def as_dict(self) -> dict[str, Any]:
        return {**_content(self), "prev_hash": self.prev_hash, "entry_hash": self.entry_hash}


def _content(e: Entry | AuditEntry) -> dict[str, Any]:
    return {
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


def canonical_json(content: dict[str, Any]) -> str:
    """Sorted keys, no spaces, ASCII only: the same bytes on every platform and database."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode("ascii")).hexdigest()


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
    is not an identifier (field names, never field values, are what the log holds).
    """
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
    )
    row.entry_hash = chain_hash(prev_hash, canonical_json(_content(row)))
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
    """What `verify` found: how many entries, and the first problem if any."""

    count: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None

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


def verify(store: Engine) -> VerifyReport:
    """Walk the chain from the first entry; report the first entry that was edited, removed or cut off."""
    expected_seq, running, count = 1, GENESIS_HASH, 0
    for e in _all_entries(store):
        if e.seq != expected_seq:
            return VerifyReport(count, running, expected_seq, f"entry {expected_seq} is missing (deleted)")
        if e.prev_hash != running:
            return VerifyReport(count, running, e.seq, f"entry {e.seq} does not follow entry {e.seq - 1}")
        if chain_hash(e.prev_hash, e.canonical()) != e.entry_hash:
            return VerifyReport(count, running, e.seq, f"entry {e.seq} was changed (its hash does not match it)")
        running, expected_seq, count = e.entry_hash, expected_seq + 1, count + 1
    with store.connect() as conn:
        head_seq, head_hash = conn.execute(select(AuditHead.seq, AuditHead.last_hash).where(AuditHead.id == 1)).one()
    if head_seq != count or head_hash != running:
        return VerifyReport(
            count, running, count + 1, f"the log ends at entry {count} but {head_seq} were written (end deleted)"
        )
    return VerifyReport(count, running)


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
