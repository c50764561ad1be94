"""One error shape for every failure: `{"ok": false, "error": "...", "errors": [...], "status": N}`.

LingxiError families map to HTTP statuses here and nowhere else: a failed or expired sign-in is 401, a
known principal without the permission 403, NotFound 404, a reused idempotency key 409, bad input 422.
Unexpected failures (and engine or store errors, whose messages carry SQL) become a generic 500 with a
correlation id; the details go to the server log only (ASVS 7.4.1, COMPLIANCE.md R49). Console pages
ask for HTML and get the same message rendered as a page, or a redirect to the sign-in page on 401.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from lingxi.auth.errors import AccountError, AuthenticationFailed, PasswordRejected, PermissionDenied, TooManyAttempts
from lingxi.errors import ConfigError, InputError, LingxiError, NotFound, SpecError
from lingxi.privacy.consent import IdempotencyConflict
from lingxi.redaction import redact_identifiers
from lingxi.web.render import error_page

log = logging.getLogger("lingxi.api")

STATUS_OF: tuple[tuple[type[LingxiError], int], ...] = (
    (AuthenticationFailed, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (IdempotencyConflict, 409),  # before InputError/SpecError: a reused key is a conflict, not bad syntax
    (InputError, 422),
    (SpecError, 422),
    (ConfigError, 422),
    (AccountError, 422),
    (PasswordRejected, 422),
    (TooManyAttempts, 429),
)


class UnsupportedMediaType(LingxiError):
    """A request body in a content type the route does not take (ASVS 13.1.5)."""


def status_of(error: LingxiError) -> int:
    for family, status in STATUS_OF:
        if isinstance(error, family):
            return status
    if isinstance(error, UnsupportedMediaType):
        return 415
    return 500


def error_body(status: int, error: str, errors: Sequence[Any] = ()) -> dict[str, Any]:
    return {"ok": False, "error": redact_identifiers(error), "errors": list(errors), "status": status}


def wants_html(request: Request) -> bool:
    """Console pages (not /api) asked for by a browser get HTML; everything else gets JSON."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def respond(request: Request, status: int, error: str, errors: Sequence[Any] = ()) -> Response:
    if wants_html(request):
        if status == 401:
            return RedirectResponse("/login", status_code=303)
        return error_page(request, status, redact_identifiers(error))
    headers = {"WWW-Authenticate": 'Bearer realm="lingxi"'} if status == 401 else None
    return JSONResponse(error_body(status, error, errors), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the one shape."""

    @app.exception_handler(LingxiError)
    async def lingxi_error(request: Request, exc: LingxiError) -> Response:
        status = status_of(exc)
        if status == 500:
            return _internal(request, exc)
        message = str(exc).split("\n  hint: ")[0]
        response = respond(request, status, message, [{"hint": exc.hint}] if exc.hint else [])
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return respond(request, 422, invalid_message(errors), errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return respond(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return _internal(request, exc)


#: Where a request value came from, as FastAPI's validation errors name it (the first element of `loc`).
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def invalid_message(errors: Sequence[dict[str, Any]], shown: int = 3) -> str:
    """`the request is invalid: `before_seq`: Input should be ...`: the fields named, so a client sees which."""
    parts = []
    for e in errors[:shown]:
        loc = e["loc"][1:] if e["loc"] and e["loc"][0] in _SOURCES else e["loc"]
        name = ".".join(part[:64] for part in loc) or "body"  # a refused dict key is in `loc`, as sent
        parts.append(f"`{name}`: {e['msg']}")
    more = f" (and {len(errors) - shown} more)" if len(errors) > shown else ""
    return "the request is invalid" + (": " + "; ".join(parts) + more if parts else "")


def _internal(request: Request, exc: Exception) -> Response:
    correlation = secrets.token_hex(6)
    log.error("internal error %s on %s %s", correlation, request.method, request.url.path, exc_info=exc)
    return respond(request, 500, f"internal error (correlation id {correlation}); the details are in the server log")
