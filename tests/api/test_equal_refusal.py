"""An unknown customer and one in another branch are refused with the same work, so timing tells nothing (F4).

Not measured by timing (noisy), but by what the server does: the same lake queries, in the same order, and
the same statements on the operational store (the audit entry included) for both, on every route that
names one customer. Only the values differ (the customer number, the audit entry's `result`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from .conftest import Bank

UNKNOWN = "C999999999"


@pytest.fixture
def recorder(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every lake query label and every operational-store statement the app runs, in order."""
    state = app.state.lingxi
    seen: list[str] = []
    rows = state.reader.rows

    def recorded_rows(query: Any, params: Any = (), *, label: str) -> Any:
        seen.append(f"lake: {label}")
        return rows(query, params, label=label)

    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        seen.append(f"store: {' '.join(sql.split())}")

    monkeypatch.setattr(state.reader, "rows", recorded_rows)
    event.listen(state.store, "before_cursor_execute", statement)
    yield seen
    event.remove(state.store, "before_cursor_execute", statement)


def work(seen: list[str], client: TestClient, method: str, path: str, customer: str, **kwargs: Any) -> list[str]:
    seen.clear()
    r = client.request(method, path.format(customer), **kwargs)
    assert r.status_code == 404, (path, customer, r.status_code, r.text)
    periodic = ("lx_session", "lx_dataset")  # the session touch and the reader's snapshot polling come and go
    return [line.replace(customer, "<customer>") for line in seen if not any(p in line for p in periodic)]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/customers/{}", None),
        ("POST", "/api/v1/customers/{}/unmask", {"fields": ["name"], "reason": "CUSTOMER_CONTACT"}),
        ("GET", "/api/v1/customers/{}/consents", None),
        ("GET", "/customers/{}", None),
    ],
)
def test_unknown_and_out_of_branch_customers_cost_the_same(
    bank: Bank,
    clients: dict[str, tuple[TestClient, str]],
    recorder: list[str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    client, csrf = clients["rm_a"]  # a branch RM of branch A; cust_b is in branch B
    kwargs: dict[str, Any] = {"headers": {"X-CSRF-Token": csrf}}
    if body is not None:
        kwargs["json"] = body
    other_branch = work(recorder, client, method, path, bank.cust_b, **kwargs)
    unknown = work(recorder, client, method, path, UNKNOWN, **kwargs)
    assert other_branch == unknown
    assert any(line.startswith("store: INSERT INTO lx_audit") for line in unknown)  # both refusals are audited
