"""The two servers the HTTP workloads load, each a uvicorn process on 127.0.0.1.

    python -m bench.serve app   --url URL --port N   # goalgraph itself
    python -m bench.serve floor --url URL --port N   # the floor: bare starlette + raw SQL

Both run one uvicorn worker with the same options, so their figures (requests per
second, latency, peak memory) differ only by what the server does per request. The
floor answers ``POST /team`` (a department's subtree, scorecard and ranking) and
``POST /tree`` (the whole goal tree) with the ``{"data": …}`` envelope GraphQL uses.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import floor

SECRET = "benchmark-secret-with-enough-length-0001"


#: What every workload's server runs with: no scheduler, and no rate limits, since
#: sixteen clients asking as fast as they can is the measurement here, not abuse.
BENCH_SETTINGS: dict[str, Any] = {
    "sync_poll_seconds": 0,
    "rate_limit_per_token": 0,
    "rate_limit_per_tenant": 0,
}


def app_settings(url: str) -> Any:
    """The app's settings in every workload (``BENCH_SETTINGS``)."""
    from goalgraph.core.settings import Settings

    return Settings(database_url=url, secret=SECRET, **BENCH_SETTINGS)


def bench_environment() -> dict[str, str]:
    """``BENCH_SETTINGS`` as a `goalgraph` command's environment."""
    return {f"GOALGRAPH_{name.upper()}": str(value) for name, value in BENCH_SETTINGS.items()}


class _Target:
    """What ``floor.open_raw`` needs of a target, from a URL."""

    def __init__(self, url: str) -> None:
        self.app_url = url
        self.path = url.removeprefix("sqlite://") if url.startswith("sqlite://") else None


def floor_app(url: str) -> Starlette:
    """The floor server: one raw connection (a pool of 4 on PostgreSQL)."""
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state["raw"] = await floor.open_raw(_Target(url))
        yield
        await state["raw"].close()

    def envelope(data: bytes) -> Response:
        return Response(b'{"data":' + data + b"}", media_type="application/json")

    async def team(request: Request) -> Response:
        body = orjson.loads(await request.body())
        return envelope(await floor.team(state["raw"], body["unit"], body["objective"]))

    async def tree(_: Request) -> Response:
        return envelope(await floor.goal_tree(state["raw"]))

    async def health(_: Request) -> Response:
        return Response(b"ok")

    return Starlette(
        routes=[
            Route("/team", team, methods=["POST"]),
            Route("/tree", tree, methods=["POST"]),
            Route("/health", health),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["app", "floor"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.kind == "app":
        from goalgraph.core.app import create_app

        app = create_app(app_settings(args.url))
    else:
        app = floor_app(args.url)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
