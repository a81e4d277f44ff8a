"""What an operator runs goalgraph with: health and readiness, Prometheus metrics, JSON
logs and traces, through the real app (over httpx, a real uvicorn, and a real
``goalgraph serve`` process)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from goalgraph.core import logs, tracing
from goalgraph.core.app import create_app, make_syncer
from goalgraph.core.enums import SyncStatus
from goalgraph.core.settings import Settings
from goalgraph.plugins.manager import PackManager

from . import secrets_registry
from .cli import cli
from .conftest import POSTGRES_ENV
from .factories import TEST_SECRET, build_chain, gid, gql, make_company
from .fake_pos import FakePos, serving
from .reliability.server import started
from .test_subscriptions import Live, subscribe
from .test_subscriptions import live as live  # the fixture: a real uvicorn on 127.0.0.1
from .test_sync import FIRST_DAY, bind, stores_with_kpis

#: Small enough that four lists of 100 objectives are refused, large enough for a
#: subscription (about 800).
MAX_COST = 1000

VIEWER = "query Viewer { viewer { role tenant { slug } } }"
PAGE = "objectives(first: 100) { edges { node { id title } } }"
TOO_DEAR = f"query TooDear {{ a: {PAGE} b: {PAGE} c: {PAGE} d: {PAGE} }}"
BAD_CYCLE = """mutation BadCycle($input: CreateCycleInput!) {
  createCycle(input: $input) { cycle { id } errors { field code message } } }"""

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url, secret=TEST_SECRET, sync_poll_seconds=0, max_query_cost=MAX_COST
    )


def samples(text: str) -> Samples:
    """Every sample of an exposition, by name and labels."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: Samples, metric: str, /, **labels: str) -> float:
    return found.get((metric, frozenset(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


# --- health -------------------------------------------------------------------------


async def test_healthz_says_the_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_checks_the_database_migrations_and_bus(client: httpx.AsyncClient) -> None:
    for path in ("/readyz", "/health"):
        response = await client.get(path)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "status": "ok",
            "checks": {"database": "ok", "migrations": "ok", "event_bus": "ok"},
            "failed": [],
        }


@pytest_asyncio.fixture
async def vanishing(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Settings, object]]:
    """An app on a database that can be made unreachable while it runs: a SQLite file in
    a folder that is then deleted, or a PostgreSQL database closed to connections and
    its connections ended. Yields the settings and the function that does it."""
    if db_url.startswith("sqlite://"):
        folder = tmp_path / "data"
        folder.mkdir()
        path = folder / "goalgraph.sqlite3"
        shutil.copy(db_url.removeprefix("sqlite://"), path)
        yield Settings(database_url=f"sqlite://{path}", secret=TEST_SECRET), folder
        return
    base, name = os.environ[POSTGRES_ENV], db_url.rstrip("/").rpartition("/")[2]
    admin = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
    try:
        yield Settings(database_url=db_url, secret=TEST_SECRET), (admin, name)
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


async def _cut_off(target: object) -> None:
    if isinstance(target, Path):
        shutil.rmtree(target)
        return
    admin, name = target  # type: ignore[misc]
    await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    await admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()",
        name,
    )


async def test_readyz_is_503_naming_the_database_when_it_is_unreachable(
    vanishing: tuple[Settings, object],
) -> None:
    settings, target = vanishing
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://goalgraph.test") as c:
            assert (await c.get("/readyz")).status_code == 200
            await _cut_off(target)
            started = time.monotonic()
            response = await c.get("/readyz")
            assert time.monotonic() - started < settings.readiness_timeout_seconds + 3
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["status"] == "unavailable"
            assert "database" in body["failed"]
            assert body["checks"]["database"] != "ok"
            if isinstance(target, Path):
                assert body["checks"]["event_bus"] == "ok"  # in process: nothing to lose
            # (on PostgreSQL the bus's listening connection was cut off too; whether the
            # bus has noticed yet depends on when its termination callback ran)
            # the process itself is fine: liveness does not touch the database
            assert (await c.get("/healthz")).status_code == 200


# --- metrics ------------------------------------------------------------------------


async def test_metrics_expose_every_series_after_real_traffic(
    live: Live, settings: Settings, db_url: str
) -> None:
    company = await make_company("acme")
    chain = await build_chain(company)
    await stores_with_kpis(company, 1)
    before = await scrape(live.http)

    # a query, a mutation refused as data, a query too costly, a path no route has
    assert (await gql(live.http, VIEWER, auth=company.token()))["data"]["viewer"]["role"]
    refused_input = {"input": {"kind": "YEAR", "year": 2030}}
    answer = await gql(live.http, BAD_CYCLE, refused_input, auth=company.token("employee"))
    assert answer.get("errors") or answer["data"]["createCycle"]["errors"], answer
    dear = await gql(live.http, TOO_DEAR, auth=company.token())
    assert dear["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert (await live.http.get("/no/such/page/4711")).status_code == 404

    # a sync run against the fake POS
    pos = FakePos(["s00"], FIRST_DAY, 3)
    async with serving(pos), aiohttp.ClientSession() as session:
        binding = await bind(company, settings, pos)
        syncer = make_syncer(settings, PackManager.discover(), session)
        run = await syncer.run(company.scope, binding, "manual")
    assert run.status is SyncStatus.SUCCEEDED, run.error

    # an open subscription
    watcher = await subscribe(live, company, chain["objectives"][0].id)
    after = await scrape(live.http)

    def grew(metric: str, /, by: float = 1, **labels: str) -> None:
        assert value(after, metric, **labels) - value(before, metric, **labels) == by, metric

    grew("goalgraph_http_requests_total", method="GET", route="unmatched", status="404")
    answered = {"method": "POST", "route": "/graphql", "status": "200"}
    assert value(after, "goalgraph_http_requests_total", **answered) >= 3
    assert value(
        after, "goalgraph_http_request_duration_seconds_count", method="POST", route="/graphql"
    )
    operations = "goalgraph_graphql_operations_total"
    grew(operations, operation="Viewer", type="query", outcome="ok")
    grew(operations, operation="BadCycle", type="mutation", outcome="user_error")
    grew(operations, operation="TooDear", type="query", outcome="refused")
    grew("goalgraph_graphql_operation_duration_seconds_count", operation="Viewer", type="query")
    assert value(after, "goalgraph_graphql_query_cost_count", type="query") >= 2
    grew("goalgraph_sync_runs_total", status="succeeded", trigger="manual")
    grew("goalgraph_sync_rows_total", kind="read", by=run.rows_read)
    grew("goalgraph_sync_rows_total", kind="written", by=run.rows_written)
    grew("goalgraph_sync_rows_total", kind="rejected", by=run.rows_rejected)
    assert run.rows_written == 6
    assert ("goalgraph_event_bus_lag_seconds_count", frozenset()) in after
    assert value(after, "goalgraph_subscriptions_active", name="goalProgress") >= 1
    pool = {
        dict(labels)["state"]: v
        for (name, labels), v in after.items()
        if name == "goalgraph_db_pool_connections"
    }
    if db_url.startswith("postgres"):
        assert set(pool) == {"in_use", "idle", "max"}
        assert pool["max"] >= 1
        assert pool["in_use"] + pool["idle"] >= 1
    else:
        assert pool == {}  # SQLite has no pool
    # nothing is labelled by tenant
    assert not any("acme" in v for _, labels in after for _, v in labels)

    # a subscription that ends is no longer counted
    open_before = value(after, "goalgraph_subscriptions_active", name="goalProgress")
    await watcher.send_json({"id": "1", "type": "complete"})
    await watcher.close()
    for _ in range(100):
        now = value(await scrape(live.http), "goalgraph_subscriptions_active", name="goalProgress")
        if now == open_before - 1:
            break
        await asyncio.sleep(0.05)
    assert now == open_before - 1


async def test_operation_names_past_the_cap_fold_into_other(client: httpx.AsyncClient) -> None:
    from goalgraph.core.metrics import operation_names

    cap, seen = operation_names.cap, set(operation_names.seen)
    operation_names.cap = len(seen)  # full: no new name gets a series of its own
    try:
        await gql(client, "query Unheard4711 { __typename }")
    finally:
        operation_names.cap = cap
    found = samples((await client.get("/metrics")).text)
    labels = {dict(k[1]).get("operation") for k in found if k[0].startswith("goalgraph_graphql")}
    assert "Unheard4711" not in labels
    assert "other" in labels


async def test_metrics_in_production_need_the_token(db_url: str) -> None:
    token = secrets_registry.register("metrics token", "metrics-token-for-the-suite-0042")
    secret = "a-production-secret-of-enough-length-for-tests"
    for configured, expected in (("", [404, 404]), (token, [401, 401, 200])):
        settings = Settings(
            database_url=db_url,
            secret=secret,
            env="production",
            metrics_token=configured,
            sync_poll_seconds=0,
        )
        async with LifespanManager(create_app(settings)) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="https://g.test") as c:
                tries = [
                    {},
                    {"Authorization": "Bearer wrong"},
                    {"Authorization": f"Bearer {token}"},
                ]
                got = [(await c.get("/metrics", headers=h)).status_code for h in tries]
        assert got[: len(expected)] == expected, configured
    assert got[2] == 200


MULTIPROCESS_WRITER = """
from goalgraph.core import metrics
metrics.SYNC_RUNS.labels("succeeded", "schedule").inc()
metrics.SYNC_ROWS.labels("written").inc(5)
metrics.SUBSCRIPTIONS.labels("alerts").inc()
"""
MULTIPROCESS_READER = """
import sys
from goalgraph.core import metrics
sys.stdout.write(metrics.exposition().decode())
"""


def test_several_processes_add_up_in_one_multiprocess_folder(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def python(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    writers = [
        subprocess.Popen([sys.executable, "-c", MULTIPROCESS_WRITER], env=env) for _ in range(2)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    found = samples(python(MULTIPROCESS_READER))
    assert value(found, "goalgraph_sync_runs_total", status="succeeded", trigger="schedule") == 2
    assert value(found, "goalgraph_sync_rows_total", kind="written") == 10
    # the writers have exited: their open subscriptions went with them
    assert value(found, "goalgraph_subscriptions_active", name="alerts") == 0


# --- logs ---------------------------------------------------------------------------


def test_redaction_blanks_credentials_by_key_and_by_look() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ0ZW5hbnQiOjF9.c2lnbmF0dXJl"
    event = {
        "event": f"GET /x?code=abc123&token=t0k3n&page=2 Bearer {jwt} gg_live_0123456789",
        "authorization": "Bearer abc",
        "password": "hunter22",
        "tenant": "acme",
    }
    out = logs.redact(None, "info", dict(event))
    assert out["authorization"] == out["password"] == logs.REDACTED
    assert out["tenant"] == "acme"
    text = out["event"]
    for leaked in (jwt, "abc123", "t0k3n", "gg_live_0123456789"):
        assert leaked not in text
    assert "page=2" in text


@dataclass
class Served:
    """A running ``goalgraph serve``: its base URL, the admin's token, and ``stop``,
    which ends it and returns its log's lines."""

    base: str
    token: str
    log: Path
    stack: contextlib.ExitStack
    lines: list[str] | None = None

    def stop(self) -> list[str]:
        if self.lines is None:
            self.stack.close()  # the process ends, and its log is all written
            text = self.log.read_text(errors="replace")
            # into the session's captured log too, where no secret may appear
            logging.getLogger("tests.serve").info("goalgraph serve log:\n%s", text)
            self.lines = text.splitlines()
        return self.lines


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """``goalgraph serve`` with JSON logs, on the database of a new tenant ``acme``."""
    db = tmp_path / "served.sqlite3"
    secret = "operations-test-secret-with-enough-length"
    cli(db, secret, "migrate")
    created = cli(
        db, secret, "tenant", "create", "acme", "--name", "Acme", "--admin-email", "li@acme.example"
    )
    token = secrets_registry.register("bearer token", created.stdout.strip().splitlines()[-1])
    env = {"GOALGRAPH_SECRET": secret, "GOALGRAPH_LOG_FORMAT": "json"}
    log = tmp_path / "served.log"
    stack = contextlib.ExitStack()
    # a loaded 2-core machine starts slowly
    server = stack.enter_context(started(f"sqlite://{db}", log, env=env, start_seconds=90))
    running = Served(server.base, token, log, stack)
    try:
        yield running
    finally:
        running.stop()


def test_served_requests_log_json_lines_with_request_tenant_and_operation(
    served: Served,
) -> None:
    with httpx.Client(base_url=served.base) as http:
        answer = http.post(
            "/graphql",
            json={"query": VIEWER},
            headers={"Authorization": f"Bearer {served.token}", "X-Request-ID": "req-4711.a"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-request-id"] == "req-4711.a"
        generated = http.get("/healthz", headers={"X-Request-ID": "no good id"})
        assert generated.headers["x-request-id"] not in ("", "no good id")
    # a token in a query string (a client's mistake) reaches the access log redacted;
    # sent through urllib, which (unlike httpx) does not log the URL itself
    with urllib.request.urlopen(f"{served.base}/healthz?token={served.token}") as mistaken:
        assert mistaken.status == 200
    lines = served.stop()

    assert not [line for line in lines if served.token in line]
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records, lines
    for record in records:
        assert {"timestamp", "level", "logger", "message"} <= record.keys(), record
    assert any(r["logger"].startswith("uvicorn") and "Started" in r["message"] for r in records)
    mine = [r for r in records if r.get("request_id") == "req-4711.a"]
    assert mine, records
    access = mine[-1]
    assert (access["logger"], access["method"], access["path"], access["status"]) == (
        "uvicorn.access",
        "POST",
        "/graphql",
        200,
    )
    assert (access["tenant"], access["operation"]) == ("acme", "Viewer")
    assert isinstance(access["tenant_id"], int)
    with_token = [r for r in records if str(r.get("path", "")).startswith("/healthz?token=")]
    assert [r["path"] for r in with_token] == [f"/healthz?token={logs.REDACTED}"]


# --- traces -------------------------------------------------------------------------


async def test_traces_have_a_span_for_each_operation_under_its_request(db_url: str) -> None:
    exporter = InMemorySpanExporter()
    tracing.use_exporter(exporter)
    try:
        settings = Settings(database_url=db_url, secret=TEST_SECRET, otel="console")
        async with LifespanManager(create_app(settings)) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://g.test") as c:
                company = await make_company("acme")
                kpi = gid("Kpi", 1)
                query = "query Viewer($id: ID!) { viewer { role } kpi(id: $id) { title } }"
                body = await gql(c, query, {"id": kpi}, auth=company.token())
                assert "errors" not in body, body
                await c.get("/healthz")
    finally:
        tracing.reset()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    operation = spans["GraphQL Query: Viewer"]
    http = next(
        s for s in exporter.get_finished_spans() if s.name == "POST /graphql" and s.parent is None
    )
    assert operation.parent is not None
    assert operation.parent.span_id == http.context.span_id
    assert {"GraphQL Parsing", "GraphQL Validation"} <= spans.keys()
    root_field = spans["GraphQL Resolving: viewer"]
    assert root_field.parent is not None
    assert root_field.parent.span_id == operation.context.span_id
    assert "GraphQL Resolving: role" not in spans  # fields below the root: no span each
    assert not any("healthz" in name for name in spans)


def test_spans_mask_literals_and_secret_arguments() -> None:
    document = 'mutation { signIn(input: {email: "a@b.c", password: "hunter22"}) { ok } }'
    assert "hunter22" not in tracing.masked_document(document)
    masked = tracing.masked_arguments({"password": "hunter22", "first": 3, "input": {"a": 1}})
    assert masked == {"password": logs.REDACTED, "first": 3, "input": "<dict>"}
