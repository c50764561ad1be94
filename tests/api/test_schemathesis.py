"""Property-based run of the OpenAPI contract (schemathesis, in-process over ASGI): no 5xx, schema conformance.

Authenticated with an API token of the approver (reads customers of every branch and the audit log, records
consent, handles data-subject requests), bounded to a few examples per operation so the whole run takes
seconds. Correction and deletion never touch a real customer of the shared bank: a generated id in the
bank's form is skipped for them (tests/api/test_privacy_http.py runs real ones on a bank of its own).
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from lingxi.auth import service

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


def test_the_api_honours_its_openapi_contract(app: FastAPI, approver_token: str, analyst_token: str) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            customer = str((case.path_parameters or {}).get("customer_id", ""))
            if case.path.endswith(("/dsr/correct", "/dsr/delete")) and REAL_ID.fullmatch(customer):
                return
            token = analyst_token if case.path.startswith("/api/v1/quarantine") else approver_token
            headers = {"Authorization": f"Bearer {token}"}
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

        run()
