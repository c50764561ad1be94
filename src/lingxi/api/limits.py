"""A limit on request bodies, enforced before anything reads them (issue 10, F9).

Without it a 30 MB JSON body was read and parsed before validation refused it: a cheap way to make the
server work. `BodyLimit` is plain ASGI middleware: a declared `Content-Length` over the limit is answered
413 at once; a body without one (chunked) is read up to the limit and refused as soon as it passes it, then
replayed to the app, which therefore never holds more than the limit. The default (1 MiB, setting
`LINGXI_MAX_BODY_BYTES`) fits every route today; a route that needs more gets its own entry in `overrides`
(a path prefix and its limit).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lingxi.api.errors import error_body

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BodyLimit:
    """ASGI middleware refusing request bodies larger than the limit of their path with 413."""

    def __init__(self, app: ASGIApp, *, limit: int, overrides: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.overrides = dict(overrides or {})

    def limit_for(self, path: str) -> int:
        matches = [(len(prefix), size) for prefix, size in self.overrides.items() if path.startswith(prefix)]
        return max(matches)[1] if matches else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay(chunks, message), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(chunks, None), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(chunks: list[bytes], then: Message | None) -> Receive:
    """A `receive` that hands the app the buffered body in one message, then whatever came after it."""
    pending: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
    if then is not None:
        pending = [then]

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return {"type": "http.disconnect"}

    return receive


async def _too_large(send: Send, limit: int) -> None:
    body: dict[str, Any] = error_body(413, f"the request body is larger than {limit:,} bytes")
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": [*headers, (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})
