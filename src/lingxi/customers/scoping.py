"""Branch scope as SQL for the customer reads: the only place the data-access layer turns a principal into rows.

Every query in lingxi.customers that returns customer rows, or numbers computed from them, goes through
`scoped_customers`: a subquery of the `customers` view restricted by `lingxi.auth.scope.scope_condition`.
Routes never filter by branch themselves (COMPLIANCE.md R45), so a new route cannot forget to.
"""

from __future__ import annotations

from lingxi.auth.scope import Principal, scope_condition, scope_filter


def scope_sql(principal: Principal, *, table: str | None = None) -> str:
    """The principal's scope as a DuckDB condition (`TRUE` for head office); raises PermissionDenied.

    Rendered from a sqlglot tree whose values are literals, so a branch id cannot inject SQL.
    """
    condition = scope_condition(scope_filter(principal), table=table)
    return "TRUE" if condition is None else condition.sql(dialect="duckdb")


def scoped_customers(principal: Principal) -> str:
    """A FROM-clause subquery of the customers `principal` may see, aliased `c`."""
    return f"(SELECT * FROM customers WHERE {scope_sql(principal)}) AS c"
