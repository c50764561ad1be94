"""Sign-in, lock-out with back-off, sessions (idle and absolute expiry), CSRF, accounts — on SQLite and PostgreSQL.

The clock is injected (`now=`); nothing sleeps.
"""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy
from sqlalchemy import text

from lingxi.auth import (
    AccountError,
    AuthenticationFailed,
    PasswordRejected,
    PermissionDenied,
    Role,
    SessionExpired,
    audit,
    service,
)
from lingxi.auth.passwords import hash_password, needs_rehash, verify_password
from lingxi.auth.roles import Permission
from lingxi.errors import NotFound

from .conftest import FAST, PASSWORD, Clock


def add(store: sqlalchemy.Engine, name: str = "alice", role: str = "branch_rm", **kw: object) -> None:
    service.create_user(store, name, PASSWORD, role, by="test", branch_id="BR-A", policy=FAST, **kw)  # type: ignore[arg-type]


def login(store: sqlalchemy.Engine, clock: Clock, name: str = "alice", password: str = PASSWORD) -> service.NewSession:
    return service.authenticate(store, name, password, policy=FAST, now=clock())


def test_password_hashing_is_salted_argon2id_and_upgrades() -> None:
    h1, h2 = hash_password(PASSWORD, FAST), hash_password(PASSWORD, FAST)
    assert h1.startswith("$argon2id$") and h1 != h2
    assert verify_password(h1, PASSWORD, FAST) and not verify_password(h1, PASSWORD + "x", FAST)
    assert not verify_password("not a hash", PASSWORD, FAST)
    assert not needs_rehash(h1, FAST) and needs_rehash(h1)  # production parameters are stronger


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short", "at least 12"), ("Alice.Example", "not be the username"), ("a" * 20, "repeat"), ("x" * 300, "at most")],
)
def test_password_policy_names_the_rule_never_the_password(password: str, problem: str) -> None:
    from lingxi.auth.passwords import check_password_policy

    with pytest.raises(PasswordRejected, match=problem) as info:
        check_password_policy(password, "alice.example")
    assert password not in str(info.value)


def test_create_user_validates_and_audits(store: sqlalchemy.Engine) -> None:
    add(store, display_name="Alice")
    with pytest.raises(AccountError, match="already exists"):
        add(store, "ALICE")  # usernames are case-insensitive
    with pytest.raises(AccountError, match="needs a branch"):
        service.create_user(store, "bob", PASSWORD, "branch_rm", by="test", policy=FAST)
    with pytest.raises(AccountError, match="unknown role"):
        service.create_user(store, "bob", PASSWORD, "root", by="test", policy=FAST)
    with pytest.raises(AccountError, match="not a valid username"):
        service.create_user(store, "b\nob", PASSWORD, "analyst", by="test", policy=FAST)
    [info] = service.list_users(store)
    assert (info.username, info.display_name, info.role, info.branch_id) == ("alice", "Alice", Role.BRANCH_RM, "BR-A")
    [entry] = audit.search(store, audit.AuditQuery(action=audit.Action.USER_CHANGE))
    assert (entry.actor, entry.target) == ("test", "alice")


def test_account_changes_by_a_principal_need_user_manage(store: sqlalchemy.Engine, clock: Clock) -> None:
    add(store, "rm.a")
    service.create_user(store, "root", PASSWORD, "admin", by="test", policy=FAST)
    rm = login(store, clock, "rm.a").info.principal
    admin = login(store, clock, "root").info.principal
    with pytest.raises(PermissionDenied, match="user:manage"):
        service.create_user(store, "eve", PASSWORD, "admin", by=rm, policy=FAST)
    service.create_user(store, "eve", PASSWORD, "auditor", by=admin, policy=FAST)
    [entry] = audit.search(store, audit.AuditQuery(actor="root", action=audit.Action.USER_CHANGE))
    assert (entry.role, entry.target) == ("admin", "eve")


def test_every_failure_looks_the_same_and_the_audit_log_knows_why(store: sqlalchemy.Engine, clock: Clock) -> None:
    add(store)
    add(store, "gone")
    service.disable_user(store, "gone", by="test")
    messages = set()
    for name, password in [("alice", "wrong password!"), ("nobody", PASSWORD), ("gone", PASSWORD), ("x", "y")]:
        with pytest.raises(AuthenticationFailed) as info:
            login(store, clock, name, password)
        messages.add(str(info.value))
    assert len(messages) == 1
    results = [e.result for e in audit.search(store, audit.AuditQuery(action=audit.Action.LOGIN_FAILED))]
    assert sorted(results) == ["bad_password", "disabled", "unknown_user", "unknown_user"]
    for entry in audit.search(store, audit.AuditQuery(limit=1000)):
        assert "wrong password" not in str(entry.as_dict()) and PASSWORD not in str(entry.as_dict())


def test_lockout_after_five_failures_then_doubling(store: sqlalchemy.Engine, clock: Clock) -> None:
    add(store)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            login(store, clock, password="wrong password!")
    with pytest.raises(AuthenticationFailed):  # locked: even the right password is refused
        login(store, clock)
    assert service.get_user(store, "alice").locked_until == clock().replace(tzinfo=None) + FAST.lockout_base
    clock.advance(minutes=15)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            login(store, clock, password="wrong password!")
    clock.advance(minutes=29)  # the second lock lasts 30 minutes
    with pytest.raises(AuthenticationFailed):
        login(store, clock)
    clock.advance(minutes=1)
    login(store, clock)  # unlocked; success resets the back-off
    user = service.get_user(store, "alice")
    assert user.locked_until is None and user.last_login_at is not None


def test_brute_force_gets_far_fewer_than_100_guesses_per_hour(store: sqlalchemy.Engine, clock: Clock) -> None:
    """ASVS 2.2.1: one guess every 30 s for an hour; count the guesses that were actually checked."""
    add(store)
    for _ in range(120):
        with pytest.raises(AuthenticationFailed):
            login(store, clock, password="guess guess guess")
        clock.advance(seconds=30)
    results = Counter(e.result for e in audit.search(store, audit.AuditQuery(action="login_failed", limit=1000)))
    checked = results["bad_password"] + results["locked_now"]
    assert checked == 15 and results["locked_now"] == 3 and checked <= 100


def test_session_idle_timeout(store: sqlalchemy.Engine, clock: Clock) -> None:
    add(store)
    new = login(store, clock)
    for _ in range(5):  # used every 29 minutes: stays open
        clock.advance(minutes=29)
        assert service.validate_session(store, new.secret, policy=FAST, now=clock()).principal.username == "alice"
    clock.advance(minutes=30, seconds=1)
    with pytest.raises(SessionExpired):
        service.validate_session(store, new.secret, policy=FAST, now=clock())
    clock.advance(minutes=-20)  # ended for good, even if the clock were wrong
    with pytest.raises(SessionExpired):
        service.validate_session(store, new.secret, policy=FAST, now=clock())


def test_session_absolute_timeout_despite_activity(store: sqlalchemy.Engine, clock: Clock) -> None:
    add(store)
    new = login(store, clock)
    for _ in range(35):  # every 20 minutes for 11 h 40 min
        clock.advance(minutes=20)
        service.validate_session(store, new.secret, policy=FAST, now=clock())
    clock.advance(minutes=20)  # 12 h after sign-in
    with pytest.raises(SessionExpired):
        service.validate_session(store, new.secret, policy=FAST, now=clock())
    assert audit.search(store, audit.AuditQuery(action=audit.Action.LOGOUT))[0].result == "absolute_timeout"


def test_new_secret_per_login_logout_invalidates_and_only_a_digest_is_stored(
    store: sqlalchemy.Engine, clock: Clock
) -> None:
    add(store)
    a, b = login(store, clock), login(store, clock)
    assert a.secret != b.secret and a.info.csrf_token != b.info.csrf_token
    with store.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT id FROM lx_session"))}
    assert a.secret not in stored and a.info.session_id in stored
    service.logout(store, a.secret, now=clock())
    service.logout(store, a.secret, now=clock())  # twice is fine
    with pytest.raises(SessionExpired):
        service.validate_session(store, a.secret, policy=FAST, now=clock())
    service.validate_session(store, b.secret, policy=FAST, now=clock())  # other sessions live on
    with pytest.raises(SessionExpired):
        service.validate_session(store, "guessed", policy=FAST, now=clock())


def test_csrf_token_is_checked(store: sqlalchemy.Engine, clock: Clock) -> None:
    add(store)
    info = login(store, clock).info
    service.check_csrf(info, info.csrf_token)
    for wrong in (None, "", info.csrf_token[:-1] + "x"):
        with pytest.raises(PermissionDenied, match="CSRF"):
            service.check_csrf(info, wrong)


def test_disable_and_reset_end_access_and_role_changes_apply_at_once(store: sqlalchemy.Engine, clock: Clock) -> None:
    add(store)
    new = login(store, clock)
    with store.begin() as conn:  # an administrator moves alice to head office (F21: no stale privilege)
        conn.execute(text("UPDATE lx_user SET role = 'analyst', branch_id = NULL WHERE username = 'alice'"))
    p = service.validate_session(store, new.secret, policy=FAST, now=clock()).principal
    assert p.role is Role.ANALYST and p.can(Permission.CUSTOMER_READ_ALL_BRANCHES)
    service.reset_password(store, "alice", "another long passphrase", by="test", policy=FAST)
    with pytest.raises(SessionExpired):
        service.validate_session(store, new.secret, policy=FAST, now=clock())
    with pytest.raises(AuthenticationFailed):
        login(store, clock)
    new = login(store, clock, password="another long passphrase")
    service.disable_user(store, "alice", by="test")
    with pytest.raises(SessionExpired):
        service.validate_session(store, new.secret, policy=FAST, now=clock())
    with pytest.raises(NotFound, match="no user `bob`"):
        service.disable_user(store, "bob", by="test")


def test_reset_clears_a_lockout(store: sqlalchemy.Engine, clock: Clock) -> None:
    add(store)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            login(store, clock, password="wrong password!")
    service.reset_password(store, "alice", "a brand new passphrase", by="test", policy=FAST)
    login(store, clock, password="a brand new passphrase")
