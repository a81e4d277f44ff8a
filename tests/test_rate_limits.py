"""Rate limits and request limits: the token bucket's arithmetic (in process with an
injected clock, and in the real Redis), 429s over the real app, a noisy tenant that
leaves the others alone, body size, batching, GET, and websocket limits on a real
uvicorn server."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager

from goalgraph.core.access_keys import create_api_key
from goalgraph.core.app import create_app
from goalgraph.core.enums import Role
from goalgraph.core.identity import Identity, mint_token, read_token
from goalgraph.core.ratelimit import (
    Caller,
    InProcessBuckets,
    LocalBucket,
    RateLimiter,
    RedisBuckets,
    Rule,
    retry_after,
)
from goalgraph.core.sessions import start_session
from goalgraph.core.settings import Settings

from .factories import TEST_SECRET, Company, build_chain, gid, make_company
from .test_subscriptions import PROGRESS, WAIT, Live, receive, sign_in

REDIS_ENV = "GOALGRAPH_TEST_REDIS_URL"
TYPENAME = {"query": "{ __typename }"}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the bucket's arithmetic -------------------------------------------------------


async def test_a_bucket_spends_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    buckets = InProcessBuckets(clock=clock)
    rule = Rule(rate=2, burst=5)
    assert [await buckets.take([("a", rule)], 1) for _ in range(5)] == [0.0] * 5
    assert await buckets.take([("a", rule)], 1) == pytest.approx(0.5)
    clock.now += 0.5
    assert await buckets.take([("a", rule)], 1) == 0.0
    assert await buckets.take([("a", rule)], 2) == pytest.approx(1.0)
    clock.now += 100
    # never above the burst, however long it rested
    assert await buckets.take([("a", rule)], 5) == 0.0
    assert await buckets.take([("a", rule)], 1) == pytest.approx(0.5)


async def test_a_charge_takes_from_every_bucket_or_from_none() -> None:
    clock = Clock()
    buckets = InProcessBuckets(clock=clock)
    roomy, tight = Rule(rate=1, burst=10), Rule(rate=1, burst=3)
    assert await buckets.take([("token", roomy), ("tenant", tight)], 3) == 0.0
    # the tenant is empty: refused, and the caller's own bucket keeps its 7
    assert await buckets.take([("token", roomy), ("tenant", tight)], 2) == pytest.approx(2.0)
    assert await buckets.take([("token", roomy)], 7) == 0.0
    assert await buckets.take([("token", roomy)], 1) == pytest.approx(1.0)


async def test_an_operation_dearer_than_the_burst_takes_the_whole_bucket() -> None:
    clock = Clock()
    buckets = InProcessBuckets(clock=clock)
    rule = Rule(rate=1, burst=4)
    assert await buckets.take([("a", rule)], 50) == 0.0
    assert await buckets.take([("a", rule)], 50) == pytest.approx(4.0)


async def test_the_in_process_store_keeps_a_bounded_number_of_buckets() -> None:
    buckets = InProcessBuckets(max_keys=3, clock=Clock())
    rule = Rule(rate=1, burst=1)
    for key in "abcde":
        await buckets.take([(key, rule)], 1)
    assert len(buckets) == 3
    # the least recently charged ("a") was forgotten: it starts full again
    assert await buckets.take([("a", rule)], 1) == 0.0
    assert await buckets.take([("e", rule)], 1) > 0


def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one() -> None:
    assert [retry_after(w) for w in (0.01, 0.99, 1.0, 1.2, 30.5)] == [1, 1, 1, 2, 31]


def test_a_local_bucket_and_a_switched_off_rule() -> None:
    clock = Clock()
    bucket = LocalBucket(Rule(rate=1, burst=2), clock)
    assert [bucket.take(), bucket.take(), bucket.take() > 0] == [0.0, 0.0, True]
    clock.now += 1
    assert bucket.take() == 0.0
    off = LocalBucket(Rule(rate=0, burst=0), clock)
    assert all(off.take() == 0.0 for _ in range(100))


async def test_a_limiter_charges_the_caller_and_the_tenant_and_an_address_alone() -> None:
    limiter = RateLimiter(
        InProcessBuckets(clock=Clock()),
        per_token=Rule(1, 10),
        per_tenant=Rule(1, 2),
        anonymous=Rule(0, 0),
    )
    assert limiter.charges(Caller("session:s1", 7)) == [
        ("session:s1", Rule(1, 10)),
        ("tenant:7", Rule(1, 2)),
    ]
    # the anonymous limit is off: an address is not charged at all
    assert limiter.charges(Caller("address:10.0.0.1")) == []
    assert await limiter.charge(Caller("session:s1", 7), 2) is None
    refusal = await limiter.charge(Caller("session:s2", 7), 1)
    assert refusal is not None
    assert refusal.retry_after == 1


# --- the same in Redis -------------------------------------------------------------


@pytest.fixture
async def redis_buckets() -> AsyncIterator[tuple[RedisBuckets, str]]:
    """Buckets in the real Redis of GOALGRAPH_TEST_REDIS_URL, under a prefix of the
    test's own; its keys are deleted afterwards."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} is not set")
    buckets = RedisBuckets.from_url(url)
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    try:
        yield buckets, prefix
    finally:
        keys = await buckets.client.keys(f"{buckets.prefix}{prefix}*")
        if keys:
            await buckets.client.delete(*keys)
        await buckets.close()


async def test_redis_buckets_refill_and_take_atomically(
    redis_buckets: tuple[RedisBuckets, str],
) -> None:
    buckets, prefix = redis_buckets
    slow = Rule(rate=0.01, burst=3)
    results = await asyncio.gather(*(buckets.take([(prefix + "a", slow)], 1) for _ in range(10)))
    # ten concurrent charges against a bucket of three: exactly three pass
    assert sorted(r == 0 for r in results) == [False] * 7 + [True] * 3
    assert min(r for r in results if r > 0) == pytest.approx(100, rel=0.05)
    fast = Rule(rate=20, burst=1)
    assert await buckets.take([(prefix + "b", fast)], 1) == 0.0
    assert await buckets.take([(prefix + "b", fast)], 1) > 0
    await asyncio.sleep(0.1)
    assert await buckets.take([(prefix + "b", fast)], 1) == 0.0


async def test_redis_charges_every_bucket_or_none_and_idle_buckets_expire(
    redis_buckets: tuple[RedisBuckets, str],
) -> None:
    buckets, prefix = redis_buckets
    roomy, tight = Rule(rate=0.01, burst=10), Rule(rate=0.01, burst=2)
    charge = [(prefix + "token", roomy), (prefix + "tenant", tight)]
    assert await buckets.take(charge, 2) == 0.0
    assert await buckets.take(charge, 1) > 0
    assert await buckets.take([(prefix + "token", roomy)], 8) == 0.0
    ttl = await buckets.client.pttl(f"{buckets.prefix}{prefix}tenant")
    # it expires once it would be full again (200 s for 2 units at 0.01 per second)
    assert 199_000 < ttl <= 201_000


async def test_two_processes_share_their_buckets_through_redis(
    redis_buckets: tuple[RedisBuckets, str],
) -> None:
    buckets, prefix = redis_buckets
    other = RedisBuckets.from_url(os.environ[REDIS_ENV])
    try:
        rule = Rule(rate=0.01, burst=2)
        assert await buckets.take([(prefix + "shared", rule)], 1) == 0.0
        assert await other.take([(prefix + "shared", rule)], 1) == 0.0
        assert await buckets.take([(prefix + "shared", rule)], 1) > 0
    finally:
        await other.close()


async def test_an_unreachable_redis_lets_charges_through() -> None:
    # nothing listens on port 1: the limiter must not take the API down with it
    buckets = RedisBuckets.from_url("redis://127.0.0.1:1/0")
    try:
        assert await buckets.take([("a", Rule(rate=0.01, burst=1))], 5) == 0.0
    finally:
        await buckets.close()


# --- over the real app -------------------------------------------------------------


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app built with ``settings``, over an ASGI transport."""
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://goalgraph.test") as c:
            yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_past_the_callers_limit_the_answer_is_429_with_retry_after(
    settings: Settings,
) -> None:
    limited = settings.model_copy(
        update={"rate_limit_per_token": 0.1, "rate_limit_per_token_burst": 3}
    )
    async with app_client(limited) as client:
        acme = await make_company("acme")
        answers = [
            await client.post("/graphql", json=TYPENAME, headers=bearer(acme.token()))
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        body = refused.json()
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 10
        assert body["data"] is None
        assert [e["extensions"] for e in body["errors"]] == [
            {"code": "RATE_LIMITED", "retryAfter": wait}
        ]
        # another person of the same tenant has a bucket of their own
        other = await client.post("/graphql", json=TYPENAME, headers=bearer(acme.token("manager")))
        assert other.status_code == 200


async def test_an_operation_is_charged_its_query_cost_in_hundreds(settings: Settings) -> None:
    """A cheap lookup takes 1 unit; a page of 500 KPIs costs over 1,000 points, so it
    takes more units than the whole burst of 10 holds."""
    limited = settings.model_copy(
        update={"rate_limit_per_token": 0.01, "rate_limit_per_token_burst": 10}
    )
    dear = {"query": "{ kpis(first: 500) { edges { node { id title titleEn metricCode } } } }"}
    async with app_client(limited) as client:
        acme = await make_company("acme")
        priced = await client.post("/graphql", json=dear, headers=bearer(acme.token("manager")))
        assert priced.json()["extensions"]["cost"]["requested"] > 1000
        paid = await client.post("/graphql", json=dear, headers=bearer(acme.token()))
        assert paid.status_code == 200  # a full bucket pays for one dear operation...
        again = await client.post("/graphql", json=TYPENAME, headers=bearer(acme.token()))
        assert again.status_code == 429  # ...and is empty after it
        cheap = [
            await client.post("/graphql", json=TYPENAME, headers=bearer(acme.token("employee")))
            for _ in range(10)
        ]
        assert [c.status_code for c in cheap] == [200] * 10


async def test_the_bucket_is_the_callers_not_the_token_strings(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"rate_limit_per_token": 0.1, "rate_limit_per_token_burst": 2}
    )
    async with app_client(limited) as client:
        acme = await make_company("acme")
        identity = Identity(acme.tenant.id, acme.tenant.slug, acme.admin.role, acme.admin.id)
        tokens = [mint_token(identity, TEST_SECRET, timedelta(minutes=m)) for m in (10, 20, 30)]
        assert len(set(tokens)) == 3
        statuses = [
            (await client.post("/graphql", json=TYPENAME, headers=bearer(t))).status_code
            for t in tokens
        ]
        assert statuses == [200, 200, 429]


async def _statuses(client: httpx.AsyncClient, *tokens: str) -> list[int]:
    return [
        (await client.post("/graphql", json=TYPENAME, headers=bearer(t))).status_code
        for t in tokens
    ]


async def test_api_keys_and_sessions_have_buckets_of_their_own(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"rate_limit_per_token": 0.01, "rate_limit_per_token_burst": 2}
    )
    async with app_client(limited) as client:
        acme = await make_company("acme")
        key = (await create_api_key(acme.scope, "pos", Role.VIEWER)).secret
        assert await _statuses(client, key, key, key) == [200, 200, 429]
        started = await start_session(acme.tenant, acme.admin, limited, method="password")
        # another access token of the same session (as a refresh hands out) shares its bucket
        same_session = mint_token(
            read_token(started.access_token, TEST_SECRET), TEST_SECRET, timedelta(minutes=5)
        )
        assert same_session != started.access_token
        assert await _statuses(client, started.access_token, same_session, same_session) == [
            200,
            200,
            429,
        ]
        # the same person's minted token is not that session
        assert await _statuses(client, acme.token()) == [200]


async def test_with_redis_the_app_keeps_its_buckets_there(settings: Settings) -> None:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} is not set")
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    limited = settings.model_copy(
        update={
            "redis_url": url,
            "redis_prefix": prefix,
            "rate_limit_per_token": 0.01,
            "rate_limit_per_token_burst": 2,
        }
    )
    other = RedisBuckets.from_url(url, prefix)
    try:
        async with app_client(limited) as client:
            acme = await make_company("acme")
            assert await _statuses(client, acme.token(), acme.token()) == [200, 200]
            # another process charging the same person finds the bucket spent
            person = f"person:{acme.tenant.id}:{acme.admin.id}"
            assert await other.take([(person, Rule(0.01, 2))], 1) > 0
            assert sorted(k.decode() for k in await other.client.keys(prefix + "*")) == [
                prefix + person,
                f"{prefix}tenant:{acme.tenant.id}",
            ]
            assert await _statuses(client, acme.token()) == [429]
    finally:
        keys = await other.client.keys(prefix + "*")
        if keys:
            await other.client.delete(*keys)
        await other.close()


async def test_a_noisy_tenant_is_refused_while_another_keeps_its_answers(
    settings: Settings,
) -> None:
    limited = settings.model_copy(
        update={
            "rate_limit_per_token": 0,
            "rate_limit_per_tenant": 0.01,
            "rate_limit_per_tenant_burst": 10,
        }
    )
    async with app_client(limited) as client:
        noisy = await make_company("noisy")
        acme = await make_company("acme")
        root = (await build_chain(acme, depth=2))["objectives"][0]
        tree = {
            "query": "query($r: ID!) { goalTree(rootId: $r) { id } }",
            "variables": {"r": gid("Objective", root.id)},
        }

        async def hammer() -> list[int]:
            # many tokens of one tenant: it is the tenant's bucket that runs dry
            people = ["admin", "manager", "employee", "other_employee"]
            answers = await asyncio.gather(
                *(
                    client.post("/graphql", json=TYPENAME, headers=bearer(noisy.token(who)))
                    for _ in range(10)
                    for who in people
                )
            )
            return [a.status_code for a in answers]

        async def ordinary() -> list[int]:
            statuses = []
            for _ in range(8):
                answer = await client.post("/graphql", json=tree, headers=bearer(acme.token()))
                assert "errors" not in answer.json(), answer.text
                statuses.append(answer.status_code)
            return statuses

        noisy_statuses, acme_statuses = await asyncio.gather(hammer(), ordinary())
        assert noisy_statuses.count(200) == 10
        assert noisy_statuses.count(429) == 30
        assert acme_statuses == [200] * 8


async def test_callers_not_signed_in_are_limited_by_their_address(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"rate_limit_anonymous": 0.1, "rate_limit_anonymous_burst": 2}
    )
    async with app_client(limited) as client:
        acme = await make_company("acme")
        statuses = [(await client.post("/graphql", json=TYPENAME)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        signed_in = await client.post("/graphql", json=TYPENAME, headers=bearer(acme.token()))
        assert signed_in.status_code == 200


async def test_a_limit_of_zero_is_off(settings: Settings) -> None:
    off = settings.model_copy(
        update={"rate_limit_per_token": 0, "rate_limit_per_tenant": 0, "rate_limit_anonymous": 0}
    )
    async with app_client(off) as client:
        statuses = {(await client.post("/graphql", json=TYPENAME)).status_code for _ in range(300)}
        assert statuses == {200}


# --- body size, batching, GET ------------------------------------------------------


def _large_query(size: int) -> dict[str, Any]:
    return {"query": "{ __typename }", "variables": {"padding": "x" * size}}


async def test_a_body_over_the_limit_is_refused_with_413(settings: Settings) -> None:
    small = settings.model_copy(update={"max_body_bytes": 4096, "max_upload_bytes": 65536})
    async with app_client(small) as client:
        ok = await client.post("/graphql", json=_large_query(1000))
        assert ok.status_code == 200
        announced = await client.post("/graphql", json=_large_query(5000))
        assert announced.status_code == 413
        assert announced.json() == {
            "data": None,
            "errors": [
                {
                    "message": "request body too large: at most 4096 bytes",
                    "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                }
            ],
        }

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"query": "{ __typename }", "variables": {"padding": "'
            for _ in range(10):
                yield b"x" * 1000
            yield b'"}}'

        streamed = await client.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in streamed.request.headers
        assert streamed.status_code == 413
        assert streamed.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_body_that_lies_about_its_length_is_counted(settings: Settings) -> None:
    small = settings.model_copy(update={"max_body_bytes": 4096})
    async with app_client(small) as client:
        body = httpx.Request(
            "POST", "http://goalgraph.test/graphql", json=_large_query(8000)
        ).content
        lying = await client.post(
            "/graphql",
            content=body,
            headers={"content-type": "application/json", "content-length": "100"},
        )
        assert lying.status_code == 413


async def test_uploads_have_their_own_larger_limit(settings: Settings) -> None:
    small = settings.model_copy(update={"max_body_bytes": 4096, "max_upload_bytes": 65536})
    operations = '{"query": "{ __typename }", "variables": {"file": null}}'
    async with app_client(small) as client:

        async def upload(size: int) -> httpx.Response:
            return await client.post(
                "/graphql",
                data={"operations": operations, "map": '{"0": ["variables.file"]}'},
                files={"0": ("roster.csv", b"a" * size, "text/csv")},
            )

        assert (await upload(20_000)).status_code == 200
        assert (await upload(100_000)).status_code == 413


async def test_json_batches_are_refused(settings: Settings) -> None:
    async with app_client(settings) as client:
        answer = await client.post("/graphql", json=[TYPENAME, TYPENAME])
        assert answer.status_code == 400
        assert answer.text == "Batching is not enabled"


async def test_mutations_over_get_are_refused_and_queries_allowed(settings: Settings) -> None:
    async with app_client(settings) as client:
        query = await client.get("/graphql", params={"query": "{ __typename }"})
        assert query.status_code == 200
        assert query.json()["data"] == {"__typename": "Query"}
        mutation = await client.get("/graphql", params={"query": "mutation { __typename }"})
        assert mutation.status_code == 400
        assert mutation.text == "mutations are not allowed when using GET"


# --- websockets --------------------------------------------------------------------


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[Live]:
    """The real app built with ``settings``, served by uvicorn on a free port."""
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


async def _signed_in(live: Live, company: Company) -> aiohttp.ClientWebSocketResponse:
    ws = await live.connect()
    assert await sign_in(ws, {"Authorization": f"Bearer {company.token()}"}) == {
        "type": "connection_ack"
    }
    return ws


def _subscribe(id_: str, root_id: int) -> dict[str, Any]:
    variables = {"root": gid("Objective", root_id)}
    return {"id": id_, "type": "subscribe", "payload": {"query": PROGRESS, "variables": variables}}


async def test_a_websocket_message_over_the_limit_closes_the_connection(
    settings: Settings,
) -> None:
    async with served(settings.model_copy(update={"ws_max_message_bytes": 4096})) as live:
        acme = await make_company("acme")
        ws = await _signed_in(live, acme)
        await ws.send_json({"type": "ping", "payload": {"padding": "x" * 5000}})
        assert await receive(ws) == {"closed": 1009}


async def test_too_many_subscriptions_on_one_connection_are_refused(settings: Settings) -> None:
    async with served(settings.model_copy(update={"ws_max_subscriptions": 2})) as live:
        acme = await make_company("acme")
        root = (await build_chain(acme, depth=1))["objectives"][0]
        ws = await _signed_in(live, acme)
        for id_ in ("1", "2", "3"):
            await ws.send_json(_subscribe(id_, root.id))
        refused = await receive(ws)
        assert refused["type"] == "error"
        assert refused["id"] == "3"
        assert refused["payload"][0]["message"] == "Subscription limit reached"


async def test_a_flood_of_subscribe_messages_closes_the_connection(settings: Settings) -> None:
    flood = settings.model_copy(update={"ws_subscribe_rate": 0.01, "ws_subscribe_burst": 5})
    async with served(flood) as live:
        acme = await make_company("acme")
        root = (await build_chain(acme, depth=1))["objectives"][0]
        ws = await _signed_in(live, acme)
        for n in range(6):
            await ws.send_json(_subscribe(str(n), root.id))
            await ws.send_json({"id": str(n), "type": "complete"})
        assert await receive(ws) == {"closed": 4429}


async def test_a_subscription_is_charged_when_it_starts(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"rate_limit_per_token": 0.01, "rate_limit_per_token_burst": 1}
    )
    async with served(limited) as live:
        acme = await make_company("acme")
        root = (await build_chain(acme, depth=1))["objectives"][0]
        ws = await _signed_in(live, acme)
        await ws.send_json(_subscribe("1", root.id))
        await ws.send_json(_subscribe("2", root.id))
        refused = await receive(ws)
        assert refused["type"] == "error"
        assert refused["id"] == "2"
        assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert refused["payload"][0]["extensions"]["retryAfter"] >= 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_goalgraph_serve_limits_websocket_messages(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """``goalgraph serve`` hands the limit to uvicorn, which closes the connection
    before the app reads the message."""
    db = tmp_path / "serve.sqlite3"
    shutil.copy(sqlite_template, db)
    port = _free_port()
    env = {
        **os.environ,
        "GOALGRAPH_DATABASE_URL": f"sqlite://{db}",
        "GOALGRAPH_SECRET": TEST_SECRET,
        "GOALGRAPH_SYNC_POLL_SECONDS": "0",
        "GOALGRAPH_WS_MAX_MESSAGE_BYTES": "4096",
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "goalgraph.core.cli", "serve", "--port", str(port)),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(int(30 / 0.2)):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/health") as health:
                        if health.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                assert process.returncode is None, "the server stopped"
                await asyncio.sleep(0.2)
            ws = await session.ws_connect(
                f"ws://127.0.0.1:{port}/graphql", protocols=("graphql-transport-ws",)
            )
            await ws.send_str('{"type": "ping", "payload": "' + "x" * 5000 + '"}')
            assert await receive(ws) == {"closed": 1009}
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
