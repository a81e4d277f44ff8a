"""Subscription isolation in figures: a tenant's subscribers hear nothing of another's.

Tenant A's people, one of every role, each subscribe to every field of the
Subscription type over graphql-transport-ws (a real uvicorn server on 127.0.0.1).
Tenant B then records ``size.subscription_events`` measurements through the API, one
call each, on KPIs whose values keep missing their threshold, so B publishes progress
events and raises alerts. Then A records one control batch that moves its goal tree
and raises one alert. Every A subscriber must receive its control event (proof that it
was listening all along) and nothing else: any other message is counted as a delivery
from B.

Figures: events published in B (counted by a listener on B's own channel of the
bus), deliveries to A from B (must be 0), control events received (= subscribers).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import aiohttp

from goalgraph.core import events
from goalgraph.core.enums import Role
from goalgraph.core.models import Alert
from goalgraph.core.services import org
from goalgraph.schema.build import build_schema

from ..factories import Company, build_chain, gid, gql, make_company, token
from ..test_subscriptions import QUIET, RECORD, WAIT, Live, live, receive, sign_in
from .conftest import Record
from .size import Size

__all__ = ["live"]  # the server fixture, shared with tests/test_subscriptions.py

SECTION = "subscription isolation"

#: One document per field of the Subscription type (the test fails when one is missing).
DOCUMENTS = {
    "goalProgress": """subscription($root: ID!) { goalProgress(rootId: $root) {
        weightingChanged changes { node { id } } } }""",
    "alerts": "subscription { alerts { alertId kind } }",
}

ROLES = (Role.ADMIN, Role.CONSULTANT, Role.MANAGER, Role.EMPLOYEE, Role.VIEWER)

FIRST_DAY = date(2026, 10, 1)
#: B's KPIs wait at most 4 minutes: 9 misses, 2 passes (and closes an open alert).
MISS, PASS = 9.0, 2.0


@dataclass
class Listener:
    """One of A's people subscribed to one field."""

    role: Role
    field: str
    ws: aiohttp.ClientWebSocketResponse


async def _tokens_of_every_role(company: Company) -> dict[Role, str]:
    """A token of a person of each role in ``company`` (a consultant at the top, a
    viewer in the store join the factory's people)."""
    scope = company.scope
    consultant = await org.create_person(
        scope, name="顾问", name_en="Consultant", role=Role.CONSULTANT, org_unit_id=company.root.id
    )
    viewer = await org.create_person(
        scope, name="观察员", name_en="Viewer", role=Role.VIEWER, org_unit_id=company.store.id
    )
    people = [company.admin, consultant, company.manager, company.employee, viewer]
    return {p.role: token(company.tenant, p.role, p) for p in people}


def _listening(tenant_id: int) -> int:
    return events.bus().subscriber_count(tenant_id)


async def _subscribe(live: Live, company: Company, bearer: str, field: str, root: str) -> Any:
    ws = await live.connect()
    assert await sign_in(ws, {"Authorization": f"Bearer {bearer}"}) == {"type": "connection_ack"}
    document = DOCUMENTS[field]
    variables = {"root": root} if "$root" in document else {}
    before = _listening(company.tenant.id)
    await ws.send_json(
        {"id": field, "type": "subscribe", "payload": {"query": document, "variables": variables}}
    )
    for _ in range(int(WAIT / 0.02)):
        if _listening(company.tenant.id) > before:
            return ws
        await asyncio.sleep(0.02)
    raise AssertionError(f"the {field} subscription never started listening")


@contextlib.asynccontextmanager
async def _counting(tenant_id: int) -> AsyncIterator[Counter[str]]:
    """Every event the bus publishes on ``tenant_id``'s channel, by topic."""
    counts: Counter[str] = Counter()
    ready = asyncio.Event()

    async def listen() -> None:
        async with events.bus().subscribe(tenant_id, [events.PROGRESS, events.ALERT]) as stream:
            ready.set()
            async for event in stream:
                counts[event.topic] += 1

    task = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), WAIT)
    try:
        yield counts
    finally:
        await asyncio.sleep(0.1)  # let the last events reach the listener
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _record(live: Live, company: Company, entries: list[dict[str, Any]]) -> None:
    body = await gql(live.http, RECORD, {"e": entries}, auth=company.token())
    assert body["data"]["recordMeasurements"]["errors"] == [], body


def _b_entry(kpis: list[Any], i: int) -> dict[str, Any]:
    """The i-th of B's events: its KPIs in turn, a day further each round, every fourth
    day a pass, so alerts keep opening and resolving."""
    kpi, day = kpis[i % len(kpis)], i // len(kpis)
    value = PASS if day % 4 == 3 else MISS
    period = (FIRST_DAY + timedelta(days=day)).isoformat()
    return {"kpiId": gid("Kpi", kpi.id), "period": period, "value": value}


def _is_control(listener: Listener, message: dict[str, Any], kpi: str, alert: str) -> bool:
    """Whether ``message`` is A's control event as ``listener`` must see it."""
    if message.get("type") != "next" or "errors" in message.get("payload", {}):
        return False
    data = message["payload"]["data"][listener.field]
    if listener.field == "alerts":
        return bool(data["alertId"] == alert)
    return kpi in [c["node"]["id"] for c in data["changes"]]


async def _hear(listener: Listener, kpi: str, alert: str) -> tuple[bool, int]:
    """(whether the listener received the control event, how many other messages it
    received): everything up to the control event, then whatever follows within QUIET."""
    others, heard = 0, False
    with contextlib.suppress(TimeoutError):
        while not heard:
            heard = _is_control(listener, await receive(listener.ws, WAIT), kpi, alert)
            others += not heard
    with contextlib.suppress(TimeoutError):
        while True:
            await receive(listener.ws, QUIET)
            others += 1
    await listener.ws.close()
    return heard, others


async def test_subscribers_of_every_role_hear_nothing_of_another_tenant(
    live: Live, size: Size, figures: Record
) -> None:
    # given A's people of every role, each subscribed to every subscription field
    assert set(DOCUMENTS) == set(build_schema()._schema.subscription_type.fields)
    a, b = await make_company("acme"), await make_company("bravo")
    a_chain, b_chain = await build_chain(a, depth=1), await build_chain(b, depth=1, width=2)
    root = gid("Objective", a_chain["objectives"][0].id)
    tokens = await _tokens_of_every_role(a)
    listeners = [
        Listener(role, field, await _subscribe(live, a, tokens[role], field, root))
        for role in ROLES
        for field in DOCUMENTS
    ]

    # when B records its measurements, one call each, then A its control batch
    async with _counting(b.tenant.id) as published:
        for i in range(size.subscription_events):
            await _record(live, b, [_b_entry(b_chain["kpis"], i)])
    a_kpi = a_chain["kpis"][0]
    await _record(
        live,
        a,
        [
            {"kpiId": gid("Kpi", a_kpi.id), "period": f"2026-11-{d:02d}", "value": MISS}
            for d in (25, 26, 27)
        ],
    )
    a_alert = await Alert.get(tenant_id=a.tenant.id)

    # then each A subscriber receives the control event and nothing of B's
    kpi_id, alert_id = gid("Kpi", a_kpi.id), gid("Alert", a_alert.id)
    heard = await asyncio.gather(*(_hear(one, kpi_id, alert_id) for one in listeners))
    control = sum(received for received, _ in heard)
    from_b = sum(others for _, others in heard)
    events_in_b = sum(published.values())
    figures(SECTION, "events published in B", events_in_b)
    figures(SECTION, "of them alerts", published[events.ALERT])
    figures(SECTION, "subscribers in A", len(listeners))
    figures(SECTION, "deliveries to A from B", from_b, must_be_zero=True)
    figures(SECTION, "control events received", control)
    assert published[events.PROGRESS] == size.subscription_events
    assert published[events.ALERT] > 0
    assert from_b == 0
    assert control == len(listeners)
