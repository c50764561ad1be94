"""Sign-in throttling per client address and per account: a sliding window of recent attempts.

Why in memory and not in the operational store: a throttle is consulted before any work on every
sign-in, flood included, so it must cost microseconds and must not take the database connections or the
SQLite write lock that the flood is trying to exhaust. The price is that the state is per process: with
several worker processes each enforces its own window, so an attacker gets up to `limit x processes`
attempts per window. A multi-process deployment should plug in a shared store (Redis, memcached) behind
the `AttemptStore` protocol below; the account lock-out, which lives in the database, bounds guesses per
account whatever the throttle does.

An attempt is counted when it starts (so a burst of concurrent requests is counted before any of them
finishes hashing) and given back when it succeeds, so the window holds failures and attempts in flight.
Keys are opaque strings (`addr:<ip>`, `acct:<digest>`); the account key is a digest of the typed name,
so no typed secret is kept even in memory. Memory is bounded: at most `max_keys` keys are kept, the
stalest dropped first.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from lingxi.auth.errors import TooManyAttempts


@dataclass(frozen=True)
class ThrottleLimits:
    """How many attempts (failures and attempts in flight) a client address and an account get per window."""

    per_address: int = 20
    per_account: int = 10
    window_seconds: float = 60.0


class AttemptStore(Protocol):
    """Where attempt counts live: in this process (`MemoryAttempts`) or in a shared store for many processes."""

    def reserve(self, keys: Sequence[tuple[str, int]], window: float) -> float | None:
        """Count one attempt under every key unless one is at its limit; then count none and return the
        seconds until that key has room again. Must be atomic across concurrent callers."""

    def release(self, keys: Sequence[str]) -> None:
        """Give back the latest attempt counted under each key (after a successful sign-in)."""


class MemoryAttempts:
    """An `AttemptStore` in this process's memory, thread-safe (one lock; each call is a few dict operations)."""

    def __init__(self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock

    def _window(self, key: str, now: float, window: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            while len(self._hits) > self._max_keys:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(key)
        while hits and hits[0] <= now - window:
            hits.popleft()
        return hits

    def reserve(self, keys: Sequence[tuple[str, int]], window: float) -> float | None:
        with self._lock:
            now = self._clock()
            windows = [(self._window(key, now, window), limit) for key, limit in keys]
            waits = [hits[len(hits) - limit] + window - now for hits, limit in windows if len(hits) >= limit]
            if waits:
                return max(max(waits), 0.0)
            for hits, _ in windows:
                hits.append(now)
            return None

    def release(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                hits = self._hits.get(key)
                if hits:
                    hits.pop()


def account_key(username: str) -> str:
    """The throttle key of a typed user name (normalised like usernames; a digest, never the name itself)."""
    digest = hashlib.sha256(username.strip().casefold().encode("utf-8", "replace")).hexdigest()[:32]
    return f"acct:{digest}"


class SignInThrottle:
    """Per-address and per-account limits on sign-in attempts; raises TooManyAttempts (429, Retry-After)."""

    def __init__(self, limits: ThrottleLimits, store: AttemptStore | None = None) -> None:
        self.limits = limits
        self.store: AttemptStore = store if store is not None else MemoryAttempts()

    def keys(self, address: str, username: str) -> tuple[str, str]:
        return f"addr:{address}", account_key(username)

    def begin(self, address: str, username: str) -> tuple[str, str]:
        """Count an attempt from `address` for `username`, or raise TooManyAttempts; returns the keys counted."""
        keys = self.keys(address, username)
        wait = self.store.reserve(
            [(keys[0], self.limits.per_address), (keys[1], self.limits.per_account)], self.limits.window_seconds
        )
        if wait is not None:
            raise TooManyAttempts(max(1, math.ceil(wait)))
        return keys

    def succeeded(self, keys: Sequence[str]) -> None:
        """A sign-in counted by `begin` succeeded: it does not count against the address or the account."""
        self.store.release(keys)
