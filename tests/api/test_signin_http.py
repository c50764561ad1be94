"""Sign-in over HTTP under attack (issue 10, F1): a flood of bad sign-ins gives no 5xx and leaves signed-in users
working; throttling per client address and per account answers 429 with Retry-After; X-Forwarded-For counts only
from a trusted proxy; the console's /login is throttled by the same code.

Each test builds its own app on the session's bank, with the settings it needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lingxi.api.app import create_app
from lingxi.auth import service

from ..auth.conftest import FAST, PASSWORD
from .conftest import Bank

LOGIN = "/api/v1/auth/login"


def make_app(bank: Bank, **settings: Any) -> Iterator[FastAPI]:
    application = create_app(bank.settings.model_copy(update=settings), policy=FAST)
    yield application
    application.state.lingxi.reader.close()
    application.state.lingxi.store.dispose()


@pytest.fixture
def open_app(bank: Bank) -> Iterator[FastAPI]:
    yield from make_app(bank, login_throttle=False)


@pytest.fixture
def throttled(bank: Bank) -> Iterator[FastAPI]:
    yield from make_app(bank, login_attempts_per_address=5, login_attempts_per_account=3, trusted_proxies="10.9.9.9")


def test_a_login_flood_gives_no_5xx_and_a_signed_in_reader_keeps_working(
    open_app: FastAPI, bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = 0.4  # each password check takes this long, as argon2 does under load

    def slow_burn(password: str, policy: object) -> None:
        time.sleep(slow)

    real = service._verify
    monkeypatch.setattr(service, "burn_verify_time", slow_burn)
    monkeypatch.setattr(service, "_verify", lambda h, p, pol: time.sleep(slow) or real(h, p, pol))
    with TestClient(open_app, base_url="http://localhost") as client:
        r = client.post(LOGIN, json={"username": "rm_a", "password": PASSWORD})  # the reader's session cookie
        assert r.status_code == 200
        assert client.get(f"/api/v1/customers/{bank.cust_a}").status_code == 200  # warm
        flooding = threading.Event()
        start = threading.Barrier(49)

        def bad(i: int) -> int:
            start.wait()
            flooding.set()
            name = f"nobody{i}" if i % 2 else "analyst1"
            return client.post(LOGIN, json={"username": name, "password": "not the password"}).status_code

        with ThreadPoolExecutor(48) as pool:
            futures = [pool.submit(bad, i) for i in range(48)]
            start.wait()
            flooding.wait()
            latencies, codes = [], []
            for _ in range(8):
                t0 = time.perf_counter()
                codes.append(client.get(f"/api/v1/customers/{bank.cust_a}").status_code)
                latencies.append(time.perf_counter() - t0)
            statuses = [f.result() for f in futures]
    assert set(statuses) == {401}
    assert set(codes) == {200}
    # the reader never queues for a connection or a worker thread behind the 48 password checks (12 rounds of
    # `slow` s in 4 hashing slots); what is left is SQLite's write lock, which the audit writes share
    assert max(latencies) < 2.0, latencies


def test_throttle_per_address_answers_429_with_retry_after(throttled: FastAPI) -> None:
    client = TestClient(throttled, base_url="http://localhost", client=("10.0.0.1", 5000))
    codes = [client.post(LOGIN, json={"username": f"nobody{i}", "password": "x"}).status_code for i in range(7)]
    assert codes == [401] * 5 + [429] * 2
    r = client.post(LOGIN, json={"username": "rm_b", "password": PASSWORD})
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json()["status"] == 429 and r.json()["ok"] is False
    other = TestClient(throttled, base_url="http://localhost", client=("10.0.0.2", 5000))
    assert other.post(LOGIN, json={"username": "rm_b", "password": PASSWORD}).status_code == 200


def test_throttle_per_account_across_addresses(throttled: FastAPI) -> None:
    codes = []
    for i in range(5):
        client = TestClient(throttled, base_url="http://localhost", client=(f"10.0.1.{i}", 5000))
        codes.append(client.post(LOGIN, json={"username": "Nobody.Here", "password": "x"}).status_code)
    assert codes == [401] * 3 + [429] * 2


def test_successes_are_not_counted(throttled: FastAPI) -> None:
    client = TestClient(throttled, base_url="http://localhost", client=("10.0.2.1", 5000))
    for _ in range(8):
        assert client.post(LOGIN, json={"username": "auditor1", "password": PASSWORD}).status_code == 200


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(throttled: FastAPI) -> None:
    spoofer = TestClient(throttled, base_url="http://localhost", client=("10.0.3.1", 5000))
    codes = [
        spoofer.post(
            LOGIN, json={"username": f"x{i}", "password": "x"}, headers={"X-Forwarded-For": f"192.0.2.{i}"}
        ).status_code
        for i in range(6)
    ]
    assert codes == [401] * 5 + [429]  # the header is ignored: one address
    proxy = TestClient(throttled, base_url="http://localhost", client=("10.9.9.9", 5000))
    codes = [
        proxy.post(
            LOGIN,
            json={"username": f"y{i}", "password": "x"},
            headers={"X-Forwarded-For": f"6.6.6.6, 198.51.100.{i}"},  # the client may write the first entry
        ).status_code
        for i in range(6)
    ]
    assert codes == [401] * 6  # six clients behind the proxy
    codes = [
        proxy.post(
            LOGIN, json={"username": f"z{i}", "password": "x"}, headers={"X-Forwarded-For": "198.51.100.200"}
        ).status_code
        for i in range(6)
    ]
    assert codes == [401] * 5 + [429]  # one client behind the proxy


def test_the_console_sign_in_is_throttled_too(throttled: FastAPI) -> None:
    client = TestClient(throttled, base_url="http://localhost", client=("10.0.4.1", 5000))
    codes = [
        client.post("/login", data={"username": f"n{i}", "password": "x"}, headers={"Accept": "text/html"}).status_code
        for i in range(6)
    ]
    assert codes == [401] * 5 + [429]
    r = client.post("/login", data={"username": "n9", "password": "x"}, headers={"Accept": "text/html"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
