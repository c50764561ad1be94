"""Roles and the permissions each one holds: the whole access policy in one table.

The table is code, not configuration, so that a change of policy is reviewed like code and the test
matrix in tests/auth/test_roles.py pins it. It follows COMPLIANCE.md R45 (least privilege, deny by
default) and R51/R25 (the audit log is protected from administrators):

| role | customers it reads | unmask | other permissions |
|---|---|---|---|
| admin | none | none | user:manage |
| strategist (head office) | all branches, masked | none | definition:write, export:create |
| analyst | all branches, masked | none | definition:write |
| approver (compliance) | all branches, masked, card 6+4 | none | approval:decide, audit:read, consent:write |
| remote_rm | assigned customers, card 6+4 | name, mobile | consent:write, lead:work |
| branch_rm | own branch (or assigned customers), card 6+4 | name, mobile | consent:write, lead:work |
| auditor | none | none | audit:read |

Capabilities add their own permissions, and the roles that hold each by default, in their declaration
(lingxi.capability.PermissionGrant); `permissions_of` merges them in, so the table above stays the core.

Nobody holds `pii:unmask:id_no`, `pii:unmask:card_no` or `pii:unmask:address` by default: no workflow
built so far needs them, and a bank that needs one grants it by editing this table (a reviewed change).
`admin` manages accounts but reads neither customers nor the audit log (segregation of duties); the
auditor reads the audit log but no customer data.
"""

from __future__ import annotations

from enum import StrEnum

from lingxi import registry
from lingxi.auth.errors import PermissionDenied
from lingxi.capability import PermissionGrant
from lingxi.errors import ConfigError


class Role(StrEnum):
    """The roles a Lingxi user can hold (exactly one per user)."""

    ADMIN = "admin"
    STRATEGIST = "strategist"
    ANALYST = "analyst"
    APPROVER = "approver"
    REMOTE_RM = "remote_rm"
    BRANCH_RM = "branch_rm"
    AUDITOR = "auditor"


class Permission(StrEnum):
    """One thing a principal may do. Unmask permissions are `pii:unmask:<kind>` (see `unmask_permission`)."""

    CUSTOMER_READ = "customer:read"
    CUSTOMER_READ_ALL_BRANCHES = "customer:read_all_branches"
    CARD_BIN = "pii:card_bin"  # see the first 6 digits of card and account numbers (6+4 instead of last 4)
    UNMASK_NAME = "pii:unmask:name"
    UNMASK_MOBILE = "pii:unmask:mobile"
    UNMASK_ID_NO = "pii:unmask:id_no"
    UNMASK_CARD_NO = "pii:unmask:card_no"
    UNMASK_ADDRESS = "pii:unmask:address"
    AUDIT_READ = "audit:read"
    USER_MANAGE = "user:manage"
    CONSENT_WRITE = "consent:write"
    EXPORT_CREATE = "export:create"
    DEFINITION_WRITE = "definition:write"
    APPROVAL_DECIDE = "approval:decide"
    LEAD_WORK = "lead:work"


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({P.USER_MANAGE}),
    Role.STRATEGIST: frozenset(
        {P.CUSTOMER_READ, P.CUSTOMER_READ_ALL_BRANCHES, P.DEFINITION_WRITE, P.EXPORT_CREATE},
    ),
    Role.ANALYST: frozenset({P.CUSTOMER_READ, P.CUSTOMER_READ_ALL_BRANCHES, P.DEFINITION_WRITE}),
    Role.APPROVER: frozenset(
        {P.CUSTOMER_READ, P.CUSTOMER_READ_ALL_BRANCHES, P.CARD_BIN, P.APPROVAL_DECIDE, P.AUDIT_READ, P.CONSENT_WRITE},
    ),
    Role.REMOTE_RM: frozenset(
        {P.CUSTOMER_READ, P.CARD_BIN, P.UNMASK_NAME, P.UNMASK_MOBILE, P.CONSENT_WRITE, P.LEAD_WORK},
    ),
    Role.BRANCH_RM: frozenset(
        {P.CUSTOMER_READ, P.CARD_BIN, P.UNMASK_NAME, P.UNMASK_MOBILE, P.CONSENT_WRITE, P.LEAD_WORK},
    ),
    Role.AUDITOR: frozenset({P.AUDIT_READ}),
}

#: Roles whose customers are limited to a branch or a book, so they must have one of them.
BRANCH_ROLES = frozenset({Role.BRANCH_RM})


def unmask_permission(kind: str) -> Permission:
    """The permission that reveals values of a masking kind (`name`, `mobile`, `id_no`, `card_no`, `address`)."""
    try:
        return Permission(f"pii:unmask:{kind}")
    except ValueError:
        raise PermissionDenied(f"`{kind}` is not a field that can be unmasked") from None


def permissions_of(role: Role | str) -> frozenset[str]:
    """The permissions `role` holds, the core ones and those capabilities grant it; unknown role: none (fail closed)."""
    try:
        core = ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
    granted = {p.name for p in capability_grants() if str(role) in p.roles}
    return frozenset({*core, *granted})


def capability_grants() -> list[PermissionGrant]:
    """The permissions capabilities declare, checked: a capability may add permissions of its own, never
    grant a core one (a role's access to customers and identifiers is this module's table alone), and
    only to roles that exist."""
    grants = registry.permissions()
    core = {p.value for p in Permission}
    problems = [f"`{g.name}` is a core permission; only this module grants it" for g in grants if g.name in core]
    problems += [f"`{g.name}` is granted to unknown role `{r}`" for g in grants for r in g.roles if r not in set(Role)]
    if problems:
        raise ConfigError("a capability's permissions are invalid: " + "; ".join(problems))
    return grants


def known_permissions() -> list[str]:
    """Every permission: the core ones of `Permission`, then those capabilities declare."""
    return [*(p.value for p in Permission), *(p.name for p in capability_grants())]


def parse_role(value: str) -> Role:
    """`value` as a Role, or a ValueError that lists the roles."""
    try:
        return Role(value)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role `{value}`; roles are: {roles}") from None


def parse_permissions(values: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Permission names, checked; raises ValueError naming the unknown ones."""
    known = known_permissions()
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(
            f"unknown permission(s) {', '.join(f'`{u}`' for u in unknown)}; permissions are: {', '.join(known)}"
        )
    return frozenset(Permission(v) if v in Permission._value2member_map_ else v for v in values)
