"""HTTP hardening of every response, and which pages may open WebSockets.

``SecurityHeaders`` is a pure ASGI middleware, outermost in the app (``core/app.py``),
so every route (the GraphQL endpoint, SCIM, sign-in pages, static files, errors) gets
the headers a browser needs to keep answers and pages from being sniffed as another
type, framed by another site (clickjacking) or leaking their URL as a referrer; with
``GOALGRAPH_ENV=production`` also ``Strict-Transport-Security``, since production is
served over HTTPS. A route that sets one of these headers itself keeps its own value.

WebSocket origins are checked by strawberry's view, which refuses a cross-origin
handshake unless its origin is allowed (browsers apply no same-origin rule to
WebSockets); ``websocket_origins`` says which: in production the configured ones, in
development every one, for a frontend's dev server on another port. A handshake
without ``Origin`` comes from a program, not a page, and signs in with its token.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .settings import Settings

#: On every HTTP response.
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"content-security-policy", b"frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
)

#: With GOALGRAPH_ENV=production: browsers keep to HTTPS for two years.
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class SecurityHeaders:
    """Adds ``HEADERS`` (and ``HSTS`` in production) to every HTTP response."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.headers = (*HEADERS, HSTS) if production else HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def websocket_origins(settings: Settings) -> tuple[str, ...]:
    """Origins whose pages may open WebSockets: ``GOALGRAPH_ALLOWED_ORIGINS``, else the
    origin of ``GOALGRAPH_PUBLIC_URL``, in production; every one (``*``) in development."""
    if not settings.production:
        return ("*",)
    listed = settings.allowed_origins or [settings.public_url]
    return tuple(url.strip() for url in listed if url.strip())
