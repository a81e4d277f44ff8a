"""The HTTP JSON adapter on its own, against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from goalgraph.adapters import AdapterError, HttpJsonAdapter, Reading
from goalgraph.adapters.contract import AdapterConfig, Batch
from goalgraph.adapters.http_json import HttpJsonConfig, retry_after

TODAY = date(2026, 11, 28)


class Pos(HttpJsonAdapter):
    name: ClassVar[str] = "test.pos"
    metrics: ClassVar[dict[str, str]] = {"pos.sales": "CNY"}


@dataclass
class Source:
    """An endpoint answering the queued replies in turn (then the last one again)."""

    url: str = ""
    replies: list[tuple[int, Any]] = field(default_factory=list)
    seen: list[dict[str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


@pytest_asyncio.fixture
async def source() -> AsyncIterator[Source]:
    state = Source()

    async def answer(request: web.Request) -> web.Response:
        state.seen.append(dict(request.query))
        state.headers.append(dict(request.headers))
        status, payload = state.replies[min(len(state.seen), len(state.replies)) - 1]
        return web.json_response(payload, status=status)

    app = web.Application()
    app.router.add_get("/readings", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}/readings"
    try:
        yield state
    finally:
        await runner.cleanup()


async def _pull(config: AdapterConfig, cursor: dict[str, Any] | None = None) -> list[Batch]:
    async with aiohttp.ClientSession() as session:
        return [b async for b in Pos(config, session, TODAY).batches(cursor)]


def _item(value: object, period: str = "2026-11-27", metric: str = "pos.sales") -> dict[str, Any]:
    return {"metric": metric, "subject": "sh-xuhui", "period": period, "value": value}


async def test_cursor_paging_with_a_bearer_token(source: Source) -> None:
    source.replies = [
        (200, {"items": [_item(61000.5)], "next_cursor": "abc"}),
        (200, {"items": [_item("72,000", "2026-11-28")], "next_cursor": None}),
    ]
    config = HttpJsonConfig(
        url=source.url,
        auth="bearer",
        token="s3cret",
        paging="cursor",
        start=date(2026, 11, 27),
        overlap_days=1,
    )
    first, last = await _pull(config)
    ref = "2026-11-27..2026-11-28 item 0"
    assert first.readings == [Reading("pos.sales", "sh-xuhui", date(2026, 11, 27), 61000.5, ref)]
    assert first.cursor == {"since": "2026-11-27", "token": "abc"}
    assert last.readings[0].value == 72000.0
    assert last.cursor == {"since": "2026-11-28"}  # today is read again next time
    assert source.seen == [
        {"since": "2026-11-27", "until": "2026-11-28"},
        {"since": "2026-11-27", "until": "2026-11-28", "cursor": "abc"},
    ]
    assert all(h["Authorization"] == "Bearer s3cret" for h in source.headers)


async def test_an_api_key_header_and_a_bare_list(source: Source) -> None:
    source.replies = [(200, [_item(1)])]
    config = HttpJsonConfig(
        url=source.url, auth="api_key", token="k", paging="none", items_field=None, since_param=None
    )
    (batch,) = await _pull(config)
    assert [r.value for r in batch.readings] == [1.0]
    assert batch.cursor is None  # no windows: every sync reads everything again
    assert source.headers[0]["X-API-Key"] == "k"
    assert source.seen == [{}]


async def test_bad_rows_are_rejected_one_by_one(source: Source) -> None:
    source.replies = [
        (
            200,
            {
                "items": [
                    _item(5),
                    _item(7, metric="pos.refunds"),
                    _item(float("inf")),
                    _item(1, period="yesterday"),
                    "not a row",
                ]
            },
        )
    ]
    config = HttpJsonConfig(url=source.url, paging="none", start=TODAY)
    (batch,) = await _pull(config)
    assert [r.value for r in batch.readings] == [5.0]
    assert [r.reason for r in batch.rejected] == [
        "unknown metric 'pos.refunds'",
        "pos.sales: not a finite number: inf",
        "pos.sales: 'period' is not a date: 'yesterday'",
        "not an object",
    ]
    assert batch.rejected[0].ref.endswith("item 1")


async def test_a_client_error_is_not_retried(source: Source) -> None:
    source.replies = [(403, {"error": "no"})]
    with pytest.raises(AdapterError, match="HTTP 403"):
        await _pull(HttpJsonConfig(url=source.url, start=TODAY))
    assert len(source.seen) == 1


async def test_an_answer_of_the_wrong_shape_fails_the_sync(source: Source) -> None:
    source.replies = [(200, {"rows": []})]
    with pytest.raises(AdapterError, match="expected a list or an object with 'items'"):
        await _pull(HttpJsonConfig(url=source.url, start=TODAY))


def test_retry_after_takes_seconds_or_a_date() -> None:
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    assert retry_after("3") == 3.0
    assert retry_after("Sat, 28 Nov 2026 12:00:05 GMT", now) == 5.0
    assert retry_after("soon") is None
    assert retry_after(None) is None


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="url must start with http"):
        HttpJsonConfig(url="ftp://pos")
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        HttpJsonConfig.model_validate({"url": "http://pos", "pagesize": 10})
