"""One writer per lake dataset: a file lock that loads, rollbacks, replacements, compaction and erasures take.

Appends alone could run side by side (each adds its folder to whatever version is current), but a
rewrite reads a version and publishes what it computed from it: a load published meanwhile would be
dropped by a compaction, or bring an erased customer back after an erasure. So every writer of a dataset
holds `<lake>/_locks/<dataset>.lock` while it works, and `Lake.publish(expected_version=...)` refuses a
rewrite whose base moved anyway (a writer that does not take the lock).

The lock is an advisory `flock`: the kernel drops it when its process ends, so a crashed load never
leaves the dataset locked. It is re-entrant within a thread (a rollback re-applies corrections under the
lock it holds). Another process, or another thread, waits up to `wait` seconds, then gets a StoreError
that names who holds the lock and since when. It covers processes on one machine (the lake's file
system); several machines writing one lake need a lock service instead (docs/loading.md#one-writer-per-dataset).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from lingxi.errors import StoreError

LOCKS = "_locks"
_held = threading.local()  # the lock paths this thread holds


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    try:
        info = json.loads(handle.read() or "{}")
    except ValueError:
        return "another writer"
    return f"{info.get('doing', 'a writer')} (pid {info.get('pid')} on {info.get('host')}, since {info.get('since')})"


@contextmanager
def dataset_lock(root: Path, dataset: str, doing: str, *, wait: float = 30.0) -> Iterator[None]:
    """Hold the writer lock of `dataset` under the lake `root` while the block runs; `doing` names the work."""
    path = Path(root) / LOCKS / f"{dataset}.lock"
    held: set[str] = _held.__dict__.setdefault("locks", set())
    key = str(path)
    if key in held:  # this thread holds it already: the outer block releases it
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"`{dataset}` is being written by {_holder(handle)}; waited {wait:.0f} s",
                        hint="run the command again when that writer has finished (one writer per dataset)",
                    ) from None
                time.sleep(0.05)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"doing": doing, "pid": os.getpid(), "host": socket.gethostname(), "since": stamp}))
        handle.flush()
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()
