"""The FastAPI application: the JSON API under /api/v1 (its OpenAPI document is the contract) and the console.

`create_app` wires the operational store (its audit entries signed with the keyring's audit key, and the
chain's head checkpointed outside the database while the app runs), the lake reader (one DuckDB engine
for the app, a cursor per thread), the error shape, security headers and the routes. Routes and pages
are found, not listed: every module of `lingxi.api.routes` and of `lingxi.web` that defines a `router`,
and a plug-in capability's own `api` and `web` modules (lingxi.registry.face_modules). Every route
declares who may call it with `lingxi.api.deps.requires` or `public`; tests/api/test_matrix.py fails
when a route is added without being in the authorisation matrix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from lingxi import __version__, registry
from lingxi.api import errors
from lingxi.api.limits import BodyLimit
from lingxi.api.schemas import ErrorPublic
from lingxi.api.state import AppState
from lingxi.auth import audit
from lingxi.auth.checkpoints import Checkpointer
from lingxi.auth.passwords import DEFAULT_POLICY, AuthPolicy
from lingxi.config import Settings
from lingxi.customers import LakeReader
from lingxi.store import Lake, connect

STATIC = Path(__file__).resolve().parents[1] / "web" / "static"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def create_app(
    settings: Settings, *, policy: AuthPolicy = DEFAULT_POLICY, secure_cookies: bool | None = None
) -> FastAPI:
    """The app for `settings`. `secure_cookies` None: Secure cookies unless on plain HTTP to a loopback address."""
    registry.configure(settings.capabilities)  # plug-ins named in the settings (LINGXI_CAPABILITIES)
    store = connect(settings.resolved_database_url)
    lake = Lake(settings.lake_dir, store)
    reader = LakeReader(lake, memory_limit=settings.duckdb_memory_limit, threads=settings.duckdb_threads)
    state = AppState.of(settings, store, lake, reader, policy, secure_cookies)
    audit.bind_keys(store, state.keyring.audit)  # every audit entry of the app is signed with the audit key
    checkpointer = Checkpointer(
        store, settings.audit_checkpoint_path, state.keyring.audit, settings.audit_checkpoint_seconds
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(state.reader.refresh, force=True)  # serving copies before the first request
        checkpointer.start()  # the audit head, outside the database, while it moves
        yield
        await run_in_threadpool(checkpointer.stop)  # and once more at shutdown
        state.reader.close()
        store.dispose()

    app = FastAPI(
        title="Lingxi",
        version=__version__,
        summary="Customer intelligence for retail banks: JSON API of the console.",
        docs_url="/api/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
        responses={code: {"model": ErrorPublic, "description": text} for code, text in ERROR_RESPONSES.items()},
    )
    app.state.lingxi = state
    errors.install(app)
    app.middleware("http")(security_headers)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)  # outermost: before anything reads a body
    for face in ("api.routes", "web"):
        for module in registry.face_modules(face):
            app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


ERROR_RESPONSES = {
    401: "Not signed in, or the session or token has ended.",
    403: "Signed in, but the role lacks the permission (or the CSRF token is missing).",
    404: "Not found, or outside the caller's branch scope.",
    413: "The request body is larger than the limit (LINGXI_MAX_BODY_BYTES).",
    415: "The body is not JSON.",
    422: "The request is invalid.",
}


async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Content-type discipline for the API (415, ASVS 13.1.5) and headers on every response (R50)."""
    path = request.url.path
    if path.startswith("/api/") and request.method in BODY_METHODS:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and content_type != "application/json":
            body = errors.error_body(415, f"send the body as application/json, not `{content_type[:60]}`")
            return JSONResponse(body, status_code=415)
    response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.url.scheme == "https":  # served over TLS (directly or behind a proxy that says so): stay on it
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", CSP)
    if not path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")  # personal data is never cached (R50, F20)
    return response


def flat_routes(app: FastAPI) -> list[object]:
    """Every route of the app, with included routers expanded (for the authorisation matrix test)."""
    routes: list[object] = []
    for route in app.routes:
        original = getattr(route, "original_router", None)  # FastAPI >= 0.16x keeps included routers whole
        routes.extend(original.routes if original is not None else [route])
    return routes
