"""Branch scope as SQL for the customer reads: the only place the data-access layer turns a principal into rows.

Every query in lingxi.customers that returns customer rows, or numbers computed from them, goes through
`scoped_customers`: a subquery of the `customers` view restricted by `lingxi.auth.scope.scope_condition`.
Routes never filter by branch themselves (COMPLIANCE.md R45), so a new route cannot forget to. Both are
sqlglot trees whose branch ids and customer ids are literals rendered by sqlglot, so they cannot inject SQL.
"""

from __future__ import annotations

from sqlglot import exp

from lingxi.auth.scope import Principal, Scope, scope_condition, scope_filter
from lingxi.engine.sql import table


def scope_of(who: Principal | Scope) -> Scope:
    """The scope of a principal (raises PermissionDenied when it may not read customers), or a scope as given."""
    return scope_filter(who) if isinstance(who, Principal) else who


def scope_predicate(who: Principal | Scope, *, table_alias: str | None = None) -> exp.Expr:
    """The scope as a condition (`TRUE` for head office); raises PermissionDenied for a principal without one."""
    condition = scope_condition(scope_of(who), table=table_alias)
    return exp.true() if condition is None else condition


def scoped_customers(who: Principal | Scope, *, alias: str = "c") -> exp.Subquery:
    """A FROM-clause subquery of the customers in scope, aliased `c`."""
    return exp.select("*").from_(table("customers")).where(scope_predicate(who)).subquery(alias)
