"""The customer reads as golden SQL per dialect (search, the 360's parts, the dashboard counts).

The serving reader runs them on DuckDB; the Spark files show they are plain trees any engine renders.
Request values are `?` placeholders (never in the files); scope values are literals of the principal.
"""

from __future__ import annotations

import pytest

from lingxi.auth.errors import PermissionDenied
from lingxi.auth.roles import Permission, Role
from lingxi.auth.scope import AllBranches, Book, OneBranch, Principal
from lingxi.customers import queries
from lingxi.engine.sql import render

from ..golden import GoldenSQL

SCOPES = {
    "head_office": AllBranches(),
    "branch": OneBranch("BR0101"),
    "book": Book(frozenset({"C000000002", "C000000001"})),
    "empty_book": Book(frozenset()),
    "quote_in_branch": OneBranch("B'; DROP TABLE customers; --"),
}


def test_search(golden_sql: GoldenSQL) -> None:
    for name, scope in SCOPES.items():
        golden_sql.check(f"id_prefix_{name}", queries.search_query(scope, "id_prefix", with_aum=True))
    golden_sql.check("phone_branch", queries.search_query(SCOPES["branch"], "phone", with_aum=True))
    golden_sql.check("id_prefix_without_holdings", queries.search_query(SCOPES["branch"], "id_prefix", with_aum=False))


def test_customer_360(golden_sql: GoldenSQL) -> None:
    golden_sql.check("profile_branch", queries.profile_query(SCOPES["branch"]))
    golden_sql.check("profile_head_office", queries.profile_query(SCOPES["head_office"]))
    golden_sql.check("aum_trend", queries.aum_trend_query())
    golden_sql.check("holdings", queries.holdings_query())
    golden_sql.check("accounts", queries.accounts_query())
    golden_sql.check("recent_transactions", queries.recent_query("transactions"))
    golden_sql.check("recent_events", queries.recent_query("events"))
    golden_sql.check("rates_between", queries.rates_between_query())
    golden_sql.check("consents", queries.consents_query())


def test_dashboard_counts(golden_sql: GoldenSQL) -> None:
    golden_sql.check("head_office", queries.dashboard_counts_query(SCOPES["head_office"], with_aum=True))
    golden_sql.check("branch", queries.dashboard_counts_query(SCOPES["branch"], with_aum=True))
    golden_sql.check("branch_without_holdings", queries.dashboard_counts_query(SCOPES["branch"], with_aum=False))
    golden_sql.check("fx_rates", queries.fx_rates_query())


def test_scope_values_are_literals_and_request_values_placeholders() -> None:
    sql = render(queries.search_query(SCOPES["quote_in_branch"], "id_prefix", with_aum=True))
    assert "WHERE branch_id = 'B''; DROP TABLE customers; --'" in sql
    assert sql.count("?") == 2  # the prefix and the limit, bound when the query runs
    assert render(queries.holdings_query()).count("?") == 2
    assert render(queries.rates_between_query()).count("?") == 4
    assert render(queries.fx_rates_query()).count("?") == 1


def test_trees_are_built_once_per_scope() -> None:
    assert queries.search_query(SCOPES["branch"], "phone", with_aum=True) is queries.search_query(
        OneBranch("BR0101"), "phone", with_aum=True
    )


def test_a_principal_without_customer_read_gets_no_query() -> None:
    auditor = Principal(1, "auditor1", Role("auditor"), None, frozenset({Permission.AUDIT_READ}))
    with pytest.raises(PermissionDenied):
        queries.search_query(auditor, "id_prefix", with_aum=True)
