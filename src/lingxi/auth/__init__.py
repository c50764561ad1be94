"""Access control: roles and permissions, branch scope, users, sessions, API tokens and the audit log.

The HTTP layer uses `lingxi.auth.service` (sign-in, sessions, tokens, accounts), `scope_filter` /
`can_read_customer` for every customer read, and `lingxi.auth.audit` to record what happened.
See docs/security.md.
"""

from __future__ import annotations

from lingxi.auth.errors import AccountError, AuthenticationFailed, PasswordRejected, PermissionDenied, SessionExpired
from lingxi.auth.passwords import DEFAULT_POLICY, Argon2Params, AuthPolicy
from lingxi.auth.roles import ROLE_PERMISSIONS, Permission, Role, permissions_of
from lingxi.auth.scope import AllBranches, Book, OneBranch, Principal, Scope, can_read_customer, scope_filter

__all__ = [
    "DEFAULT_POLICY",
    "ROLE_PERMISSIONS",
    "AccountError",
    "AllBranches",
    "Argon2Params",
    "AuthPolicy",
    "AuthenticationFailed",
    "Book",
    "OneBranch",
    "PasswordRejected",
    "Permission",
    "PermissionDenied",
    "Principal",
    "Role",
    "Scope",
    "SessionExpired",
    "can_read_customer",
    "permissions_of",
    "scope_filter",
]
