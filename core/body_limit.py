"""The request body size limit: an ASGI middleware that counts what the client streams.

``Content-Length`` is checked first, so an honest client that announces too much is
refused before a byte is read; but the header may be missing (chunked transfer) or
wrong, so the body is counted as it arrives too, and the request is refused the moment
it goes past the limit, without reading the rest. Multipart bodies (a roster file for
``importRoster``) get their own, larger limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from .errors import ErrorCode
from .i18n import msg, negotiate

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """Raised from ``receive`` once the body passes the limit (not a ValueError, which
    body parsers would answer as a malformed body)."""


def too_large_body(limit: int, locale: str) -> bytes:
    """The 413 answer, shaped as a GraphQL response so clients read one error format, in
    the language the client asked for (no token is read this early)."""
    error = {
        "message": msg("limits.body_too_large", limit=limit).render(locale),
        "extensions": {"code": ErrorCode.PAYLOAD_TOO_LARGE.value},
    }
    return orjson.dumps({"data": None, "errors": [error]})


class BodyLimit:
    """Refuses HTTP request bodies over ``max_body`` bytes (``max_upload`` for
    ``multipart/form-data``) with 413 and a JSON error of code PAYLOAD_TOO_LARGE."""

    def __init__(
        self, app: ASGIApp, max_body: int, max_upload: int, default_locale: str = "en"
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.default_locale = default_locale

    def locale_for(self, scope: Scope) -> str:
        accept = _header(scope, b"accept-language").decode("latin-1") or None
        return negotiate(accept, self.default_locale)

    def limit_for(self, scope: Scope) -> int:
        content_type = _header(scope, b"content-type").lower()
        return self.max_upload if content_type.startswith(b"multipart/form-data") else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        announced = _header(scope, b"content-length")
        if announced.isdigit() and int(announced) > limit:
            await _refuse(send, limit, self.locale_for(scope))
            return
        started = False
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, limit, self.locale_for(scope))


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return b""


async def _refuse(send: Send, limit: int, locale: str) -> None:
    body = too_large_body(limit, locale)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
