"""What the app holds for its lifetime: settings, the operational store, the lake reader, the auth policy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from lingxi.auth.passwords import AuthPolicy
from lingxi.config import Settings
from lingxi.customers import LakeReader
from lingxi.engine import Engine as AnalyticEngine
from lingxi.engine import engine_from
from lingxi.store import Lake


@dataclass
class AppState:
    settings: Settings
    store: Engine
    lake: Lake
    reader: LakeReader
    policy: AuthPolicy
    secure_cookies: bool | None  # None: Secure unless served over plain HTTP on a loopback address

    @contextmanager
    def analytic_engine(self) -> Iterator[AnalyticEngine]:
        """An analytic engine (LINGXI_ENGINE) for one request's lake work, closed afterwards."""
        engine = engine_from(self.settings)
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
