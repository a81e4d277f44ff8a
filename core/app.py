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
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from ..adapters import retries
from ..adapters.contract import DataAdapter
from ..adapters.oidc_routes import oidc_routes
from ..adapters.runner import Lease
from ..adapters.scheduler import Scheduler
from ..adapters.scim.routes import MOUNT as SCIM_MOUNT
from ..adapters.scim.routes import scim_routes
from ..adapters.syncer import Syncer, worker_name
from ..adapters.webhook import webhook_endpoint
from ..plugins.manager import PackManager
from ..plugins.view import org_sources_of, system_scope, tenant_packs
from ..schema.ide import mount_static
from ..schema.page import page_routes
from ..schema.signin_pages import signin_routes
from ..schema.view import GoalGraphQL
from . import events, health, logs, metrics, rls, tracing
from .body_limit import BodyLimit
from .db import (
    check_connection_role,
    connected,
    is_postgres,
    require_migrated,
    tortoise_config,
)
from .http_security import SecurityHeaders
from .insights.scan import scan
from .models import SyncRun, Tenant
from .pgbus import events_bus_for
from .ratelimit import RateLimiter
from .secrets import SecretBox
from .settings import Settings, get_settings, secret_box_key
from .tenancy import TenantScope


def make_syncer(settings: Settings, manager: PackManager, session: aiohttp.ClientSession) -> Syncer:
    """The sync service of this process (the server's, or one CLI run's); its retries
    are logged through goalgraph's log, naming the binding (``adapters/retries.py``)."""
    retries.install()

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


def make_scheduler(settings: Settings, manager: PackManager, syncer: Syncer) -> Scheduler:
    """The scheduler loop of ``serve`` and ``worker``: the due syncs, and each tenant's
    periodic scan every ``GOALGRAPH_SCAN_EVERY_MINUTES``."""

    async def scan_tenant(tenant: Tenant) -> None:
        scope = system_scope(tenant, manager)
        await scan(scope, (await tenant_packs(scope, manager)).courses)

    return Scheduler(
        syncer,
        settings.sync_poll_seconds,
        scan_tenant=scan_tenant,
        scan_every_minutes=settings.scan_every_minutes,
    )


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """``goalgraph worker``: the scheduler loop alone, no HTTP server, until ``stop`` is
    set (SIGTERM, SIGINT); the loop is then cancelled, which abandons the sync in flight
    cleanly (``adapters/scheduler.py``). Events go out on the same bus as the server's
    (on PostgreSQL, to every web worker). The caller has checked the database."""
    manager = PackManager.discover()
    async with connected(settings.database_url), aiohttp.ClientSession() as session:
        bus = await events_bus_for(settings)  # the alerts of its scans reach web workers
        previous_bus = events.install(bus)
        loop = asyncio.create_task(
            make_scheduler(settings, manager, make_syncer(settings, manager, session)).run_forever()
        )
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({loop, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            loop.cancel()
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
            await bus.close()
            events.install(previous_bus)


def create_app(settings: Settings | None = None, packs: PackManager | None = None) -> Starlette:
    """A new app; Tortoise opens and closes with the app's lifespan.

    Packs are discovered once, here: a broken pack is reported and left out, and the
    app serves every other one.
    """
    settings = settings or get_settings()
    manager = packs or PackManager.discover()
    limiter = RateLimiter.from_settings(settings)
    graphql = GoalGraphQL(settings, manager, limiter)
    #: The webhook endpoint while the app runs (built with the sync service it stores through).
    hook: Callable[[Request], Awaitable[JSONResponse]] | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal hook
        async with (
            RegisterTortoise(
                app, config=tortoise_config(settings.database_url, settings.db_pool_size)
            ),
            aiohttp.ClientSession() as session,
        ):
            await require_migrated(settings.database_url)
            if is_postgres(settings.database_url):
                await check_connection_role(production=settings.env == "production")
            bus = await events_bus_for(settings)
            previous_bus = events.install(bus)
            graphql.syncer = make_syncer(settings, manager, session)
            hook = webhook_endpoint(
                graphql.syncer.box,
                lambda tenant: system_scope(tenant, manager),
                graphql.syncer.push,
            )
            loop = (
                asyncio.create_task(make_scheduler(settings, manager, graphql.syncer).run_forever())
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
                await limiter.close()

    async def webhook(request: Request) -> Response:
        if hook is None:
            return JSONResponse({"error": "starting up"}, status_code=503)
        return await hook(request)

    return Starlette(
        routes=[
            *page_routes(),
            *health.routes(settings),
            *metrics.routes(settings),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/hooks/{binding:int}", webhook, methods=["POST"]),
            Mount(SCIM_MOUNT, app=scim_routes(lambda tenant: system_scope(tenant, manager))),
            *oidc_routes(settings),
            WebSocketRoute("/graphql", graphql),
            *signin_routes(),
            mount_static(),
        ],
        middleware=[
            Middleware(SecurityHeaders, production=settings.production),
            Middleware(logs.RequestContext),
            Middleware(metrics.HttpMetrics),
            *tracing.middleware(settings),
            Middleware(rls.Unbound),
            Middleware(
                BodyLimit,
                max_body=settings.max_body_bytes,
                max_upload=settings.max_upload_bytes,
                default_locale=settings.default_locale,
            ),
        ],
        lifespan=lifespan,
    )
