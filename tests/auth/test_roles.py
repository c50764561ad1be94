"""The role x permission table, pinned: a change of policy must change this test too (and be reviewed)."""

from __future__ import annotations

import pytest

from lingxi.auth import PermissionDenied, Role, permissions_of
from lingxi.auth.roles import ROLE_PERMISSIONS, Permission, parse_permissions, parse_role, unmask_permission

P = Permission
EXPECTED: dict[Role, set[Permission]] = {
    Role.ADMIN: {P.USER_MANAGE},
    Role.STRATEGIST: {P.CUSTOMER_READ, P.CUSTOMER_READ_ALL_BRANCHES, P.DEFINITION_WRITE, P.EXPORT_CREATE},
    Role.ANALYST: {P.CUSTOMER_READ, P.CUSTOMER_READ_ALL_BRANCHES, P.DEFINITION_WRITE},
    Role.APPROVER: {
        P.CUSTOMER_READ,
        P.CUSTOMER_READ_ALL_BRANCHES,
        P.CARD_BIN,
        P.APPROVAL_DECIDE,
        P.AUDIT_READ,
        P.CONSENT_WRITE,
    },
    Role.REMOTE_RM: {P.CUSTOMER_READ, P.CARD_BIN, P.UNMASK_NAME, P.UNMASK_MOBILE, P.CONSENT_WRITE, P.LEAD_WORK},
    Role.BRANCH_RM: {P.CUSTOMER_READ, P.CARD_BIN, P.UNMASK_NAME, P.UNMASK_MOBILE, P.CONSENT_WRITE, P.LEAD_WORK},
    Role.AUDITOR: {P.AUDIT_READ},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_role_permission_matrix(role: Role, permission: Permission) -> None:
    assert (permission in permissions_of(role)) == (permission in EXPECTED[role])


def test_every_role_is_in_the_table() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_least_privilege_properties_from_compliance() -> None:
    # the auditor reads the audit log and nothing about customers
    assert not {p for p in permissions_of(Role.AUDITOR) if p.startswith(("customer:", "pii:"))}
    # the audit log is protected from administrators, who read no customers either
    assert P.AUDIT_READ not in permissions_of(Role.ADMIN)
    assert P.CUSTOMER_READ not in permissions_of(Role.ADMIN)
    # only head-office roles see every branch
    for role in (Role.BRANCH_RM, Role.REMOTE_RM):
        assert P.CUSTOMER_READ_ALL_BRANCHES not in permissions_of(role)
    # maker-checker: whoever writes definitions does not approve them
    for role in Role:
        assert not {P.DEFINITION_WRITE, P.APPROVAL_DECIDE} <= permissions_of(role)
    # the strongest identifiers are unmasked by nobody by default
    for role in Role:
        assert not {P.UNMASK_ID_NO, P.UNMASK_CARD_NO, P.UNMASK_ADDRESS} & permissions_of(role)


def test_unknown_role_holds_nothing_and_parsing_names_the_choices() -> None:
    assert permissions_of("superuser") == frozenset()
    with pytest.raises(ValueError, match="roles are: admin, strategist"):
        parse_role("superuser")
    with pytest.raises(ValueError, match="`customer:delete`"):
        parse_permissions(["customer:read", "customer:delete"])


def test_unmask_permission_names() -> None:
    assert unmask_permission("mobile") is P.UNMASK_MOBILE
    with pytest.raises(PermissionDenied):
        unmask_permission("balance")
