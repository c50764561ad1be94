"""Branch scope as a matrix: role x the principal's branch x the customer's branch (COMPLIANCE.md R45, F19)."""

from __future__ import annotations

import duckdb
import pytest
import sqlalchemy

from lingxi.auth import (
    AllBranches,
    Book,
    OneBranch,
    PermissionDenied,
    Principal,
    Role,
    permissions_of,
    scope_filter,
    service,
)
from lingxi.auth.scope import can_read_customer, scope_condition

from .conftest import FAST, PASSWORD

BRANCHES = ["BR-A", "BR-B"]
CUSTOMERS = [("C-A1", "BR-A"), ("C-A2", "BR-A"), ("C-B1", "BR-B"), ("C-B2", "BR-B")]
HEAD_OFFICE_READERS = {Role.STRATEGIST, Role.ANALYST, Role.APPROVER}
NO_CUSTOMERS = {Role.ADMIN, Role.AUDITOR}


def principal(role: Role, branch: str | None, book: frozenset[str] | None = None) -> Principal:
    return Principal(1, "someone", role, branch, permissions_of(role), assigned_customer_ids=book)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("home", [*BRANCHES, None])
@pytest.mark.parametrize(("customer_id", "customer_branch"), CUSTOMERS)
def test_scope_matrix(role: Role, home: str | None, customer_id: str, customer_branch: str) -> None:
    p = principal(role, home, book=frozenset({"C-A1"}) if role is Role.REMOTE_RM else None)
    allowed = can_read_customer(p, customer_branch, customer_id)
    if role in NO_CUSTOMERS:
        assert not allowed
    elif role in HEAD_OFFICE_READERS:
        assert allowed
    elif role is Role.REMOTE_RM:
        assert allowed == (customer_id == "C-A1")
    else:  # branch RM: own branch only; with no branch, nothing
        assert allowed == (home == customer_branch)


def test_scope_filter_kinds_and_fail_closed() -> None:
    assert scope_filter(principal(Role.STRATEGIST, None)) == AllBranches()
    assert scope_filter(principal(Role.BRANCH_RM, "BR-A")) == OneBranch("BR-A")
    assert scope_filter(principal(Role.BRANCH_RM, "BR-A", frozenset({"C-A1"}))) == Book(frozenset({"C-A1"}))
    with pytest.raises(PermissionDenied, match="neither a branch nor a book"):
        scope_filter(principal(Role.BRANCH_RM, None))
    with pytest.raises(PermissionDenied, match="customer:read"):
        scope_filter(principal(Role.AUDITOR, None))
    # a branch RM whose customer has no branch on record does not see it
    assert not can_read_customer(principal(Role.BRANCH_RM, "BR-A"), None, "C-X")


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (principal(Role.BRANCH_RM, "BR-A"), {"C-A1", "C-A2"}),
        (principal(Role.BRANCH_RM, "BR-B"), {"C-B1", "C-B2"}),
        (principal(Role.ANALYST, None), {"C-A1", "C-A2", "C-B1", "C-B2"}),
        (principal(Role.REMOTE_RM, None, frozenset({"C-B2", "C-A1"})), {"C-A1", "C-B2"}),
        (principal(Role.REMOTE_RM, None, frozenset()), set()),
        (principal(Role.BRANCH_RM, "BR-A' OR '1'='1"), set()),  # a hostile branch id stays a literal
    ],
)
def test_scope_condition_runs_on_an_engine(p: Principal, expected: set[str]) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE customers (customer_id VARCHAR, branch_id VARCHAR)")
    con.executemany("INSERT INTO customers VALUES (?, ?)", [list(c) for c in CUSTOMERS])
    condition = scope_condition(scope_filter(p))
    sql = "SELECT customer_id FROM customers" + (f" WHERE {condition.sql('duckdb')}" if condition is not None else "")
    assert {r[0] for r in con.execute(sql).fetchall()} == expected
    if condition is not None:
        assert condition.sql("spark")  # renders in the other engine's dialect too


def test_principal_from_the_store_carries_branch_and_book(store: sqlalchemy.Engine) -> None:
    service.create_user(store, "rm.a", PASSWORD, "branch_rm", branch_id="BR-A", by="test", policy=FAST)
    service.create_user(store, "remote", PASSWORD, "remote_rm", by="test", policy=FAST)
    service.assign_customers(store, "remote", ["C-B1", "C-A2"], by="test")
    branch_rm = service.authenticate(store, "rm.a", PASSWORD, policy=FAST).info.principal
    remote = service.authenticate(store, "remote", PASSWORD, policy=FAST).info.principal
    assert scope_filter(branch_rm) == OneBranch("BR-A")
    assert scope_filter(remote) == Book(frozenset({"C-B1", "C-A2"}))
    assert [c for c, b in CUSTOMERS if can_read_customer(branch_rm, b, c)] == ["C-A1", "C-A2"]
    assert [c for c, b in CUSTOMERS if can_read_customer(remote, b, c)] == ["C-A2", "C-B1"]
