"""Prometheus metrics, served at ``/metrics`` in the text exposition format.

The series (docs/operations.md lists them with their labels): HTTP requests by method,
route template and status, with their latency; GraphQL operations by name, type and
outcome, with their duration and query cost; sync runs and their rows; the event bus's
delivery lag; open subscriptions; and, on PostgreSQL, the connection pool's use,
read at scrape time.

Labels are bounded: routes are templates (``/hooks/{binding:int}``, never the id), a
path no route matches is ``unmatched``, operation names past ``MAX_OPERATION_NAMES``
per process fold into ``other``, and nothing is labelled by tenant or person, which
would grow with the customers.

Several workers (``PROMETHEUS_MULTIPROC_DIR`` set, one folder shared by the workers of
a host and emptied before they start): each process writes its values to files there
and whichever worker answers a scrape adds them all up (prometheus-client's
``MultiProcessCollector``). Only the pool gauges stay the answering worker's own.

Core holds the metrics so that any package may count without importing the web:
the sync service (``adapters/syncer.py``) and the GraphQL view (``schema/observe.py``)
call the functions here, the app mounts ``routes`` and ``HttpMetrics``.
"""

from __future__ import annotations

import atexit
import hmac
import os
import re
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import connections

from . import events
from .settings import Settings

if TYPE_CHECKING:
    from .models import SyncRun

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Distinct operation names one process labels before the rest become ``other``.
MAX_OPERATION_NAMES = 100
#: The sync triggers of the code (anything else, a test's own, is ``other``).
TRIGGERS = frozenset({"schedule", "manual", "webhook", "import", "cli"})
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})

#: Seconds: from a cached lookup to a large goal tree.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
#: Cost points (``schema/cost.py``): a lookup costs a few, a full tree some 7,800, the
#: default maximum is 100,000.
COST_BUCKETS = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_REQUESTS = Counter(
    "goalgraph_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "goalgraph_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_OPERATIONS = Counter(
    "goalgraph_graphql_operations_total",
    "GraphQL operations by name (or anonymous), type and outcome (ok, user_error, error, refused).",
    ["operation", "type", "outcome"],
)
GRAPHQL_DURATION = Histogram(
    "goalgraph_graphql_operation_duration_seconds",
    "Time a query or mutation took, parsing to answer.",
    ["operation", "type"],
    buckets=LATENCY_BUCKETS,
)
QUERY_COST = Histogram(
    "goalgraph_graphql_query_cost",
    "What each costed operation asked for, in cost points (schema/cost.py).",
    ["type"],
    buckets=COST_BUCKETS,
)
SYNC_RUNS = Counter(
    "goalgraph_sync_runs_total", "Sync runs ended, by status and trigger.", ["status", "trigger"]
)
SYNC_ROWS = Counter(
    "goalgraph_sync_rows_total", "Rows of ended sync runs: read, written, rejected.", ["kind"]
)
EVENT_BUS_LAG = Histogram(
    "goalgraph_event_bus_lag_seconds",
    "Seconds from an event's publication to its delivery to this worker.",
    buckets=LAG_BUCKETS,
)
SUBSCRIPTIONS = Gauge(
    "goalgraph_subscriptions_active",
    "GraphQL subscriptions open now, by root field.",
    ["name"],
    multiprocess_mode="livesum",
)

events.lag_observers.append(EVENT_BUS_LAG.observe)


# --- what the rest of goalgraph calls ----------------------------------------------


class OperationNames:
    """Operation names as labels, at most ``cap`` distinct ones per process: a client
    may name its operations anything, and each name is a series."""

    NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")

    def __init__(self, cap: int = MAX_OPERATION_NAMES) -> None:
        self.cap = cap
        self.seen: set[str] = set()

    def label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self.seen:
            return name
        if len(self.seen) >= self.cap or not self.NAME.fullmatch(name):
            return "other"
        self.seen.add(name)
        return name


operation_names = OperationNames()


def observe_operation(
    name: str | None, type_: str, outcome: str, seconds: float, cost: int | None
) -> None:
    """One GraphQL operation ended (``schema/observe.py``)."""
    label = operation_names.label(name)
    GRAPHQL_OPERATIONS.labels(label, type_, outcome).inc()
    if type_ != "subscription":  # a subscription's duration is how long it was watched
        GRAPHQL_DURATION.labels(label, type_).observe(seconds)
    if cost is not None:
        QUERY_COST.labels(type_).observe(cost)


def sync_run_ended(run: SyncRun) -> None:
    """A sync run ended (``adapters/syncer.py``): counted with its rows."""
    trigger = run.trigger if run.trigger in TRIGGERS else "other"
    SYNC_RUNS.labels(str(run.status), trigger).inc()
    for kind, rows in (
        ("read", run.rows_read),
        ("written", run.rows_written),
        ("rejected", run.rows_rejected),
    ):
        SYNC_ROWS.labels(kind).inc(rows)


@asynccontextmanager
async def subscription_active(name: str) -> AsyncIterator[None]:
    """Count a subscription open while the block runs (``schema/subscriptions.py``)."""
    gauge = SUBSCRIPTIONS.labels(name)
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


# --- the database pool, read when scraped -------------------------------------------


class PoolCollector(Collector):
    """``goalgraph_db_pool_connections{state}`` from Tortoise's asyncpg pool: in use,
    idle and the most it may open. Nothing on SQLite (one connection, no pool) or
    before the pool exists."""

    def describe(self) -> Iterable[Metric]:
        return []  # registering must not read a pool that does not exist yet

    def collect(self) -> Iterable[Metric]:
        pool = _pool()
        if pool is None:
            return []
        size, idle = pool.get_size(), pool.get_idle_size()
        family = GaugeMetricFamily(
            "goalgraph_db_pool_connections",
            "PostgreSQL connections of this worker's pool: in use, idle, and its maximum.",
            labels=["state"],
        )
        family.add_metric(["in_use"], size - idle)
        family.add_metric(["idle"], idle)
        family.add_metric(["max"], pool.get_max_size())
        return [family]


def _pool() -> _Pool | None:
    try:
        client = connections.get("default")
    except Exception:  # Tortoise not open: no pool to report
        return None
    pool = getattr(client, "_pool", None)
    return pool if hasattr(pool, "get_idle_size") else None


class _Pool(Protocol):
    """What the collector reads of an ``asyncpg.Pool``."""

    def get_size(self) -> int: ...
    def get_idle_size(self) -> int: ...
    def get_max_size(self) -> int: ...


POOL = PoolCollector()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


if multiprocess_dir() is None:
    REGISTRY.register(POOL)
else:
    # a worker that stops cleanly takes its live gauges (open subscriptions) with it
    atexit.register(multiprocess.mark_process_dead, os.getpid())


def exposition() -> bytes:
    """Every series in the text format: this process's, or with several workers the
    sum of every worker's files in ``PROMETHEUS_MULTIPROC_DIR``."""
    folder = multiprocess_dir()
    if folder is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)
    registry.register(POOL)
    return generate_latest(registry)


# --- HTTP: the endpoint and the request middleware -----------------------------------


def routes(settings: Settings) -> list[BaseRoute]:
    """``/metrics``: open in development; in production only to the bearer of
    ``GOALGRAPH_METRICS_TOKEN`` (401 otherwise), and not served without one (404): the
    series tell an outsider how busy each operation is."""
    token = settings.metrics_token.encode()

    async def metrics(request: Request) -> Response:
        if settings.production:
            if not token:
                return Response(status_code=404)
            sent = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(sent, b"Bearer " + token):
                return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", metrics, include_in_schema=False)]


def route_label(scope: Scope, root_path: str) -> str:
    """The template of the route that answered (``/hooks/{binding:int}``), with the
    prefixes of the mounts it is under; ``unmatched`` when none did."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return "unmatched"
    prefix = str(scope.get("root_path", ""))[len(root_path) :]
    return prefix if isinstance(route, Mount) else prefix + path


class HttpMetrics:
    """Pure ASGI middleware: counts and times every HTTP request by its route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status, root_path = time.perf_counter(), 500, scope.get("root_path", "")

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = route_label(scope, root_path)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)
