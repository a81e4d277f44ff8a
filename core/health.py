"""Health for orchestrators and load balancers: ``/healthz`` and ``/readyz``.

``/healthz`` says the process is up and serving: 200 without touching anything, so a
slow database never gets a healthy worker restarted. ``/readyz`` says the worker can
serve requests now: the database answers within ``GOALGRAPH_READINESS_TIMEOUT_SECONDS``,
its schema is the code's (no pending migration), and the event bus is connected (a
bus that cannot tell is taken as connected). Otherwise 503, with every check named, so
a balancer takes the worker out of rotation until it recovers and an operator sees why.
``/health``, the older name, answers as ``/readyz``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from . import events
from .db import probe, require_migrated
from .settings import ConfigError, Settings

#: How long "no pending migration" is believed before the table is read again: a
#: probe every few seconds need not plan the migrations every time.
MIGRATIONS_RECHECK_SECONDS = 60.0

OK = "ok"


async def healthz(_: Request) -> JSONResponse:
    """The process is up (liveness): nothing is checked."""
    return JSONResponse({"status": OK})


class Readiness:
    """The checks of ``/readyz``, with the last good migration check remembered."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._migrated_at: float | None = None

    async def checks(self) -> dict[str, str]:
        """Each check's verdict: ``ok`` or why not."""
        database = await self._verdict(self._database)
        migrations = await self._verdict(self._migrations) if database == OK else "not checked"
        bus = OK if getattr(events.bus(), "connected", True) else "not connected"
        return {"database": database, "migrations": migrations, "event_bus": bus}

    async def _verdict(self, check: Callable[[], Awaitable[None]]) -> str:
        try:
            async with asyncio.timeout(self.settings.readiness_timeout_seconds):
                await check()
        except ConfigError as exc:
            return str(exc)
        except TimeoutError:
            return f"no answer within {self.settings.readiness_timeout_seconds:g} s"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        return OK

    async def _database(self) -> None:
        await probe(self.settings.database_url, self.settings.readiness_timeout_seconds)

    async def _migrations(self) -> None:
        now = time.monotonic()
        if self._migrated_at is not None and now - self._migrated_at < MIGRATIONS_RECHECK_SECONDS:
            return
        self._migrated_at = None
        await require_migrated(self.settings.database_url)  # NotMigrated names the command
        self._migrated_at = now

    async def endpoint(self, _: Request) -> JSONResponse:
        checks = await self.checks()
        failed = sorted(name for name, verdict in checks.items() if verdict != OK)
        body = {"status": "unavailable" if failed else OK, "checks": checks, "failed": failed}
        return JSONResponse(body, status_code=503 if failed else 200)


def routes(settings: Settings) -> list[BaseRoute]:
    """``/healthz``, ``/readyz`` and ``/health`` (as ``/readyz``)."""
    readiness = Readiness(settings)
    return [
        Route("/healthz", healthz, include_in_schema=False),
        Route("/readyz", readiness.endpoint, include_in_schema=False),
        Route("/health", readiness.endpoint, include_in_schema=False),
    ]
