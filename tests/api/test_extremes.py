"""Extreme values in every parameter of every operation: 4xx, never a 5xx (security review: bounds, large values).

Property-based generation (tests/api/test_schemathesis.py) stays inside the published bounds, so it never
sends a year-1 date to a field bounded by `le=`. This sweep is explicit and deterministic: every parameter
of every operation in the OpenAPI contract (path, query, header, each top-level body field and each value
of a free-form body object) and of every console route gets, one at a time, 64-bit overflows, negative
numbers, years 1 and 9999, a 20,000-character string and wrong types, while the rest of the request stays
valid. It runs on a bank of its own, so corrections reach a real customer without changing the shared bank.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lingxi.api.app import create_app
from lingxi.auth import service
from lingxi.auth.roles import permissions_of

from ..auth.conftest import FAST
from ..conftest import fresh_database
from .conftest import Bank, build_bank
from .matrix import UNMASK_BODY, consent_body

#: 64-bit overflows both ways, negative, zero, the largest double, years 1 and 9999, empty, very long, NUL,
#: a lone surrogate, NaN, wrong types. Applied to each parameter whatever its declared type.
EXTREMES: tuple[Any, ...] = (
    2**63,
    -(2**63) - 1,
    2**64,
    -1,
    0,
    1.7976931348623157e308,
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "0000-00-00",
    "A" * 20_000,
    "",
    "x\x00y",  # PostgreSQL can neither store nor compare a NUL character
    "\ud800",  # a lone surrogate: valid JSON, not encodable as UTF-8 (sent in JSON bodies only)
    float("nan"),  # sent as JSON `NaN`, which Python's parser accepts
    True,
    None,
    [2**63],
    {"a": 2**63},
)
#: Replaced by a new idempotency key in each request, so every variant of a consent is recorded, not a retry.
FRESH = "<fresh>"
KNOWN_OPERATIONS = 20  # of the contract; a new one is swept as soon as it exists
#: Operations that store what they are sent: after each accepted variant, the reads of what they stored run.
STORING = ("/consents", "/dsr/correct")
CUSTOMER = "/api/v1/customers/{customer_id}"
READS = (("GET", CUSTOMER), ("GET", f"{CUSTOMER}/consents"), ("POST", f"{CUSTOMER}/dsr/export"))


@dataclass(frozen=True)
class Call:
    """One request: a (templated) path, its parameters, and a JSON or form body."""

    method: str
    path: str
    path_params: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    form: dict[str, Any] | None = None

    def send(self, client: TestClient) -> Any:
        url = self.path
        for name, value in self.path_params.items():
            url = url.replace("{" + name + "}", quote(_text(value), safe=""))
        query = {k: _text(v) for k, v in self.query.items() if v is not None}
        headers = {k: _text(v) for k, v in self.headers.items() if v is not None}
        content = None
        if self.json is not None:  # Python's encoder, not httpx's: NaN and lone surrogates as a client may send them
            body = self.json
            if isinstance(body, dict) and body.get("idempotency_key") == FRESH:  # each variant a new event
                fresh = {"idempotency_key": f"extreme-{uuid.uuid4().hex}"}
                sent_in_header = "Idempotency-Key" in headers  # then the body sends none (they must match)
                body = {k: v for k, v in body.items() if k != "idempotency_key"} if sent_in_header else body | fresh
            content, headers = json.dumps(body).encode(), headers | {"content-type": "application/json"}
        return client.request(
            self.method, url, params=query, headers=headers, content=content, data=self.form, follow_redirects=False
        )


def _text(value: Any) -> str:
    return "true" if value is True else str(value)


def _in_text(value: Any, *, header: bool = False) -> bool:
    """Whether a client can send `value` in a URL, form or header at all (UTF-8; headers without controls)."""
    if value is None or isinstance(value, list | dict):
        return False
    text = _text(value)
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return not header or text.isprintable()


def variants(call: Call) -> Iterator[tuple[str, Call]]:
    """The call with one parameter at a time set to each extreme value."""
    for value in EXTREMES:
        for name in call.path_params:
            if _in_text(value) and value != "":  # an empty segment would change the route, not the value
                yield f"path {name}={_short(value)}", replace(call, path_params=call.path_params | {name: value})
        for name in call.query:
            if _in_text(value):
                yield f"query {name}={_short(value)}", replace(call, query=call.query | {name: value})
        for name in call.headers:
            if _in_text(value, header=True):
                yield f"header {name}={_short(value)}", replace(call, headers=call.headers | {name: value})
        if isinstance(call.json, dict):
            for name, current in call.json.items():
                yield f"body {name}={_short(value)}", replace(call, json=call.json | {name: value})
                if isinstance(current, dict):  # a free-form object (corrections): each of its values too
                    for key in current:
                        nested = call.json | {name: current | {key: value}}
                        yield f"body {name}.{key}={_short(value)}", replace(call, json=nested)
        if call.form is not None:
            for name in call.form:
                if _in_text(value):
                    yield f"form {name}={_short(value)}", replace(call, form=call.form | {name: _text(value)})


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} chars)"


def contract_calls(app: FastAPI, bank: Bank) -> list[Call]:
    """A valid call of every operation of the OpenAPI contract, every parameter it declares present."""
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/api/v1/auth/login"): {"username": "nobody", "password": "wrong password"},
        ("POST", "/api/v1/customers/search"): {"query": "C", "limit": 5},
        ("POST", "/api/v1/customers/{customer_id}/unmask"): UNMASK_BODY,
        ("POST", "/api/v1/customers/{customer_id}/consents"): consent_body() | {"idempotency_key": FRESH},
        ("POST", "/api/v1/customers/{customer_id}/dsr/correct"): {
            "changes": {"city": "绍兴", "birth_date": "1980-02-03"}
        },
        ("POST", "/api/v1/customers/{customer_id}/dsr/delete"): {"confirm_customer_id": "not-the-customer"},
    }
    examples = {
        "customer_id": bank.cust_a,
        "limit": 5,
        "before_seq": 10,
        "history": True,
        "action": "login",
        "table": "customers",
        "reason": "bad_type",
        "load": "20261201T000000-00000000",
    }
    calls = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            params: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
            for p in operation.get("parameters", []):
                params[p["in"]][p["name"]] = examples.get(p["name"], "x")
            if "Idempotency-Key" in params["header"]:
                params["header"]["Idempotency-Key"] = None  # the body's key is used; the sweep sets the header
            body = bodies.get((method.upper(), path))
            assert ("requestBody" in operation) == (body is not None), (method, path)
            calls.append(Call(method.upper(), path, params["path"], params["query"], params["header"], json=body))
    return calls


def console_calls(bank: Bank) -> list[Call]:
    """The console's routes (not in the contract) with every parameter and form field they read."""
    customer = {"customer_id": bank.cust_a}
    return [
        Call("GET", "/audit", query={"actor": "a", "action": "login", "target": "t", "before_seq": 10}),
        Call("GET", "/lang/{code}", path_params={"code": "en"}),
        Call("GET", "/customers/{customer_id}", path_params=customer),
        Call("POST", "/customers/search", form={"query": "C"}),
        Call(
            "POST",
            "/customers/{customer_id}/unmask",
            path_params=customer,
            form={"field_name": "1", "fields": "name", "reason": "CUSTOMER_CONTACT"},
        ),
        Call("POST", "/customers/{customer_id}/dsr/export", path_params=customer),
        Call("POST", "/customers/{customer_id}/dsr/delete", path_params=customer, form={"confirm_customer_id": "x"}),
        Call("POST", "/login", form={"username": "nobody", "password": "wrong password"}),
        Call("GET", "/quarantine", query={"table": "customers"}),
        Call(
            "GET",
            "/quarantine/{table}",
            path_params={"table": "customers"},
            query={"load": "20261201T000000-00000000", "reason": "bad_type", "limit": 5},
        ),
    ]


#: The PostgreSQL sweep is the slower half; `slow` still runs in `make test` (only `spark` is a separate pass).
BANKS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=[pytest.mark.postgres, pytest.mark.slow]),
]


@pytest.fixture(scope="module", params=BANKS)
def own(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, Bank]]:
    """A bank of this module's own, its operational store on SQLite or PostgreSQL (NUL, encodings differ)."""
    with ExitStack() as stack:
        url = None
        if request.param == "postgresql":
            url = stack.enter_context(fresh_database(request.getfixturevalue("postgres_server")))
        bank = build_bank(Path(tmp_path_factory.mktemp("extremebank")), url)
        application = create_app(bank.settings, policy=FAST)
        with TestClient(application, base_url="http://localhost"):  # runs the lifespan (serving copies)
            yield application, bank
        application.state.lingxi.reader.close()
        application.state.lingxi.store.dispose()


def client_of(app: FastAPI, username: str, accept: str) -> TestClient:
    """A Bearer client with every permission of `username`: the approver for most routes, a branch RM of
    the customer's branch for unmasking (which no approver may do)."""
    store = app.state.lingxi.store
    scopes = sorted(str(p) for p in permissions_of(service.get_user(store, username).role))
    token = service.issue_token(store, username, scopes, by="cli:test").secret
    headers = {"Authorization": f"Bearer {token}", "accept": accept}
    return TestClient(app, base_url="http://localhost", headers=headers, raise_server_exceptions=False)


def sweep(app: FastAPI, calls: list[Call], *, accept: str) -> list[str]:
    """Send every variant; returns those answered 5xx. Sign-ins come from a new address each time, so the
    throttle answers 429 to none of them and each reaches the code under test. What a variant stored is read
    back (the 360 and the consents after each, the export of everything once the operation's sweep is done)."""
    approver, rm = client_of(app, "approver1", accept), client_of(app, "rm_a", accept)
    analyst = client_of(app, "analyst1", accept)  # the quarantine's reader (`ingest:quarantine`)
    addresses = (f"198.51.{i // 250}.{i % 250 + 1}" for i in itertools.count())
    reads = {key: c for c in calls for key in READS if (c.method, c.path) == key}
    failures = []

    def read_back(keys: tuple[tuple[str, str], ...], after: str) -> None:
        for key in keys:
            if key in reads and (back := reads[key].send(approver)).status_code >= 500:
                failures.append(f"{key[0]} {key[1]} after {after}: {back.status_code} {back.text[:200]}")

    for call in calls:
        stored = False
        for label, variant in variants(call):
            if variant.path.endswith("/login"):
                client = TestClient(app, base_url="http://localhost", client=(next(addresses), 50000))
            else:
                client = rm if variant.path.endswith("/unmask") else approver
                if variant.path.startswith(("/quarantine", "/api/v1/quarantine")):
                    client = analyst
            r = variant.send(client)
            if r.status_code >= 500:
                failures.append(f"{variant.method} {variant.path} {label}: {r.status_code} {r.text[:200]}")
            elif r.status_code < 300 and variant.path.endswith(STORING):
                stored = True
                read_back(READS[:2], f"{variant.path} {label}")
        if stored:
            read_back(READS[2:], call.path)
    return failures


def test_extreme_values_in_every_contract_parameter_are_never_a_server_error(own: tuple[FastAPI, Bank]) -> None:
    app, bank = own
    calls = contract_calls(app, bank)
    assert len(calls) == KNOWN_OPERATIONS
    assert sweep(app, calls, accept="application/json") == []


def test_extreme_values_in_every_console_parameter_are_never_a_server_error(own: tuple[FastAPI, Bank]) -> None:
    app, bank = own
    assert sweep(app, console_calls(bank), accept="text/html") == []
