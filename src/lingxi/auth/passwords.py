"""Password hashing (argon2id) and the password policy, plus the login policy defaults in one object.

argon2id with the RFC 9106 "low memory" profile (argon2-cffi's defaults: 3 passes, 64 MiB, 4 lanes) is
the production default. Tests pass cheaper parameters through `AuthPolicy(hashing=...)`; nothing in the
library lowers them by itself. A hash made with older parameters is upgraded on the next good sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from lingxi.auth.errors import PasswordRejected

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # bounds the hashing work an attacker can ask for


@dataclass(frozen=True)
class Argon2Params:
    """argon2id cost parameters; the defaults are argon2-cffi's (RFC 9106 low-memory profile)."""

    time_cost: int = 3
    memory_cost_kib: int = 65_536
    parallelism: int = 4


@dataclass(frozen=True)
class AuthPolicy:
    """Sign-in, lock-out, session and token defaults (COMPLIANCE.md "login" row, ASVS 2.2.1 and 3.3.2).

    Lock-out: after `lockout_threshold` consecutive failures the account is locked for `lockout_base`;
    each further lock doubles it up to `lockout_max`. With the defaults an attacker gets at most 15
    guesses in the first hour (5, wait 15 min, 5, wait 30 min, 5), well under ASVS's 100 per hour. The
    doubling resets after a successful sign-in. The cap is what keeps the lock-out from being a weapon:
    a lock never lasts more than `lockout_max` (1 h), so an attacker cannot keep a user out for good
    without guessing on and on in the audit log's sight, and `lingxi user unlock` ends a lock at once.
    """

    lockout_threshold: int = 5
    lockout_base: timedelta = timedelta(minutes=15)
    lockout_max: timedelta = timedelta(hours=1)
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    token_max_lifetime: timedelta = timedelta(days=365)
    hashing: Argon2Params = field(default_factory=Argon2Params)

    @cached_property
    def hasher(self) -> PasswordHasher:
        p = self.hashing
        return PasswordHasher(time_cost=p.time_cost, memory_cost=p.memory_cost_kib, parallelism=p.parallelism)

    def lock_duration(self, lock_level: int) -> timedelta:
        """How long the `lock_level`-th consecutive lock lasts (1 = first lock)."""
        duration: timedelta = self.lockout_base * (2 ** max(lock_level - 1, 0))
        return min(duration, self.lockout_max)


DEFAULT_POLICY = AuthPolicy()


def check_password_policy(password: str, username: str) -> None:
    """Raise PasswordRejected listing every rule `password` breaks (the password itself is never echoed).

    The rules are ASVS 2.1's: a minimum length rather than composition rules, and not the username.
    """
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"it must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"it must have at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip().casefold() == username.strip().casefold():
        problems.append("it must not be the username")
    if password and len(set(password)) == 1:
        problems.append("it must not repeat one character")
    if problems:
        raise PasswordRejected(
            f"the password for `{username}` is not accepted: " + "; ".join(problems),
            hint=f"choose a passphrase of {MIN_PASSWORD_LENGTH} or more characters",
        )


def hash_password(password: str, policy: AuthPolicy = DEFAULT_POLICY) -> str:
    """The argon2id hash of `password` (salted; PHC string format)."""
    return policy.hasher.hash(password)


def verify_password(stored_hash: str, password: str, policy: AuthPolicy = DEFAULT_POLICY) -> bool:
    """Whether `password` matches `stored_hash`; a malformed hash is a mismatch, never an exception."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return policy.hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, policy: AuthPolicy = DEFAULT_POLICY) -> bool:
    """Whether `stored_hash` was made with other parameters than the policy's (upgrade it on sign-in)."""
    try:
        return policy.hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


_DUMMY_HASHES: dict[Argon2Params, str] = {}


def burn_verify_time(password: str, policy: AuthPolicy = DEFAULT_POLICY) -> None:
    """Spend the time of one verification against a dummy hash.

    Used when the user is unknown, disabled or locked, so the response time does not tell an attacker
    whether the username exists (ASVS 2.2, no user enumeration).
    """
    dummy = _DUMMY_HASHES.get(policy.hashing)
    if dummy is None:
        dummy = _DUMMY_HASHES.setdefault(policy.hashing, policy.hasher.hash("lingxi-dummy-password"))
    verify_password(dummy, password, policy)
