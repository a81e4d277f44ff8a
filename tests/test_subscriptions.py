"""Live updates: GraphQL subscriptions over graphql-transport-ws, through a real uvicorn
server on 127.0.0.1, and the event bus's promise to publish only what committed."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import pytest_asyncio
import uvicorn
from tortoise.transactions import in_transaction

from goalgraph.core import events
from goalgraph.core.app import create_app
from goalgraph.core.pgbus import events_bus_for
from goalgraph.core.services import kpis
from goalgraph.core.services.measurements import MeasurementInput, record_measurements
from goalgraph.core.settings import Settings

from .factories import Company, build_chain, gid, gql, make_company

WAIT = 10.0
#: How long a subscriber that must receive nothing is watched.
QUIET = 0.8

RECORD = """mutation($e: [MeasurementEntry!]!) {
  recordMeasurements(entries: $e) { errors { field code message } }
}"""

PROGRESS = """subscription($root: ID!) {
  goalProgress(rootId: $root) {
    weightingChanged
    resync
    changes {
      progress score
      node { __typename id kind ... on Kpi { currentValue valuesVisible } }
    }
  }
}"""

TREE = """query($root: ID!) {
  goalTree(rootId: $root) { id progress score children { id progress score
    children { id progress score children { id progress score
      children { id progress score } } } } }
}"""


@dataclass
class Live:
    """The real app served by uvicorn on a free port of 127.0.0.1."""

    http: httpx.AsyncClient
    session: aiohttp.ClientSession
    ws_url: str

    async def connect(self, *protocols: str) -> aiohttp.ClientWebSocketResponse:
        return await self.session.ws_connect(
            self.ws_url, protocols=protocols or ("graphql-transport-ws",)
        )


@pytest_asyncio.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(int(WAIT / 0.05)):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "the server did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
            aiohttp.ClientSession() as session,
        ):
            yield Live(http, session, f"ws://127.0.0.1:{port}/graphql")
    finally:
        server.should_exit = True
        await serving


async def receive(ws: aiohttp.ClientWebSocketResponse, within: float = WAIT) -> dict[str, Any]:
    """The next protocol message (pings answered), or ``{"closed": code}``."""
    while True:
        message = await asyncio.wait_for(ws.receive(), within)
        if message.type is not aiohttp.WSMsgType.TEXT:
            return {"closed": ws.close_code}
        body: dict[str, Any] = json.loads(message.data)
        if body["type"] == "ping":
            await ws.send_json({"type": "pong"})
            continue
        return body


async def sign_in(ws: aiohttp.ClientWebSocketResponse, payload: dict[str, Any]) -> dict[str, Any]:
    await ws.send_json({"type": "connection_init", "payload": payload})
    return await receive(ws)


async def subscribe(
    live: Live, company: Company, root_id: int, who: str = "admin"
) -> aiohttp.ClientWebSocketResponse:
    """A signed-in socket subscribed to goalProgress under ``root_id``, once the
    subscription is listening (an operation has no acknowledgement of its own)."""
    ws = await live.connect()
    ack = await sign_in(ws, {"Authorization": f"Bearer {company.token(who)}"})
    assert ack == {"type": "connection_ack"}
    before = _listening(company)
    await ws.send_json(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": PROGRESS, "variables": {"root": gid("Objective", root_id)}},
        }
    )
    await _until_listening(company, before)
    return ws


async def _until_listening(company: Company, before: int) -> None:
    for _ in range(int(WAIT / 0.02)):
        if _listening(company) > before:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the subscription never started listening")


def _listening(company: Company) -> int:
    """The company's subscriptions that listen, on this process's bus (InProcessBus on
    SQLite, PostgresBus on PostgreSQL: counted once their tenant's channel is LISTENed)."""
    return events.bus().subscriber_count(company.tenant.id)


async def record(live: Live, company: Company, kpi_id: int, value: float) -> None:
    body = await gql(
        live.http,
        RECORD,
        {"e": [{"kpiId": gid("Kpi", kpi_id), "period": "2026-11-27", "value": value}]},
        auth=company.token(),
    )
    assert body["data"]["recordMeasurements"]["errors"] == [], body


def _by_id(tree: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for node in tree:
        found[node["id"]] = node
        found.update(_by_id(node.get("children", [])))
    return found


async def test_a_subscriber_sees_recorded_values_roll_up_and_another_tenant_sees_nothing(
    live: Live,
) -> None:
    # given two tenants, each with a subscriber on its own goal tree
    acme, other = await make_company("acme"), await make_company("other")
    chain, other_chain = await build_chain(acme), await build_chain(other)
    root, kpi = chain["objectives"][0], chain["kpis"][0]
    watcher = await subscribe(live, acme, root.id)
    stranger = await subscribe(live, other, other_chain["objectives"][0].id)

    # when acme records a value of its store KPI through the API
    await record(live, acme, kpi.id, 3.5)

    # then acme's subscriber gets the KPI, its key result and every objective above it,
    # with the progress and scores a fresh goalTree shows
    message = await receive(watcher)
    assert (message["type"], message["id"]) == ("next", "1"), message
    update = message["payload"]["data"]["goalProgress"]
    assert update["weightingChanged"] is False
    changes = update["changes"]
    assert [c["node"]["__typename"] for c in changes] == [
        "Kpi",
        "KeyResult",
        "Objective",
        "Objective",
        "Objective",
    ]
    expected_ids = [
        gid("Kpi", kpi.id),
        gid("KeyResult", chain["key_results"][0].id),
        *(gid("Objective", o.id) for o in reversed(chain["objectives"])),
    ]
    assert [c["node"]["id"] for c in changes] == expected_ids
    assert changes[0]["node"]["currentValue"] == 3.5
    assert None not in (changes[0]["progress"], changes[0]["score"])
    tree = await gql(live.http, TREE, {"root": gid("Objective", root.id)}, auth=acme.token())
    nodes = _by_id(tree["data"]["goalTree"])
    for change in changes:
        node = nodes[change["node"]["id"]]
        assert (change["progress"], change["score"]) == (node["progress"], node["score"])
    assert changes[-1]["score"] is not None

    # and the other tenant's subscriber, listening all along, receives nothing
    with pytest.raises(TimeoutError):
        await receive(stranger, QUIET)
    await watcher.close()
    await stranger.close()


async def test_values_of_an_individual_kpi_reach_only_those_who_may_see_them(
    live: Live,
) -> None:
    # given a KPI owned by one clerk, feeding the store's key result
    acme = await make_company("acme")
    chain = await build_chain(acme)
    own = await kpis.create_kpi(
        acme.scope,
        metric_code="upsell_rate",
        title="连带率",
        title_en="Upsell rate",
        target=1.5,
        threshold=1.2,
        owner_person_id=acme.other_employee.id,
    )
    await kpis.link_kpi(acme.scope, key_result_id=chain["key_results"][0].id, kpi_id=own.id)
    root = chain["objectives"][0].id
    colleague = await subscribe(live, acme, root, "employee")
    manager = await subscribe(live, acme, root, "manager")

    # when a value of that KPI is recorded
    await record(live, acme, own.id, 1.5)

    # then the colleague learns the KPI changed but not its numbers; the manager sees them
    hidden = (await receive(colleague))["payload"]["data"]["goalProgress"]["changes"]
    shown = (await receive(manager))["payload"]["data"]["goalProgress"]["changes"]
    assert hidden[0]["node"] == {
        "__typename": "Kpi",
        "id": gid("Kpi", own.id),
        "kind": "KPI",
        "currentValue": None,
        "valuesVisible": False,
    }
    assert (hidden[0]["progress"], hidden[0]["score"]) == (None, None)
    assert shown[0]["node"]["currentValue"] == 1.5
    assert (shown[0]["progress"], shown[0]["score"]) == (1.0, 1.0)
    # the key result's and objectives' grades are company-wide (OKR transparency)
    assert [c["progress"] for c in hidden[1:]] == [c["progress"] for c in shown[1:]]
    await colleague.close()
    await manager.close()


async def test_check_ins_and_weightings_reach_subscribers(live: Live) -> None:
    # given a subscriber on the tree
    acme = await make_company("acme")
    chain = await build_chain(acme)
    key_result = chain["key_results"][0]
    ws = await subscribe(live, acme, chain["objectives"][0].id)

    # when someone checks in on a key result (not fed by values yet)
    body = await gql(
        live.http,
        """mutation($i: CheckInInput!) { checkIn(input: $i) { errors { code } } }""",
        {"i": {"keyResultId": gid("KeyResult", key_result.id), "value": 2_500_000}},
        auth=acme.token(),
    )
    assert body["data"]["checkIn"]["errors"] == []

    # then the key result and its objectives arrive with their new progress
    changes = (await receive(ws))["payload"]["data"]["goalProgress"]["changes"]
    assert changes[0]["node"]["id"] == gid("KeyResult", key_result.id)
    assert changes[0]["progress"] == pytest.approx(0.5)
    assert [c["node"]["__typename"] for c in changes] == ["KeyResult"] + ["Objective"] * 3

    # and when an admin changes a weighting, the subscriber is told scorecards moved
    body = await gql(
        live.http,
        """mutation { setStageWeighting(stage: "growth", okrShare: 0.6, kpiShare: 0.4) {
             errors { code } } }""",
        auth=acme.token(),
    )
    assert body["data"]["setStageWeighting"]["errors"] == []
    update = (await receive(ws))["payload"]["data"]["goalProgress"]
    assert update == {"weightingChanged": True, "resync": False, "changes": []}
    await ws.close()


async def test_alerts_reach_only_the_subscribers_who_may_see_them(live: Live) -> None:
    # given an admin, a clerk of the store and an admin of another tenant, all listening
    acme, other = await make_company("acme"), await make_company("other")
    sockets = {}
    for name, company, who in (
        ("admin", acme, "admin"),
        ("clerk", acme, "employee"),
        ("stranger", other, "admin"),
    ):
        ws = await live.connect()
        assert await sign_in(ws, {"token": company.token(who)}) == {"type": "connection_ack"}
        before = _listening(company)
        query = "subscription { alerts { alertId kind } }"
        await ws.send_json({"id": "a", "type": "subscribe", "payload": {"query": query}})
        await _until_listening(company, before)
        sockets[name] = ws

    # when an alert about the region (above the store) is raised, then one about the store
    region_alert = {"alert_id": 7, "kind": "kpi_off_track", "owner_unit_path": acme.region.path}
    store_alert = {"alert_id": 8, "kind": "kpi_off_track", "owner_unit_path": acme.store.path}
    await events.publish(events.Event(acme.tenant.id, events.ALERT, region_alert))
    await events.publish(events.Event(acme.tenant.id, events.ALERT, store_alert))

    # then the admin sees both, the clerk only the store's, the other tenant nothing
    seen = [(await receive(sockets["admin"]))["payload"]["data"]["alerts"] for _ in range(2)]
    assert [a["kind"] for a in seen] == ["kpi_off_track"] * 2
    assert [a["alertId"] for a in seen] == [gid("Alert", 7), gid("Alert", 8)]
    clerk = (await receive(sockets["clerk"]))["payload"]["data"]["alerts"]
    assert clerk["alertId"] == gid("Alert", 8)
    with pytest.raises(TimeoutError):
        await receive(sockets["stranger"], QUIET)
    for ws in sockets.values():
        await ws.close()


async def test_a_resync_reaches_every_subscription_of_the_tenant_as_resync_true(
    live: Live,
) -> None:
    # given a goalProgress and an alerts subscriber of one tenant
    acme = await make_company("acme")
    chain = await build_chain(acme, depth=1)
    progress = await subscribe(live, acme, chain["objectives"][0].id)
    alerts = await live.connect()
    assert await sign_in(alerts, {"token": acme.token()}) == {"type": "connection_ack"}
    before = _listening(acme)
    query = "subscription { alerts { alertId kind resync } }"
    await alerts.send_json({"id": "a", "type": "subscribe", "payload": {"query": query}})
    await _until_listening(acme, before)

    # when the bus says the tenant's events may have been missed
    await events.publish(events.Event(acme.tenant.id, events.RESYNC, {"reason": "reconnected"}))

    # then both are told to refetch, whatever topic they chose
    message = await receive(progress)
    assert message["payload"]["data"]["goalProgress"] == {
        "weightingChanged": False,
        "resync": True,
        "changes": [],
    }
    resync = (await receive(alerts))["payload"]["data"]["alerts"]
    assert resync == {"alertId": None, "kind": "resync", "resync": True}
    await progress.close()
    await alerts.close()


DOC_SUBSCRIPTIONS = [
    block
    for block in re.findall(
        r"```graphql\n(.*?)```",
        (Path(__file__).parent.parent / "docs" / "graphql-api.md").read_text(encoding="utf-8"),
        re.S,
    )
    if block.lstrip().startswith("subscription")
]


async def test_the_documented_subscriptions_run(live: Live) -> None:
    # given each subscription of the API page, listening on a small tenant
    assert len(DOC_SUBSCRIPTIONS) >= 2
    acme = await make_company("acme")
    chain = await build_chain(acme)
    sockets = []
    for i, document in enumerate(DOC_SUBSCRIPTIONS):
        ws = await live.connect()
        assert await sign_in(ws, {"authorization": f"Bearer {acme.token()}"}) == {
            "type": "connection_ack"
        }
        before = _listening(acme)
        variables = {"root": gid("Objective", chain["objectives"][0].id)}
        await ws.send_json(
            {
                "id": str(i),
                "type": "subscribe",
                "payload": {
                    "query": document,
                    "variables": {k: v for k, v in variables.items() if f"${k}" in document},
                },
            }
        )
        await _until_listening(acme, before)
        sockets.append(ws)

    # when a value is recorded and an alert raised
    await record(live, acme, chain["kpis"][0].id, 2.5)
    alert = {"alert_id": 1, "kind": "kpi_off_track", "owner_unit_path": acme.store.path}
    await events.publish(events.Event(acme.tenant.id, events.ALERT, alert))

    # then each answers with data and no errors
    for ws in sockets:
        message = await receive(ws)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        assert all(message["payload"]["data"].values())
        await ws.close()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"authorization": "Basic dXNlcjpwYXNz"},
        {"token": ""},
    ],
    ids=["no-token", "bad-token", "not-bearer", "empty-token"],
)
async def test_a_connection_without_a_valid_token_is_refused(
    live: Live, payload: dict[str, Any]
) -> None:
    ws = await live.connect()
    assert await sign_in(ws, payload) == {"closed": 4403}
    assert ws.closed


async def test_an_operation_before_signing_in_closes_the_connection(live: Live) -> None:
    acme = await make_company("acme")
    root = (await build_chain(acme, depth=1))["objectives"][0]
    ws = await live.connect()
    await ws.send_json(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": PROGRESS, "variables": {"root": gid("Objective", root.id)}},
        }
    )
    assert await receive(ws) == {"closed": 4401}
    assert _listening(acme) == 0


async def test_the_legacy_graphql_ws_protocol_is_refused(live: Live) -> None:
    acme = await make_company("acme")
    ws = await live.connect("graphql-ws")
    assert ws.protocol is None
    assert await receive(ws) == {"closed": 4406}
    assert _listening(acme) == 0


async def test_a_root_of_another_tenant_is_not_found(live: Live) -> None:
    acme, other = await make_company("acme"), await make_company("other")
    foreign = (await build_chain(other, depth=1))["objectives"][0]
    ws = await live.connect()
    await sign_in(ws, {"token": acme.token()})
    await ws.send_json(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": PROGRESS, "variables": {"root": gid("Objective", foreign.id)}},
        }
    )
    message = await receive(ws)
    assert message["type"] == "next"
    assert message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await receive(ws))["type"] == "complete"
    await ws.close()


# --- publishing after commit ------------------------------------------------------


@pytest_asyncio.fixture
async def bus(client: httpx.AsyncClient, settings: Settings) -> AsyncIterator[events.EventBus]:
    """The bus the server chooses for the test's database, fresh (the database is open
    through ``client``): on PostgreSQL events go through NOTIFY at COMMIT."""
    bus = await events_bus_for(settings)
    previous = events.install(bus)
    try:
        yield bus
    finally:
        events.install(previous)
        await bus.close()


async def _drain(stream: AsyncIterator[events.Event], within: float = 0.3) -> list[events.Event]:
    """The events that arrive, each within ``within`` seconds of the one before (a
    notification crosses the database on PostgreSQL)."""
    found = []
    while True:
        try:
            found.append(await asyncio.wait_for(anext(stream), within))
        except TimeoutError:
            return found


async def test_measurements_rolled_back_by_the_caller_are_never_published(
    bus: events.EventBus,
) -> None:
    # given measurements recorded inside a caller's transaction (as the sync runner does)
    acme = await make_company("acme")
    kpi = (await build_chain(acme, depth=1))["kpis"][0]
    batch = [MeasurementInput(kpi.id, date(2026, 11, 27), 3.5)]

    async def sync_batch(fail: bool) -> None:
        async with in_transaction():
            await record_measurements(acme.scope, batch, returning=False)
            if fail:
                raise RuntimeError("the cursor could not be stored")

    async with bus.subscribe(acme.tenant.id, [events.PROGRESS]) as stream:
        # when the caller's transaction rolls back, nothing is published
        with pytest.raises(RuntimeError):
            await sync_batch(fail=True)
        assert await _drain(stream) == []
        # and when it commits, the event follows the commit
        await sync_batch(fail=False)
        published = await _drain(stream)
    assert [(e.tenant_id, e.payload) for e in published] == [(acme.tenant.id, {"kpis": [kpi.id]})]


async def test_events_wait_for_the_outermost_commit(bus: events.EventBus) -> None:
    inner = events.Event(1, events.PROGRESS, {"kpis": [1]})
    async with bus.subscribe(1, [events.PROGRESS]) as stream:
        async with in_transaction():
            async with in_transaction():
                await events.publish_on_commit(inner)
            # the inner block is done, but the outer transaction has not committed yet
            assert await _drain(stream) == []
        assert await _drain(stream) == [inner]
        await events.publish_on_commit(inner)  # outside a transaction: at once
        assert await _drain(stream) == [inner]


async def test_a_slow_subscriber_loses_its_oldest_events_and_never_blocks_a_writer() -> None:
    bus = events.InProcessBus(queue_size=2)
    async with (
        bus.subscribe(1, [events.PROGRESS]) as slow,
        bus.subscribe(2, [events.PROGRESS]) as elsewhere,
    ):
        for i in range(5):
            await asyncio.wait_for(bus.publish(events.Event(1, events.PROGRESS, {"n": i})), 1)
        await bus.publish(events.Event(1, events.ALERT, {"alert_id": 1}))
        assert [e.payload["n"] for e in await _drain(slow)] == [3, 4]
        assert await _drain(elsewhere) == []
    assert bus.subscriber_count() == 0
