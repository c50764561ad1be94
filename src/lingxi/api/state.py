"""What the app holds for its lifetime: settings, the operational store, the lake reader, the auth policy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated

from anyio import CapacityLimiter
from fastapi import Depends, Request
from sqlalchemy import Engine

from lingxi.auth.passwords import AuthPolicy
from lingxi.auth.throttle import SignInThrottle, ThrottleLimits
from lingxi.config import Settings
from lingxi.customers import LakeReader
from lingxi.engine import Engine as AnalyticEngine
from lingxi.engine import create_engine
from lingxi.keys import Keyring
from lingxi.store import Lake


@dataclass
class AppState:
    settings: Settings
    store: Engine
    lake: Lake
    reader: LakeReader
    policy: AuthPolicy
    secure_cookies: bool | None  # None: Secure unless served over plain HTTP on a loopback address
    keyring: Keyring
    throttle: SignInThrottle | None = None  # None: sign-in is not throttled (LINGXI_LOGIN_THROTTLE=false)
    trusted_proxies: frozenset[str] = frozenset()
    sign_in_slots: CapacityLimiter = field(default_factory=lambda: CapacityLimiter(4))

    @classmethod
    def of(
        cls, settings: Settings, store: Engine, lake: Lake, reader: LakeReader, policy: AuthPolicy, secure: bool | None
    ) -> AppState:
        """The state for `settings`: the sign-in throttle, trusted proxies and hashing slots they configure."""
        limits = ThrottleLimits(
            settings.login_attempts_per_address, settings.login_attempts_per_account, settings.login_window_seconds
        )
        return cls(
            settings,
            store,
            lake,
            reader,
            policy,
            secure,
            settings.keyring(),
            throttle=SignInThrottle(limits) if settings.login_throttle else None,
            trusted_proxies=frozenset(p.strip() for p in settings.trusted_proxies.split(",") if p.strip()),
            sign_in_slots=CapacityLimiter(settings.login_concurrency),
        )

    @contextmanager
    def request_engine(self) -> Iterator[AnalyticEngine]:
        """A DuckDB engine for one request's lake work (a data-subject request), closed afterwards.

        Always DuckDB, whatever LINGXI_ENGINE says: one customer's rows while a person waits, and a Spark
        application started inside the web server per request would be slow and tie the console to the
        cluster (docs/operations/spark.md). `lingxi dsr` on the command line honours LINGXI_ENGINE.
        """
        s = self.settings
        engine = create_engine(
            "duckdb", memory_limit=s.duckdb_memory_limit, threads=s.duckdb_threads, temp_directory=s.data_dir / "tmp"
        )
        try:
            yield engine
        finally:
            engine.close()

    def cookie_secure(self, request: Request) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        host = (request.url.hostname or "").lower()
        return request.url.scheme == "https" or host not in {"127.0.0.1", "localhost", "::1", "[::1]"}


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.lingxi
    return state


State = Annotated[AppState, Depends(app_state)]
