"""Sign-in under attack (issue 10, F1-F3): no connection held while hashing, a lock-out concurrent guesses cannot
pass, bounded back-off, and no typed name in the audit log. On SQLite and PostgreSQL.

Concurrency is real (threads released together by a barrier); where an interleaving matters, the password check
is made to wait for it, so the outcome does not depend on timing.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy

from lingxi.auth import AuthenticationFailed, audit, service

from .conftest import FAST, PASSWORD, Clock

WRONG = "wrong password!"


def add(store: sqlalchemy.Engine, name: str = "alice") -> None:
    service.create_user(store, name, PASSWORD, "branch_rm", by="test", branch_id="BR-A", policy=FAST)


def attempt(store: sqlalchemy.Engine, clock: Clock, password: str, name: str = "alice") -> bool:
    try:
        service.authenticate(store, name, password, policy=FAST, now=clock())
    except AuthenticationFailed:
        return False
    return True


def results(store: sqlalchemy.Engine) -> Counter[str]:
    return Counter(e.result for e in audit.search(store, audit.AuditQuery(action="login_failed", limit=1000)))


def wrap_verify(monkeypatch: pytest.MonkeyPatch, before: Callable[[str], None]) -> None:
    real = service._verify

    def verify(stored: str, password: str, policy: object) -> bool:
        before(password)
        return real(stored, password, policy)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_verify", verify)


def test_no_database_connection_is_held_while_the_password_is_hashed(
    store: sqlalchemy.Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(store)
    held: list[int] = []
    wrap_verify(monkeypatch, lambda _: held.append(store.pool.checkedout()))  # type: ignore[attr-defined]
    assert attempt(store, clock, PASSWORD)
    assert not attempt(store, clock, WRONG)
    assert held == [0, 0]


def test_concurrent_guesses_lock_once_and_the_right_password_is_never_taken_after_the_lock(
    store: sqlalchemy.Engine, clock: Clock
) -> None:
    add(store)
    passwords = [WRONG] * 24 + [PASSWORD]
    barrier = threading.Barrier(len(passwords))

    def go(password: str) -> bool:
        barrier.wait()
        return attempt(store, clock, password)

    with ThreadPoolExecutor(len(passwords)) as pool:
        outcomes = list(pool.map(go, passwords))
    assert not any(outcomes[:24])
    counted = results(store)
    assert counted["locked_now"] == 1  # exactly one lock, however the guesses interleave
    lock = audit.search(store, audit.AuditQuery(action="login_failed", limit=1000))
    lock_seq = next(e.seq for e in lock if e.result == "locked_now")
    logins = audit.search(store, audit.AuditQuery(action="login"))
    if outcomes[-1]:  # accepted only if it came before the lock: then it reset the count, and 5 more locked
        assert [e.seq for e in logins] and logins[0].seq < lock_seq
    else:
        assert not logins
    assert counted["bad_password"] + counted["locked_now"] <= 4 + 5
    assert service.get_user(store, "alice").locked_until is not None


def test_a_success_never_clears_a_lock_set_while_its_password_was_hashed(
    store: sqlalchemy.Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(store)
    wrong_done = threading.Event()
    wrap_verify(monkeypatch, lambda pw: wrong_done.wait(10) if pw == PASSWORD else None)
    with ThreadPoolExecutor(1) as pool:
        right = pool.submit(attempt, store, clock, PASSWORD)  # read the account before the lock, now hashing
        for _ in range(24):
            assert not attempt(store, clock, WRONG)
        until = service.get_user(store, "alice").locked_until
        wrong_done.set()
        assert right.result() is False  # refused: the lock is checked again after the hash
    user = service.get_user(store, "alice")
    assert user.locked_until == until and until is not None  # and still in force
    counted = results(store)
    assert counted["locked_now"] == 1 and counted["bad_password"] == 4
    assert counted["locked"] == 19 + 1  # the 19 guesses after the lock, and the right password


def test_back_off_is_capped_and_a_success_after_the_lock_resets_it(store: sqlalchemy.Engine, clock: Clock) -> None:
    add(store)
    lengths = []
    for _ in range(6):
        for _ in range(FAST.lockout_threshold):
            attempt(store, clock, WRONG)
        until = service.get_user(store, "alice").locked_until
        assert until is not None
        lengths.append(until - clock().replace(tzinfo=None))
        clock.now = until.replace(tzinfo=clock.now.tzinfo)
    assert lengths[:3] == [FAST.lockout_base, 2 * FAST.lockout_base, FAST.lockout_max]
    assert max(lengths) == FAST.lockout_max  # never longer, however long the attack goes on
    assert attempt(store, clock, PASSWORD)  # the lock has ended
    for _ in range(FAST.lockout_threshold):
        attempt(store, clock, WRONG)
    until = service.get_user(store, "alice").locked_until
    assert until is not None and until - clock().replace(tzinfo=None) == FAST.lockout_base  # back to the first


def test_unlock_ends_a_lock_and_resets_the_back_off(store: sqlalchemy.Engine, clock: Clock) -> None:
    add(store)
    for _ in range(FAST.lockout_threshold):
        attempt(store, clock, WRONG)
    assert not attempt(store, clock, PASSWORD)
    info = service.unlock_user(store, "alice", by="cli:ops", now=clock())
    assert info.locked_until is None
    assert attempt(store, clock, PASSWORD)
    [entry] = audit.search(store, audit.AuditQuery(action=audit.Action.USER_CHANGE, actor="cli:ops"))
    assert (entry.target, entry.detail) == ("alice", "unlocked")


SECRETS = {
    "password": "Tr0ub4dor&3-secret",
    "mobile": "13812345678",
    "id_number": "110101199003074578",
    "name with spaces": "my secret passphrase",
}


@pytest.mark.parametrize("typed", list(SECRETS.values()), ids=list(SECRETS))
def test_a_failed_sign_in_never_stores_the_typed_name(store: sqlalchemy.Engine, clock: Clock, typed: str) -> None:
    add(store)
    assert not attempt(store, clock, PASSWORD, name=typed)
    assert not attempt(store, clock, WRONG, name="alice")  # a known name is recorded as such
    rows = audit.search(store, audit.AuditQuery(limit=1000))
    text = "\n".join(" ".join(str(v) for v in (r.actor, r.target, r.reason, r.detail)) for r in rows)
    assert typed.lower() not in text.lower() and typed not in text
    failed = [r for r in rows if r.action == "login_failed"]
    unknown = next(r for r in failed if r.result == "unknown_user")
    assert unknown.actor.startswith("unknown:") and unknown.target == unknown.actor
    assert any(r.actor == "alice" and r.target == "alice" for r in failed)
    # the same name under the same key gives the same entry, so repeated attempts can be told apart
    assert (
        service.name_digest(typed, "k1") == service.name_digest(typed.upper(), "k1") != service.name_digest(typed, "k2")
    )
