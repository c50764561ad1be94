"""The errors of access control. They belong to the LingxiError families so the CLI and the API report them
in their one shape; the API maps AuthenticationFailed to 401 and PermissionDenied to 403.

Messages never say whether a username exists or why exactly a sign-in failed (ASVS 2.2, 7.4.1): the
reason goes to the audit log, not to the caller.
"""

from __future__ import annotations

from lingxi.errors import LingxiError


class AuthenticationFailed(LingxiError, PermissionError):
    """A sign-in, session or token was refused. The message is the same for every reason."""

    def __init__(self, message: str = "sign-in failed: wrong username or password, or the account is locked") -> None:
        super().__init__(message, hint="try again later, or ask an administrator to reset the account")


class SessionExpired(AuthenticationFailed):
    """The session or token is unknown, expired, revoked, or its user is disabled: sign in again."""

    def __init__(self) -> None:
        super().__init__("the session has ended; sign in again")


class PermissionDenied(LingxiError, PermissionError):
    """The principal is known but may not do this (or may not see this customer)."""


class PasswordRejected(LingxiError, ValueError):
    """A new password breaks the password policy; the message lists every rule it breaks, never the password."""


class AccountError(LingxiError, ValueError):
    """An account operation cannot be done as asked (invalid username, unknown role, user exists...)."""


class TooManyAttempts(LingxiError):
    """Too many sign-in attempts from one client address or for one account; try again in `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            "too many sign-in attempts; try again later",
            hint=f"wait {retry_after} seconds before the next attempt",
        )
