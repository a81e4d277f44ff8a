"""The ASGI application: the composition root that wires core, schema and the web.

Together with ``cli.py`` this is the only module that imports every package; it
stays small so the wiring is easy to find.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

import aiohttp
import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from ..adapters.contract import DataAdapter
from ..adapters.oidc_routes import oidc_routes
from ..adapters.runner import Lease
from ..adapters.scim.routes import MOUNT as SCIM_MOUNT
from ..adapters.scim.routes import scim_routes
from ..adapters.syncer import Syncer, worker_name
from ..adapters.webhook import webhook_endpoint
from ..plugins.manager import PackManager
from ..plugins.view import org_sources_of, system_scope, tenant_packs
from ..schema import build_schema
from ..schema.context import Context, build_context
from ..schema.ide import graphiql_html, mount_static
from ..schema.signin_pages import signin_routes
from ..schema.subscriptions import authenticate_connection
from . import events, rls
from .db import check_connection_role, is_postgres, require_migrated, tortoise_config
from .insights.scan import scan
from .models import SyncRun
from .secrets import SecretBox
from .settings import Settings, get_settings, secret_box_key
from .tenancy import TenantScope


class GoalGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI view with our context, a self-hosted GraphiQL, and
    subscriptions over graphql-transport-ws only, signed in at ``connection_init``.

    The legacy ``graphql-ws`` protocol is not offered: older strawberry releases let
    its operations run before the connection was authenticated.
    """

    def __init__(self, settings: Settings, packs: PackManager) -> None:
        super().__init__(
            build_schema(
                settings.max_query_depth,
                mask_errors=not settings.debug,
                fast_paths=settings.fast_paths,
            ),
            graphql_ide="graphiql",
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            # importRoster takes a file; no CSRF exposure, as only a bearer header signs in
            multipart_uploads_enabled=True,
        )
        self.settings = settings
        self.packs = packs

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


def make_syncer(settings: Settings, manager: PackManager, session: aiohttp.ClientSession) -> Syncer:
    """The sync service of this process (the server's, or one CLI run's)."""

    async def adapters_for(scope: TenantScope) -> Mapping[str, type[DataAdapter]]:
        return (await tenant_packs(scope, manager)).adapters()

    async def after_run(scope: TenantScope, run: SyncRun) -> None:
        """New values came in: the feedback loop looks at the tenant again."""
        await scan(scope, (await tenant_packs(scope, manager)).courses)

    return Syncer(
        box=SecretBox(secret_box_key(settings)),
        lease=Lease(worker_name(), settings.sync_lease_seconds),
        session=session,
        adapters_for=adapters_for,
        system_scope=lambda tenant: system_scope(tenant, manager),
        import_dir=settings.import_dir,
        after_run=after_run,
        org_sources_for=lambda scope: org_sources_of(scope, manager),
    )


async def health(_: Request) -> JSONResponse:
    """Liveness plus a round trip to the database (for load balancers)."""
    connection = Tortoise.get_connection("default")
    await connection.execute_query("SELECT 1")
    return JSONResponse({"status": "ok"})


async def home(_: Request) -> RedirectResponse:
    return RedirectResponse("/graphql")


def create_app(settings: Settings | None = None, packs: PackManager | None = None) -> Starlette:
    """A new app; Tortoise opens and closes with the app's lifespan.

    Packs are discovered once, here: a broken pack is reported and left out, and the
    app serves every other one.
    """
    settings = settings or get_settings()
    manager = packs or PackManager.discover()
    graphql = GoalGraphQL(settings, manager)
    #: The webhook endpoint while the app runs (built with the sync service it stores through).
    hook: Callable[[Request], Awaitable[JSONResponse]] | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal hook
        async with (
            RegisterTortoise(app, config=tortoise_config(settings.database_url)),
            aiohttp.ClientSession() as session,
        ):
            await require_migrated(settings.database_url)
            if is_postgres(settings.database_url):
                await check_connection_role(production=settings.env == "production")
            bus = events.InProcessBus()
            previous_bus = events.install(bus)
            graphql.syncer = make_syncer(settings, manager, session)
            hook = webhook_endpoint(
                graphql.syncer.box,
                lambda tenant: system_scope(tenant, manager),
                graphql.syncer.push,
            )
            loop = (
                asyncio.create_task(graphql.syncer.run_forever(settings.sync_poll_seconds))
                if settings.sync_poll_seconds > 0
                else None
            )
            try:
                yield
            finally:
                if loop is not None:
                    loop.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await loop
                graphql.syncer = None
                hook = None
                await bus.close()
                events.install(previous_bus)

    async def webhook(request: Request) -> Response:
        if hook is None:
            return JSONResponse({"error": "starting up"}, status_code=503)
        return await hook(request)

    return Starlette(
        routes=[
            Route("/", home),
            Route("/health", health),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/hooks/{binding:int}", webhook, methods=["POST"]),
            Mount(SCIM_MOUNT, app=scim_routes(lambda tenant: system_scope(tenant, manager))),
            *oidc_routes(settings),
            WebSocketRoute("/graphql", graphql),
            *signin_routes(),
            mount_static(),
        ],
        middleware=[Middleware(rls.Unbound)],
        lifespan=lifespan,
    )
