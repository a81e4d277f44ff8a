"""The event bus across workers: two ``PostgresBus`` instances on one real PostgreSQL
database, as two worker processes have them (each its own listening connection)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from tortoise.transactions import in_transaction

from goalgraph.core import events
from goalgraph.core.events import ALERT, PROGRESS, RESYNC, Event
from goalgraph.core.pgbus import MAX_PAYLOAD_BYTES, Backoff, PostgresBus, channel_of, encode

from .cli import cli
from .conftest import POSTGRES_ENV, truncate_postgres
from .factories import TEST_SECRET, build_chain, make_company

pytestmark = pytest.mark.skipif(
    POSTGRES_ENV not in os.environ, reason="LISTEN/NOTIFY is PostgreSQL's; SQLite has no bus"
)

#: How long a subscriber waits for an event that must arrive.
WAIT = 5.0
#: How long a subscriber that must receive nothing is watched.
QUIET = 0.5
#: The bound on a reconnect after the listening connection's backend is terminated.
RECONNECT_BOUND = 5.0


@pytest.fixture
def db_url(postgres_owner_url: str, postgres_database: str) -> str:
    """PostgreSQL only, as the app's role (the buses listen as the app does)."""
    asyncio.run(truncate_postgres(postgres_owner_url))
    return postgres_database


@pytest_asyncio.fixture
async def buses(
    client: httpx.AsyncClient, db_url: str
) -> AsyncIterator[tuple[PostgresBus, PostgresBus]]:
    """Two started buses on the test database, as two workers; Tortoise is open through
    ``client``, so publishing outside a bus's own connection works as in the app."""
    first = PostgresBus(db_url, application_name="goalgraph-bus/test-a")
    second = PostgresBus(
        db_url, application_name="goalgraph-bus/test-b", backoff=Backoff(first=0.05)
    )
    await first.start()
    await second.start()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def next_event(stream: AsyncIterator[Event], within: float = WAIT) -> Event:
    return await asyncio.wait_for(anext(stream), within)


async def drain(stream: AsyncIterator[Event], within: float = QUIET) -> list[Event]:
    """Every event that arrives, each within ``within`` of the previous one."""
    found = []
    while True:
        try:
            found.append(await asyncio.wait_for(anext(stream), within))
        except TimeoutError:
            return found


async def test_an_event_reaches_the_other_workers_subscribers_of_its_tenant_and_topic(
    buses: tuple[PostgresBus, PostgresBus],
) -> None:
    a, b = buses
    lags: list[float] = []
    events.lag_observers.append(lags.append)
    try:
        async with (
            b.subscribe(1, [PROGRESS]) as progress,
            b.subscribe(1, [ALERT]) as alerts,
            b.subscribe(2, [PROGRESS]) as elsewhere,
        ):
            # when worker A publishes a progress event of tenant 1
            event = Event(1, PROGRESS, {"kpis": [3, 4]})
            await a.publish(event)

            # then B's subscriber of tenant 1's progress receives it, once; nobody else
            assert await next_event(progress) == event
            assert await drain(progress) == []
            assert await drain(alerts) == []
            assert await drain(elsewhere) == []
    finally:
        events.lag_observers.remove(lags.append)
    # and its lag, send to receipt, was reported
    assert len(lags) == 1
    assert 0 <= lags[0] < WAIT


async def test_only_tenants_with_local_subscribers_are_listened(
    buses: tuple[PostgresBus, PostgresBus],
) -> None:
    a, b = buses
    # a worker with no subscriber listens on no channel
    assert await a.listened_channels() == set()
    async with b.subscribe(7, [PROGRESS]), b.subscribe(7, [ALERT]):
        async with b.subscribe(8, [ALERT]):
            assert await b.listened_channels() == {channel_of(7), channel_of(8)}
        # the last subscriber of tenant 8 went: UNLISTEN
        assert await b.listened_channels() == {channel_of(7)}
        # and an event of tenant 8 now reaches nobody on B, while A still listens nowhere
        async with a.subscribe(7, [PROGRESS]) as on_a:
            await a.publish(Event(8, ALERT, {"alert_id": 1}))
            await a.publish(Event(7, PROGRESS, {"kpis": [1]}))
            assert (await next_event(on_a)).tenant_id == 7
        assert await a.listened_channels() == set()
    assert await b.listened_channels() == set()
    assert b.subscriber_count() == 0


async def _publish_then_fail(event: Event) -> None:
    async with in_transaction():
        await events.publish_on_commit(event)
        raise RuntimeError("the batch failed")


async def test_a_rolled_back_event_is_never_delivered_and_a_committed_one_once(
    buses: tuple[PostgresBus, PostgresBus],
) -> None:
    a, b = buses
    previous = events.install(a)  # the writer's worker
    try:
        async with b.subscribe(1, [PROGRESS]) as stream:
            rolled_back, committed = (Event(1, PROGRESS, {"kpis": [n]}) for n in (1, 2))
            with pytest.raises(RuntimeError):
                await _publish_then_fail(rolled_back)
            async with in_transaction():
                async with in_transaction():  # a savepoint, as a service inside a caller's
                    await events.publish_on_commit(committed)
                assert await drain(stream) == []  # not before the outermost COMMIT
            assert await drain(stream) == [committed]
    finally:
        events.install(previous)


async def _terminate_listener(owner_url: str, bus: PostgresBus) -> int:
    """Terminate the bus's listening connection's backend, found by its application
    name, as an operator (or a failover) would; returns how many were terminated."""
    conn = await asyncpg.connect(owner_url.replace("postgres://", "postgresql://", 1))
    try:
        terminated = await conn.fetchval(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1",
            bus.application_name,
        )
    finally:
        await conn.close()
    return int(terminated)


async def test_after_its_connection_is_killed_the_bus_reconnects_and_subscribers_resync(
    buses: tuple[PostgresBus, PostgresBus], postgres_owner_url: str
) -> None:
    a, b = buses
    async with b.subscribe(1, [PROGRESS]) as progress, b.subscribe(1, [ALERT]) as alerts:
        assert b.connected
        # when B's listening backend is terminated
        started = time.monotonic()
        assert await _terminate_listener(postgres_owner_url, b) == 1

        # then every subscriber, whatever its topics, is told to resync within the bound
        resync = await next_event(progress, RECONNECT_BOUND)
        elapsed = time.monotonic() - started
        assert (resync.topic, resync.payload) == (RESYNC, {"reason": "reconnected"})
        assert (await next_event(alerts)).topic == RESYNC
        print(f"\nreconnected and resynced in {elapsed * 1000:.0f} ms")
        assert elapsed < RECONNECT_BOUND
        assert b.connected
        assert b.reconnects == 1
        assert await b.listened_channels() == {channel_of(1)}

        # and later events arrive again
        event = Event(1, PROGRESS, {"kpis": [9]})
        await a.publish(event)
        assert await next_event(progress) == event


async def test_an_oversize_event_becomes_a_resync_of_its_tenant(
    buses: tuple[PostgresBus, PostgresBus],
) -> None:
    a, b = buses
    big = Event(1, PROGRESS, {"kpis": list(range(100_000, 102_000))})
    assert len(json.dumps(big.payload)) > MAX_PAYLOAD_BYTES
    assert json.loads(encode(big)[1])["topic"] == RESYNC
    fits = Event(1, PROGRESS, {"kpis": list(range(100_000, 100_500))})
    async with (
        b.subscribe(1, [PROGRESS]) as progress,
        b.subscribe(1, [ALERT]) as alerts,
        b.subscribe(2, [PROGRESS]) as elsewhere,
    ):
        await a.publish(big)
        await a.publish(fits)
        # every subscriber of the tenant is told to refetch; the event that fits comes whole
        expected = Event(1, RESYNC, {"reason": "oversize", "topic": PROGRESS})
        assert await drain(progress) == [expected, fits]
        assert await drain(alerts) == [expected]
        assert await drain(elsewhere) == []


async def test_a_bus_that_cannot_reach_its_database_is_not_connected() -> None:
    # nothing listens on port 9 of 127.0.0.1: the bus starts, reports itself
    # disconnected (a readiness check fails) and keeps retrying until closed
    bus = PostgresBus("postgres://nobody@127.0.0.1:9/none", backoff=Backoff(first=0.05))
    await bus.start()
    try:
        assert not bus.connected
        await asyncio.sleep(0.2)
        assert not bus.connected
        assert await bus.listened_channels() == set()
    finally:
        await bus.close()


async def test_a_command_lines_writes_reach_the_servers_subscribers(
    buses: tuple[PostgresBus, PostgresBus], tmp_path: Path
) -> None:
    """`goalgraph import` run from a shell publishes as a server worker does, so a
    subscriber on any worker sees the values it stored."""
    _, server = buses
    company = await make_company("acme")
    kpi = (await build_chain(company, depth=1))["kpis"][0]
    values = tmp_path / "等待时间.csv"
    values.write_bytes("日期,等待时间\n2026-12-01,3.5\n".encode("gbk"))
    async with server.subscribe(company.tenant.id, [PROGRESS]) as progress:
        await asyncio.to_thread(
            cli,
            server.database_url,
            TEST_SECRET,
            "import",
            str(values),
            "--kpi",
            str(kpi.id),
            "--period-column",
            "日期",
            "--value-column",
            "等待时间",
        )
        event = await next_event(progress)
    assert event.tenant_id == company.tenant.id
    assert kpi.id in event.payload["kpis"]
