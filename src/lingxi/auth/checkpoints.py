"""Signed checkpoints of the audit chain's head, kept outside the database.

The keyed chain (lingxi.auth.chain) stops someone without the audit key from recomputing the chain,
but not from cutting entries off its end and rewinding `lx_audit_head`: what is left is still a valid
chain. A checkpoint records the head (sequence number and entry hash) at a moment, signed with the
audit key, in a file outside the database (LINGXI_AUDIT_CHECKPOINT_FILE, one JSON line each, mode 600),
which a SIEM can tail or read with `lingxi audit checkpoints`. `audit.verify` then checks that the entry
each checkpoint saw is still there, unchanged, so the log cannot end before the newest checkpoint.

Checkpoints are written by the server every LINGXI_AUDIT_CHECKPOINT_SECONDS while the head moves and
when it stops (`Checkpointer`), by `lingxi audit checkpoint` and by CLI commands that wrote audit
entries. Each one is flushed and fsynced once; appends to the log itself never are, so the 360's audit
writes stay cheap. Entries written after the newest checkpoint can still be cut without a trace: the
interval bounds that window.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from lingxi.auth.chain import canonical_json, same, sign
from lingxi.auth.tables import AuditHead
from lingxi.keys import Keys

log = logging.getLogger(__name__)

_FIELDS = {"seq": int, "entry_hash": str, "at": str, "key_id": str, "signature": str}


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at a moment (`at`, UTC, ISO 8601), signed with the audit key `key_id`."""

    seq: int
    entry_hash: str
    at: str
    key_id: str
    signature: str

    @classmethod
    def make(cls, seq: int, entry_hash: str, keys: Keys, now: datetime | None = None) -> Checkpoint:
        at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
        content = {"seq": seq, "entry_hash": entry_hash, "at": at, "key_id": keys.active_id}
        return cls(seq, entry_hash, at, keys.active_id, sign(keys.active, content))

    @classmethod
    def parse(cls, line: str) -> Checkpoint:
        """A checkpoint from its JSON line; ValueError when it is not one."""
        doc = json.loads(line)
        if not isinstance(doc, dict) or set(doc) != set(_FIELDS):
            raise ValueError("not a checkpoint")
        if any(type(doc[k]) is not t for k, t in _FIELDS.items()):  # exact types: True is no sequence number
            raise ValueError("a checkpoint field has the wrong type")
        return cls(doc["seq"], doc["entry_hash"], doc["at"], doc["key_id"], doc["signature"])

    def content(self) -> dict[str, Any]:
        """What the signature covers: everything but itself."""
        return {"seq": self.seq, "entry_hash": self.entry_hash, "at": self.at, "key_id": self.key_id}

    def line(self) -> str:
        return canonical_json({**self.content(), "signature": self.signature})

    def problem(self, keys: Keys) -> str | None:
        """Why the signature does not hold under `keys`, or None when it does."""
        secret = keys.secrets.get(self.key_id)
        if secret is None:
            return f"is signed with audit key `{self.key_id}`, which is not in the keyring"
        if not same(sign(secret, self.content()), self.signature):
            return "has a bad signature (it was forged or edited)"
        return None


def head(store: Engine) -> tuple[int, str]:
    """The chain's last sequence number and entry hash, as `lx_audit_head` holds them."""
    with store.connect() as conn:
        seq, last_hash = conn.execute(select(AuditHead.seq, AuditHead.last_hash).where(AuditHead.id == 1)).one()
    return int(seq), str(last_hash)


def append(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line, flushed and fsynced; the file is created readable and writable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (checkpoint.line() + "\n").encode("ascii"))  # one write: concurrent writers never interleave
        os.fsync(fd)
    finally:
        os.close(fd)


def write(
    store: Engine, path: Path, keys: Keys, *, last: Checkpoint | None, now: datetime | None = None
) -> Checkpoint | None:
    """Checkpoint the head unless it has not moved since `last` (or the log is empty); the new checkpoint."""
    seq, entry_hash = head(store)
    if seq == 0 or (last is not None and last.seq == seq and last.entry_hash == entry_hash):
        return None
    checkpoint = Checkpoint.make(seq, entry_hash, keys, now)
    append(path, checkpoint)
    return checkpoint


def lines(path: Path) -> Iterator[tuple[int, str]]:
    """The file's non-empty lines with their line numbers; none when there is no file yet."""
    if not path.exists():
        return
    with path.open(encoding="ascii", errors="replace") as f:
        for number, text in enumerate(f, start=1):
            if text.strip():
                yield number, text.strip()


def last(path: Path) -> Checkpoint | None:
    """The file's last checkpoint (read from its end), or None when it has none that parses."""
    if not path.exists():
        return None
    with path.open("rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
        tail = f.read().decode("ascii", "replace").strip().splitlines()
    try:
        return Checkpoint.parse(tail[-1]) if tail else None
    except ValueError:
        return None


def load(path: Path, keys: Keys) -> tuple[list[Checkpoint], str | None]:
    """Every checkpoint in the file with its signature checked; stops at the first bad line and says why."""
    found: list[Checkpoint] = []
    for number, text in lines(path):
        try:
            checkpoint = Checkpoint.parse(text)
        except ValueError:
            return found, f"line {number} of the checkpoint file {path} is not a checkpoint"
        problem = checkpoint.problem(keys)
        if problem:
            return found, f"checkpoint on line {number} of {path} {problem}"
        found.append(checkpoint)
    return found, None


class Checkpointer:
    """The server's checkpoints: one every `interval` seconds while the head moves, and one when it stops.

    A thread, not an asyncio task, because it talks to the database and fsyncs a file; a failure is
    logged and tried again at the next tick rather than stopping the server.
    """

    def __init__(self, store: Engine, path: Path, keys: Keys, interval: float) -> None:
        self.store, self.path, self.keys, self.interval = store, path, keys, interval
        self._last: Checkpoint | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._last = last(self.path)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lingxi-audit-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then checkpoint the head once more (shutdown)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.tick()

    def tick(self) -> Checkpoint | None:
        try:
            written = write(self.store, self.path, self.keys, last=self._last)
        except Exception:  # noqa: BLE001 - a checkpoint must never take the server down; the next tick retries
            log.exception("audit checkpoint not written to %s", self.path)
            return None
        if written is not None:
            self._last = written
        return written

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()
