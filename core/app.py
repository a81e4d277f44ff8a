"""The ASGI application: the composition root that wires core, schema and the web.

Together with ``cli.py`` this is the only module that imports every package; it
stays small so the wiring is easy to find.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from ..plugins.manager import PackManager
from ..schema import build_schema
from ..schema.context import Context, build_context
from ..schema.ide import graphiql_html, mount_static
from .db import require_migrated, tortoise_config
from .settings import Settings, get_settings


class GoalGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI view with our context and a self-hosted GraphiQL."""

    def __init__(self, settings: Settings, packs: PackManager) -> None:
        super().__init__(
            build_schema(settings.max_query_depth, mask_errors=not settings.debug),
            graphql_ide="graphiql",
        )
        self.settings = settings
        self.packs = packs

    async def get_context(  # type: ignore[override]
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        return await build_context(request, response, self.settings, self.packs)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:  # type: ignore[override]
        return HTMLResponse(graphiql_html())


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
    graphql = GoalGraphQL(settings, packs or PackManager.discover())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            await require_migrated(settings.database_url)
            yield

    return Starlette(
        routes=[
            Route("/", home),
            Route("/health", health),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            mount_static(),
        ],
        lifespan=lifespan,
    )
