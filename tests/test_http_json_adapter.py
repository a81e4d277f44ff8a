"""The HTTP JSON adapter against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from goalgraph.adapters import AdapterError, HttpJsonAdapter, Reading


class Pos(HttpJsonAdapter):
    name: ClassVar[str] = "test.pos"
    metrics: ClassVar[dict[str, str]] = {"pos.sales": "CNY"}


@dataclass
class Source:
    """A POS export endpoint that answers ``payload`` with ``status``."""

    url: str = ""
    payload: object = field(default_factory=list)
    status: int = 200
    seen: list[dict[str, str]] = field(default_factory=list)


@pytest_asyncio.fixture
async def source() -> AsyncIterator[Source]:
    state = Source()

    async def readings(request: web.Request) -> web.Response:
        state.seen.append(dict(request.query))
        return web.json_response(state.payload, status=state.status)

    app = web.Application()
    app.router.add_get("/readings", readings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}/readings"
    try:
        yield state
    finally:
        await runner.cleanup()


async def test_fetches_readings_for_a_day_range(source: Source) -> None:
    source.payload = [
        {"metric": "pos.sales", "subject": "sh-xuhui", "period": "2026-11-27", "value": 61000.5},
        {"metric": "pos.sales", "subject": "sh-xuhui", "period": "2026-11-28", "value": "72000"},
    ]
    async with aiohttp.ClientSession() as session:
        adapter = Pos(url=source.url, session=session, timeout=5)
        readings = await adapter.fetch(date(2026, 11, 27), date(2026, 11, 28))
    assert readings == [
        Reading("pos.sales", "sh-xuhui", date(2026, 11, 27), 61000.5),
        Reading("pos.sales", "sh-xuhui", date(2026, 11, 28), 72000.0),
    ]
    assert source.seen == [{"since": "2026-11-27", "until": "2026-11-28"}]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"not": "a list"}, "expected a JSON list"),
        (
            [{"metric": "pos.refunds", "subject": "x", "period": "2026-11-27", "value": 1}],
            "unknown metric 'pos.refunds'",
        ),
        (
            [{"metric": "pos.sales", "subject": "x", "period": "yesterday", "value": 1}],
            "item 0 is not a reading",
        ),
    ],
)
async def test_bad_payloads_are_refused_whole(
    source: Source, payload: object, message: str
) -> None:
    source.payload = payload
    async with aiohttp.ClientSession() as session:
        with pytest.raises(AdapterError, match=message):
            await Pos(url=source.url, session=session).fetch(date(2026, 11, 27), date(2026, 11, 27))


async def test_a_server_error_is_raised(source: Source) -> None:
    source.status = 503
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientResponseError, match="503"):
            await Pos(url=source.url, session=session).fetch(date(2026, 11, 27), date(2026, 11, 27))
