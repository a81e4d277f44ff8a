"""A point-of-sale export API on 127.0.0.1 that misbehaves on demand.

It answers ``GET /api/sales?since=&until=&page=&page_size=`` with
``{"items": [{"store_code", "date", "sales", "visitors"}, ...]}``, one row per store and
day, and can rate-limit (429 + Retry-After), fail (500), stall past the client's
timeout, send malformed JSON, and carry rows with bad values.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from aiohttp import web


@dataclass
class FakePos:
    stores: list[str]
    first_day: date
    days: int
    #: request number (1-based) → "429", "500", "slow" or "malformed"
    faults: dict[int, str] = field(default_factory=dict)
    #: (store, day) → a replacement row (bad values)
    bad_rows: dict[tuple[str, date], dict[str, Any]] = field(default_factory=dict)
    retry_after: str = "1"
    slow_seconds: float = 3.0
    #: pause before every answer (gives a sync time to be killed mid-way)
    delay: float = 0.0
    requests: int = 0
    url: str = ""
    log: list[dict[str, str]] = field(default_factory=list)

    def sales(self, store: str, day: date) -> float:
        return 1000.0 + 10 * self.stores.index(store) + (day - self.first_day).days

    def visitors(self, store: str, day: date) -> float:
        return 100.0 + self.stores.index(store) + 2 * (day - self.first_day).days

    def rows(self, since: date, until: date) -> list[dict[str, Any]]:
        found = []
        for offset in range(self.days):
            day = self.first_day + timedelta(days=offset)
            if not since <= day <= until:
                continue
            for store in self.stores:
                row = {
                    "store_code": store,
                    "date": day.isoformat(),
                    "sales": self.sales(store, day),
                    "visitors": self.visitors(store, day),
                }
                found.append(self.bad_rows.get((store, day), row))
        return found

    def good(self) -> dict[tuple[str, str, date], float]:
        """Every (store, metric, day) value a clean sync must store."""
        found = {}
        for offset in range(self.days):
            day = self.first_day + timedelta(days=offset)
            for store in self.stores:
                if (store, day) in self.bad_rows:
                    continue
                found[(store, "daily_sales", day)] = self.sales(store, day)
                found[(store, "foot_traffic", day)] = self.visitors(store, day)
        return found

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.log.append(dict(request.query))
        if self.delay:
            await asyncio.sleep(self.delay)
        fault = self.faults.get(self.requests)
        if fault == "429":
            return web.json_response(
                {"error": "slow down"}, status=429, headers={"Retry-After": self.retry_after}
            )
        if fault == "500":
            return web.json_response({"error": "boom"}, status=500)
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        since = date.fromisoformat(request.query["since"])
        until = date.fromisoformat(request.query["until"])
        page, size = int(request.query["page"]), int(request.query["page_size"])
        rows = self.rows(since, until)[(page - 1) * size : page * size]
        if fault == "malformed":
            return web.Response(
                text='{"items": [{"store_code": "sh', content_type="application/json"
            )
        return web.json_response({"items": rows, "page": page})


@asynccontextmanager
async def serving(pos: FakePos) -> AsyncIterator[FakePos]:
    """Serve ``pos`` on a free port of 127.0.0.1 for the block's duration."""
    app = web.Application()
    app.router.add_get("/api/sales", pos.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    pos.url = f"http://127.0.0.1:{port}/api/sales"
    try:
        yield pos
    finally:
        await runner.cleanup()


def pos_config(pos: FakePos, **overrides: Any) -> dict[str, Any]:
    """An HTTP JSON binding configuration for the fake POS."""
    return {
        "url": pos.url,
        "paging": "page",
        "page_size": 500,
        "items_field": "items",
        "subject_field": "store_code",
        "period_field": "date",
        "values": {"sales": "daily_sales", "visitors": "foot_traffic"},
        "start": pos.first_day.isoformat(),
        "window_days": 31,
        "overlap_days": 0,
        "timeout": 1.0,
        "attempts": 4,
        "max_wait": 2.0,
        **overrides,
    }
