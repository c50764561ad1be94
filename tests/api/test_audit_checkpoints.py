"""The server checkpoints the audit chain's head outside the database while it runs and when it stops (F10)."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from lingxi.api.app import create_app
from lingxi.auth import audit, checkpoints
from lingxi.config import Settings
from lingxi.store import connect, migrate

from ..auth.conftest import FAST

LOGIN = "/api/v1/auth/login"


def settings_for(tmp_path: Path, seconds: float) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", audit_checkpoint_seconds=seconds)
    store = connect(settings.resolved_database_url)
    migrate(store)
    store.dispose()
    return settings


def failed_sign_in(client: TestClient) -> None:
    """A request the app audits (`login_failed`)."""
    r = client.post(LOGIN, json={"username": "nobody", "password": "not the password"})
    assert r.status_code == 401


def test_the_server_checkpoints_the_head_when_it_stops(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, seconds=3600)  # no periodic checkpoint during the test
    app = create_app(settings, policy=FAST)
    with TestClient(app, base_url="http://localhost") as client:
        failed_sign_in(client)
        failed_sign_in(client)
        assert checkpoints.last(settings.audit_checkpoint_path) is None
    store = app.state.lingxi.store
    seq, head_hash = checkpoints.head(store)
    last = checkpoints.last(settings.audit_checkpoint_path)
    assert seq == 2 and last is not None and (last.seq, last.entry_hash) == (seq, head_hash)
    report = audit.verify(store, app.state.lingxi.keyring.audit, checkpoint_file=settings.audit_checkpoint_path)
    assert report.ok and report.checkpoints == 1


def test_the_server_checkpoints_the_head_periodically_while_it_moves(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, seconds=0.05)
    app = create_app(settings, policy=FAST)
    path = settings.audit_checkpoint_path
    with TestClient(app, base_url="http://localhost") as client:
        failed_sign_in(client)
        deadline = time.monotonic() + 10
        while checkpoints.last(path) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        last = checkpoints.last(path)
        assert last is not None and last.seq == 1  # while the server still runs
        time.sleep(0.3)  # ticks with the head still write nothing
        assert len(list(checkpoints.lines(path))) == 1
    assert len(list(checkpoints.lines(path))) == 1  # nor does the stop when nothing moved since
