"""The GraphQL endpoint: strawberry's ASGI view with goalgraph's context, rate limits,
WebSocket limits and a self-hosted GraphiQL.

``core/app.py`` mounts it at ``/graphql`` for HTTP and WebSockets alike.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.extensions import SchemaExtension
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionContext
from strawberry.types.unset import UNSET, UnsetType

from ..adapters.syncer import Syncer
from ..core import tracing
from ..core.errors import ErrorCode
from ..core.http_security import websocket_origins
from ..core.ratelimit import RATE_LIMITED_MESSAGE, RateLimiter, Refusal
from ..core.settings import Settings
from ..plugins.manager import PackManager
from .build import build_schema
from .context import Context, build_context
from .errors import ApiError
from .ide import graphiql_html
from .observe import Observe
from .subscriptions import LimitedTransportWS, authenticate_connection

#: Query cost points per unit charged to the rate limits (GitHub charges its GraphQL
#: API the same way: a point per 100 nodes). A full 7-level goal tree costs about 7,800
#: points, so it is charged 79 units; a small lookup costs 1.
COST_PER_UNIT = 100


def rate_units(execution_context: ExecutionContext) -> int:
    """What one operation is charged to the rate limits: its query cost
    (``schema/cost.py``, set on the context after validation) in units of
    ``COST_PER_UNIT``, at least 1."""
    context = execution_context.context
    cost = context.cost if isinstance(context, Context) else None
    if cost is None:
        return 1
    return max(1, -(-cost.requested // COST_PER_UNIT))


def rate_limited(refusal: Refusal) -> ApiError:
    """The refusal clients see: RATE_LIMITED, with the seconds to wait."""
    error = ApiError(ErrorCode.RATE_LIMITED, RATE_LIMITED_MESSAGE)
    error.extensions = {**(error.extensions or {}), "retryAfter": refusal.retry_after}
    return error


class RateLimit(SchemaExtension):
    """Charges each operation its cost once its document is parsed and validated (so
    the cost can be read off it), before anything executes; a subscription is charged
    once, when it starts. A refusal is the operation's only error, with data null, and
    over HTTP a 429 with ``Retry-After``. A document that fails validation is charged
    the least cost, 1: it cost the server its parse."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def on_validate(self) -> AsyncGenerator[None, None]:
        # runs after the validation cache (an earlier extension) has validated the document
        execution = self.execution_context
        context = execution.context
        if isinstance(context, Context):
            cost = 1 if execution.pre_execution_errors else rate_units(execution)
            refusal = await self.limiter.charge(context.caller, cost)
            if refusal is not None:
                execution.pre_execution_errors = [rate_limited(refusal)]
                if isinstance(context.response, Response):
                    context.response.status_code = 429
                    context.response.headers["Retry-After"] = str(refusal.retry_after)
        yield


#: Why a websocket that sent a message over the size limit is closed (code 1009).
WS_MESSAGE_TOO_LARGE = "Message too large"


class LimitedWebSocket(ASGIWebSocketAdapter):
    """strawberry's websocket adapter with a size limit on incoming messages: one over
    ``ws_max_message_bytes`` closes the connection with 1009 (Message Too Big), as
    uvicorn itself does past its ``ws_max_size`` under ``goalgraph serve``."""

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        view = self.view
        limit = view.settings.ws_max_message_bytes if isinstance(view, GoalGraphQL) else None
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                if limit is not None and len(text.encode()) > limit:
                    await self.ws.close(code=1009, reason=WS_MESSAGE_TOO_LARGE)
                    return
                try:
                    yield self.view.decode_json(text)
                except ValueError as exc:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from exc
        except KeyError as exc:
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass


class GoalGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI view with our context, a self-hosted GraphiQL, and
    subscriptions over graphql-transport-ws only, signed in at ``connection_init``.

    The legacy ``graphql-ws`` protocol is not offered: older strawberry releases let
    its operations run before the connection was authenticated.
    """

    websocket_adapter_class = LimitedWebSocket
    graphql_transport_ws_handler_class = LimitedTransportWS

    def __init__(
        self, settings: Settings, packs: PackManager, limiter: RateLimiter | None = None
    ) -> None:
        limiter = limiter or RateLimiter.from_settings(settings)
        schema = build_schema(
            settings.max_query_depth,
            mask_errors=not settings.debug,
            fast_paths=settings.fast_paths,
            introspection=not settings.production,
            suggestions=not settings.production,
            max_cost=settings.max_query_cost,
            max_tokens=settings.max_query_tokens,
        )
        # the rate limits last but one, so they see the document validated (and, in
        # time, its cost computed); then what operators see (schema/observe.py); the
        # trace's span first, around everything
        schema.extensions = (
            *tracing.schema_extensions(settings),
            *schema.extensions,
            partial(RateLimit, limiter),
            Observe,
        )
        super().__init__(
            schema,
            # production serves no IDE: GraphiQL is a development tool
            graphql_ide=None if settings.production else "graphiql",
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            allowed_origins=websocket_origins(settings),
            # importRoster takes a file; no CSRF exposure, as only a bearer header signs in
            multipart_uploads_enabled=True,
            # queries over GET stay allowed (cacheable reads); strawberry refuses
            # mutations over GET whatever this says
            allow_queries_via_get=True,
            max_subscriptions_per_connection=settings.ws_max_subscriptions,
        )
        self.settings = settings
        self.packs = packs
        self.limiter = limiter

        #: Set while the app runs (its lifespan owns the HTTP session behind it).
        self.syncer: Syncer | None = None

    async def get_context(  # type: ignore[override]
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        return await build_context(request, response, self.settings, self.packs, self.syncer)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        await authenticate_connection(context)
        return UNSET

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:  # type: ignore[override]
        return HTMLResponse(graphiql_html())

    def encode_json(self, data: object) -> str:
        """Answers as JSON through orjson: a whole goal tree is tens of thousands of
        values, and the standard library's encoder is several times slower at them.
        Text, not bytes: strawberry sends bytes over a websocket as binary frames,
        which graphql-transport-ws clients do not read."""
        return orjson.dumps(data).decode()
