"""Who is asking (`Principal`) and which customers they may see (`scope_filter`): the one place branch scope lives.

Every customer read in Lingxi — the 360 page, search, lists, exports, counts — applies the condition
`scope_filter` returns, and every single-customer access checks `can_read_customer`. Routes never
decide scope themselves (COMPLIANCE.md R45, ASVS 4.1.1–4.1.5):

- a principal without `customer:read` sees no customer (auditor, admin): `scope_filter` raises;
- a user limited to a book (remote RMs, and branch RMs the bank limits to their book) sees only the
  customers assigned to them;
- a principal with `customer:read_all_branches` (head office) sees every branch;
- anyone else sees their own branch only, and with no branch, nothing (fail closed).

The principal is rebuilt from the store on every request (lingxi.auth.service), so a role change, a
move to another branch or a disabled account takes effect at once (F21, stale privilege).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlglot import exp

from lingxi.auth.errors import PermissionDenied
from lingxi.auth.roles import Permission, Role


@dataclass(frozen=True)
class Principal:
    """A signed-in user, or a machine client acting for a user through an API token."""

    user_id: int
    username: str
    role: Role
    branch_id: str | None
    permissions: frozenset[str]  # Permission values, and those capabilities declare
    assigned_customer_ids: frozenset[str] | None = None  # set: limited to this book
    token_id: str | None = None
    kind: Literal["user", "token"] = field(default="user")

    def can(self, permission: Permission | str) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission | str) -> None:
        """Raise PermissionDenied unless the principal holds `permission`."""
        if not self.can(permission):
            raise PermissionDenied(
                f"`{self.username}` ({self.role.value}) may not do this: it needs `{permission}`",
                hint="ask an administrator for a role that includes it",
            )


@dataclass(frozen=True)
class AllBranches:
    """No branch restriction (head office)."""


@dataclass(frozen=True)
class OneBranch:
    """Only customers whose `branch_id` is this branch."""

    branch_id: str


@dataclass(frozen=True)
class Book:
    """Only these customers (an RM's assigned book)."""

    customer_ids: frozenset[str]


Scope = AllBranches | OneBranch | Book


def scope_filter(principal: Principal) -> Scope:
    """The restriction every customer query of `principal` must apply.

    Raises PermissionDenied when the principal may not read customers at all, or is a branch role
    without a branch (a misconfigured account sees nothing rather than everything).
    """
    principal.require(Permission.CUSTOMER_READ)
    if principal.assigned_customer_ids is not None:
        return Book(principal.assigned_customer_ids)
    if principal.can(Permission.CUSTOMER_READ_ALL_BRANCHES):
        return AllBranches()
    if principal.branch_id:
        return OneBranch(principal.branch_id)
    raise PermissionDenied(
        f"`{principal.username}` ({principal.role.value}) has neither a branch nor a book of customers",
        hint="an administrator sets the user's branch (`lingxi user add --branch`) or assigns customers",
    )


def can_read_customer(principal: Principal, customer_branch_id: str | None, customer_id: str) -> bool:
    """Whether `principal` may read this customer; False (never an exception) for any principal or customer."""
    try:
        scope = scope_filter(principal)
    except PermissionDenied:
        return False
    return scope_allows(scope, customer_branch_id, customer_id)


def scope_allows(scope: Scope, customer_branch_id: str | None, customer_id: str) -> bool:
    """Whether a customer with this branch and id lies inside `scope`."""
    if isinstance(scope, AllBranches):
        return True
    if isinstance(scope, OneBranch):
        return customer_branch_id is not None and customer_branch_id == scope.branch_id
    return customer_id in scope.customer_ids


def scope_condition(
    scope: Scope, *, branch_column: str = "branch_id", id_column: str = "customer_id", table: str | None = None
) -> exp.Condition | None:
    """The scope as a sqlglot condition for a query over customers (None: no restriction).

    Built as a tree, not a string, so it is rendered in each engine's dialect and cannot be injected.
    An empty book gives `FALSE`, so it matches nothing.
    """
    if isinstance(scope, AllBranches):
        return None
    if isinstance(scope, OneBranch):
        return exp.column(branch_column, table=table).eq(exp.Literal.string(scope.branch_id))
    if not scope.customer_ids:
        return exp.false()
    ids = [exp.Literal.string(c) for c in sorted(scope.customer_ids)]
    return exp.column(id_column, table=table).isin(*ids)
