"""`lingxi user`, `lingxi token` and `lingxi audit` through CliRunner, on a small app that registers only them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
import typer
from typer.testing import CliRunner

from lingxi.auth import AuthenticationFailed, SessionExpired, audit, service
from lingxi.cli import audit as audit_cmd
from lingxi.cli import user as user_cmd
from lingxi.cli.context import STATE
from lingxi.keys import key_id
from lingxi.store import connect, migrate

from .conftest import rewind, tamper

app = typer.Typer()


@app.callback()
def _main() -> None:
    STATE.settings, STATE.data_dir, STATE.debug, STATE.keyring = None, None, False, None


user_cmd.register(app)
audit_cmd.register(app)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sqlalchemy.Engine]:
    data = tmp_path / "data"
    monkeypatch.setenv("LINGXI_DATA_DIR", str(data))
    monkeypatch.delenv("LINGXI_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    engine = connect(f"sqlite:///{(data / 'lingxi.db').resolve()}")
    migrate(engine)
    yield engine
    engine.dispose()


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=input)
    return result.exit_code, result.output


def test_user_lifecycle(store: sqlalchemy.Engine) -> None:
    code, out = run(
        "user",
        "add",
        "alice",
        "--role",
        "branch_rm",
        "--branch",
        "BR-A",
        "--password-stdin",
        input="a long passphrase\n",
    )
    assert code == 0 and "created alice (branch_rm, branch BR-A)" in out
    code, out = run("user", "add", "bob", "--role", "auditor", "--display-name", "Bob", input="bob passphrase!\n" * 2)
    assert code == 0, out
    code, out = run("user", "add", "carol", "--role", "analyst", "--password-stdin", input="tiny-pw\n")
    assert code == 1 and "at least 12 characters" in out and "tiny-pw" not in out
    code, out = run("user", "add", "dave", "--role", "branch_rm", "--password-stdin", input="a long passphrase\n")
    assert code == 1 and "needs a branch" in out and "--branch" in out
    assert run("user", "add", "eve", "--role", "root", "--password-stdin", input="x\n")[0] == 2  # Typer's own check
    code, out = run("user", "list")
    assert code == 0 and "alice" in out and "Bob" in out and "auditor" in out
    service.authenticate(store, "alice", "a long passphrase")
    assert run("user", "reset", "alice", "--password-stdin", input="another passphrase\n")[0] == 0
    service.authenticate(store, "alice", "another passphrase")
    code, out = run("user", "disable", "alice")
    assert code == 0 and "disabled alice" in out
    with pytest.raises(AuthenticationFailed):
        service.authenticate(store, "alice", "another passphrase")
    code, out = run("user", "disable", "zed")
    assert code == 1 and "no user `zed`" in out and "lingxi user list" in out


def test_token_issue_prints_the_secret_once_and_revoke_ends_it(store: sqlalchemy.Engine) -> None:
    run("user", "add", "app", "--role", "approver", "--password-stdin", input="a long passphrase\n")
    code, out = run("token", "issue", "app", "--scope", "consent:write", "--expires-days", "30", "--name", "mobile")
    assert code == 0, out
    secret = out.strip().splitlines()[-1]
    principal = service.validate_token(store, secret)
    assert principal.username == "app" and [p.value for p in principal.permissions] == ["consent:write"]
    code, out = run("token", "list")
    assert principal.token_id in out and secret not in out
    code, out = run("token", "issue", "app", "--scope", "user:manage")
    assert code == 1 and "does not hold `user:manage`" in out
    assert run("token", "revoke", principal.token_id or "")[0] == 0
    with pytest.raises(SessionExpired):
        service.validate_token(store, secret)


def test_audit_verify_and_tail(store: sqlalchemy.Engine) -> None:
    code, out = run("audit", "verify")
    assert code == 0 and "intact 0 audit entries" in out
    for name in ("alice", "bob"):
        run("user", "add", name, "--role", "analyst", "--password-stdin", input="a long passphrase\n")
    code, out = run("audit", "verify")
    assert code == 0 and "intact 2 audit entries" in out
    code, out = run("audit", "tail", "--json")
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert [(e["seq"], e["action"], e["target"]) for e in lines] == [
        (1, "user_change", "alice"),
        (2, "user_change", "bob"),
    ]
    code, out = run("audit", "tail", "--action", "user_change", "-n", "1")
    assert code == 0 and "bob" in out and "alice" not in out
    tamper(store, "UPDATE lx_audit SET target = 'mallory' WHERE seq = 1")
    code, out = run("audit", "verify")
    assert code == 1 and "entry 1 was changed" in out and "first bad entry: 1" in out
    assert "unexpected" not in out and len(out.strip().splitlines()) == 1  # one clear line, not a bug report


def add_users(*names: str) -> None:
    for name in names:
        code, out = run("user", "add", name, "--role", "analyst", "--password-stdin", input="a long passphrase\n")
        assert code == 0, out


def test_audit_checkpoints_from_the_cli(store: sqlalchemy.Engine, tmp_path: Path) -> None:
    add_users("alice", "bob", "carol")  # each command that audits leaves a checkpoint of the head
    code, out = run("audit", "verify")
    assert code == 0 and "intact 3 audit entries" in out and "3 checkpoints checked, the newest saw entry 3" in out
    code, out = run("audit", "checkpoint")
    assert code == 0 and "nothing to checkpoint" in out
    code, out = run("audit", "checkpoints")
    assert code == 0 and [json.loads(line)["seq"] for line in out.splitlines()] == [1, 2, 3]
    assert (tmp_path / "data" / "audit-checkpoints.jsonl").exists()  # the default: beside the store


def test_audit_verify_fails_in_one_line_on_a_rewound_log(store: sqlalchemy.Engine) -> None:
    add_users("alice", "bob", "carol")
    rewind(store, 1)  # cut entries 2 and 3 and rewind lx_audit_head: the old verify said "intact 1 audit entries"
    code, out = run("audit", "verify")
    assert code == 1 and len(out.strip().splitlines()) == 1 and out.startswith("error: audit log broken: ")
    assert "the log ends at entry 1 but a checkpoint at" in out and "saw entry 3: the end was cut off" in out
    assert "first bad entry: 2; 1 entries before it are intact" in out


def test_audit_verify_fails_in_one_line_on_a_forged_checkpoint(
    store: sqlalchemy.Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    file = tmp_path / "elsewhere" / "cp.jsonl"
    monkeypatch.setenv("LINGXI_AUDIT_CHECKPOINT_FILE", str(file))
    add_users("alice")
    line = json.loads(file.read_text())
    file.write_text(json.dumps({**line, "seq": 7}) + "\n")
    code, out = run("audit", "verify")
    assert code == 1 and len(out.strip().splitlines()) == 1 and out.startswith("error: audit log broken: ")
    assert f"checkpoint on line 1 of {file} has a bad signature (it was forged or edited)" in out


def test_audit_cli_signs_with_the_keyring_of_the_data_directory(
    store: sqlalchemy.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINGXI_AUDIT_KEY", "an audit key from the key manager")
    add_users("alice")
    [entry] = audit.search(store, audit.AuditQuery())
    assert entry.key_id == key_id("an audit key from the key manager")
    assert run("audit", "verify")[0] == 0
    monkeypatch.delenv("LINGXI_AUDIT_KEY")  # a keyring without that key: one line naming it
    code, out = run("audit", "verify")
    assert code == 1 and f"signed with audit key `{entry.key_id}`, which is not in the keyring" in out


def test_user_unlock(store: sqlalchemy.Engine) -> None:
    assert run("user", "add", "carol", "--role", "analyst", "--password-stdin", input="correct horse battery\n")[0] == 0
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            service.authenticate(store, "carol", "wrong password!")
    with pytest.raises(AuthenticationFailed):  # locked
        service.authenticate(store, "carol", "correct horse battery")
    code, out = run("user", "unlock", "carol")
    assert code == 0 and "unlocked carol" in out
    assert service.get_user(store, "carol").locked_until is None
    service.authenticate(store, "carol", "correct horse battery")
    code, out = run("user", "unlock", "nobody")
    assert code == 1 and "nobody" in out
