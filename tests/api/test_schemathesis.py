"""Property-based run of the OpenAPI contract (schemathesis, in-process over ASGI): no 5xx, schema conformance.

A second run generates values outside the contract (schemathesis' negative mode): never a 5xx either.
Authenticated with an API token of the approver (reads customers of every branch and the audit log, records
consent, handles data-subject requests), bounded to a few examples per operation so the whole run takes
seconds. Correction and deletion never touch a real customer of the shared bank: a generated id in the
bank's form is skipped for them (tests/api/test_privacy_http.py runs real ones on a bank of its own).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from lingxi.api.app import create_app
from lingxi.auth import service

from ..auth.conftest import FAST
from .conftest import Bank

REAL_ID = re.compile(r"C\d{9}")  # the simulated bank's customer numbers


@pytest.fixture(scope="session")
def approver_token(app: FastAPI) -> str:
    scopes = ["customer:read", "customer:read_all_branches", "pii:card_bin", "audit:read"]
    scopes += ["consent:write", "approval:decide"]
    return service.issue_token(app.state.lingxi.store, "approver1", scopes, by="cli:test").secret


@pytest.fixture(scope="session")
def analyst_token(app: FastAPI) -> str:
    """The quarantine's routes need `ingest:quarantine`, which the approver lacks: they run as an analyst."""
    return service.issue_token(app.state.lingxi.store, "analyst1", ["ingest:quarantine"], by="cli:test").secret


@pytest.fixture
def tokens(approver_token: str, analyst_token: str) -> dict[str, str]:
    """The bearer token per path prefix: the quarantine's routes as the analyst, every other as the approver."""
    return {"/api/v1/quarantine": analyst_token, "/": approver_token}


@pytest.fixture
def schema(bank: Bank) -> Iterator[schemathesis.BaseSchema]:
    """The contract of an app of this test's own on the shared bank. Schemathesis starts the app's lifespan
    and ends it when the test ends; the shutdown closes the app's lake reader, which the session's shared
    app must keep for the tests that run after this one."""
    application = create_app(bank.settings, policy=FAST)
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", application)
    application.state.lingxi.reader.close()


def test_the_api_honours_its_openapi_contract(schema: schemathesis.BaseSchema, tokens: dict[str, str]) -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 20

    for operation in operations:
        run_cases(operation, GenerationMode.POSITIVE, 12, tokens, [not_a_server_error, response_schema_conformance])


def test_values_outside_the_contract_are_never_a_server_error(
    schema: schemathesis.BaseSchema, tokens: dict[str, str]
) -> None:
    """Negative generation: every bound broken (integers past `le`, negative, wrong types, over-long strings).

    Operations without parameters or body have nothing to break. tests/api/test_extremes.py sends the
    extreme values themselves (2**63, years 1 and 9999, NUL) to every parameter, deterministically.
    """
    for operation in (result.ok() for result in schema.get_all_operations()):
        if operation.path_parameters or operation.query or operation.headers or operation.body:
            run_cases(operation, GenerationMode.NEGATIVE, 8, tokens, [not_a_server_error])


def run_cases(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    examples: int,
    tokens: dict[str, str],
    checks: list[schemathesis.CheckFunction],
) -> None:
    token = next(t for prefix, t in tokens.items() if operation.path.startswith(prefix))
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: schemathesis.Case) -> None:
        customer = str((case.path_parameters or {}).get("customer_id", ""))
        if case.path.endswith(("/dsr/correct", "/dsr/delete")) and REAL_ID.fullmatch(customer):
            return
        case.call_and_validate(headers=headers, checks=checks)

    run()
