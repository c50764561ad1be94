"""The single-customer access check every capability's service makes before it touches one customer.

`require_in_scope` reads the customer's branch from the lake (through the serving reader) and asks
`can_read_customer`, the rule every customer query applies (lingxi.auth.scope). An unknown customer and
one outside the principal's scope get the same NotFound (404) after the same work, so ids cannot be probed
by the answer or by its timing; both refusals are audited (`access_denied`), so an investigator sees them.
It sits in the trust layer so that every capability (tags, segments, leads...) can call it, not only the
customer read side.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlglot import exp

from lingxi.auth import audit
from lingxi.auth.scope import Principal, can_read_customer
from lingxi.engine.sql import col, param, table
from lingxi.errors import NotFound

if TYPE_CHECKING:
    from lingxi.store.serving import LakeReader


@cache
def branch_query() -> exp.Select:
    """A customer's branch; params: [customer_id]."""
    return exp.select(col("branch_id")).from_(table("customers")).where(col("customer_id").eq(param()))


def not_found(customer_id: str) -> NotFound:
    return NotFound(f"no customer `{customer_id}`", hint="check the customer number; search lists those you may see")


def deny(store: Engine, principal: Principal, customer_id: str, *, known: bool) -> NotFound:
    """Audit a refused access to one customer; the NotFound to raise.

    An unknown customer and one outside the scope are refused with the same work (one query, one audit
    entry) and the same answer, so neither the answer nor its timing tells whether a customer exists in
    another branch (F4). The entry's `result` says which it was, for the investigator.
    """
    result = "out_of_scope" if known else "unknown_customer"
    audit.record(store, audit.Action.ACCESS_DENIED, principal, target=customer_id, result=result)
    return not_found(customer_id)


def require_in_scope(reader: LakeReader, store: Engine, principal: Principal, customer_id: str) -> None:
    """Raise NotFound unless the customer is published and inside the principal's scope (refusals audited)."""
    rows = reader.rows(branch_query(), [customer_id], label="a customer's branch") if reader.has("customers") else []
    if not rows or not can_read_customer(principal, rows[0]["branch_id"], customer_id):
        raise deny(store, principal, customer_id, known=bool(rows))
