"""The workloads of issue 12, each timed next to its floor measured in the same run.

Every workload checks its answers before it reports a figure: the API's ``data`` must
equal the floor's, stored values must be the rows sent, and stored scores after an
ingest must equal what the core's ``rebuild`` computes from scratch. A wrong answer
raises ``WrongAnswer`` (the run fails); slowness never does: speed goals are reported,
not asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
from aiohttp import web
from asgi_lifespan import LifespanManager
from tortoise.backends.base.executor import EXECUTOR_CACHE

from goalgraph.core import rls
from goalgraph.core.app import create_app, make_syncer
from goalgraph.core.enums import Role
from goalgraph.core.identity import Identity, mint_token
from goalgraph.core.models import Cycle, Tenant
from goalgraph.core.scoring.store import rebuild
from goalgraph.core.settings import Settings

from . import floor
from .seed import Target, discard, scratch, tenant_scope
from .serve import SECRET, app_settings
from .shape import CYCLE_ID, INGEST_START, POS_METRICS, TENANT_ID, TENANT_SLUG, Shape, generate

#: bench/goal_tree.py's selection: seven node levels with progress, scores and owners.
FRAGMENT = """
fragment N on GoalNode { id kind title titleEn progress score
  owner { ... on OrgUnit { name } ... on Person { name } }
  ... on Kpi { currentValue target threshold } }
"""
TREE_QUERY = (
    FRAGMENT
    + """
{ goalTree { ...N children { ...N children { ...N children { ...N children { ...N
  children { ...N children { ...N } } } } } } } }
"""
)
#: A department's subtree (five levels: department, store or team, key result, KPI,
#: KPI children), its unit scorecard and the ranking of its people.
TEAM_QUERY = (
    FRAGMENT
    + """
query Team($root: ID!, $unit: ID!, $cycle: ID!) {
  goalTree(rootId: $root) { ...N children { ...N children { ...N children { ...N
    children { ...N } } } } }
  scorecard(orgUnitId: $unit, cycleId: $cycle) {
    stage okrShare kpiShare okrGrade kpiScore combinedScore
    objectives { objective { id title } grade }
    keyResults { keyResult { id title } grade }
    kpis { kpi { id title } score } }
  ranking(orgUnitId: $unit, cycleId: $cycle) {
    rank person { id name } scorecard { okrGrade kpiScore combinedScore } }
}
"""
)
RECORD = """
mutation Record($entries: [MeasurementEntry!]!) {
  recordMeasurements(entries: $entries) { errors { code message } }
}
"""
SWITCH = """
mutation Switch($stage: String!) {
  setLifecycleStage(stage: $stage) { tenant { stage } errors { code message } }
}
"""
COMPANY_CARD = """
query Card($cycle: ID!) {
  scorecard(cycleId: $cycle) { stage okrShare kpiShare okrGrade kpiScore combinedScore }
}
"""


class WrongAnswer(AssertionError):
    """A variant's answer differs from the standard path's: the benchmark fails."""


@dataclass
class Options:
    """How much of each workload to run (the CI run and the test use less)."""

    repeat: dict[str, int] = field(default_factory=lambda: {"1k": 9, "10k": 5, "100k": 2})
    clients: int = 16
    #: Seconds of load per server in the team workload.
    duration: float = 8.0
    #: Rows the ingest workload offers, and seconds each variant may spend on them.
    ingest_rows: int = 100_000
    ingest_budget: float = 6.0
    batches: tuple[int, ...] = (100, 1000)
    switches: int = 3
    #: Concurrent team queries (one each) beside the whole tree in the memory workload:
    #: at 100k nodes one team query costs seconds, 16 clients' rounds would take minutes.
    memory_clients: int = 4


def stats(seconds: list[float]) -> dict[str, float]:
    """Median and 95th percentile in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"median_ms": round(statistics.median(ms), 2), "p95_ms": round(p95, 2), "n": len(ms)}


def percentile(ms: list[float], q: float) -> float:
    ordered = sorted(ms)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


def check(ok: bool, what: str) -> None:
    if not ok:
        raise WrongAnswer(what)


def first_difference(a: Any, b: Any, path: str = "") -> str:
    """Where two JSON values first differ, for the failure message."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key, "<missing>") != b.get(key, "<missing>"):
                return first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {str(a)[:200]!r} vs {str(b)[:200]!r}"


def same(api: Any, floor_answer: Any, what: str) -> None:
    check(
        api == floor_answer,
        f"{what}: API and floor differ at {first_difference(api, floor_answer)}",
    )


def admin_token() -> str:
    identity = Identity(TENANT_ID, TENANT_SLUG, Role.ADMIN)
    return mint_token(identity, SECRET, timedelta(hours=6))


def settings_for(target: Target) -> Settings:
    settings: Settings = app_settings(target.app_url)
    return settings


@contextlib.asynccontextmanager
async def app_client(target: Target) -> AsyncIterator[httpx.AsyncClient]:
    """The real ASGI app in this process (Tortoise opened by its lifespan)."""
    EXECUTOR_CACHE.clear()
    app = create_app(settings_for(target))
    headers = {"Authorization": f"Bearer {admin_token()}"}
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers, timeout=600
        ) as client:
            yield client


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> Any:
    """One GraphQL call; its ``data`` (errors fail the run: the answer is wrong)."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    body = response.json()
    if "errors" in body:
        raise WrongAnswer(f"GraphQL errors: {str(body['errors'])[:500]}")
    return body["data"]


def gid(type_name: str, node_id: int) -> str:
    return floor.global_id(type_name, node_id)


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> tuple[list[float], Any]:
    seconds, last = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        last = await call()
        seconds.append(time.perf_counter() - started)
    return seconds, last


def result(workload: str, target: Target, variant: str, **figures: Any) -> dict[str, Any]:
    return {
        "workload": workload,
        "db": target.db,
        "size": target.size,
        "variant": variant,
        **figures,
    }


# -- a: goalTree --------------------------------------------------------------------------


async def goal_tree(target: Target, options: Options) -> list[dict[str, Any]]:
    """The whole tree through the ASGI app vs raw SQL → dicts → orjson.

    Answers are kept as bytes while timing and compared once at the end: a parsed
    100k-node answer is millions of live objects, and every garbage collection pass
    would walk them inside the other side's timings. On the small sizes one untimed
    call of each warms the caches first.
    """
    repeat = options.repeat.get(target.size, 3)
    warm = target.size != "100k"
    body = {"query": TREE_QUERY}
    raw = await floor.open_raw(target)
    try:
        if warm:
            await floor.goal_tree(raw)
        floor_s, answer = await timed(lambda: floor.goal_tree(raw), repeat)
        gc.collect()
        async with app_client(target) as client:

            async def call() -> bytes:
                return (await client.post("/graphql", json=body)).content

            if warm:
                await call()
            api_s, api = await timed(call, repeat)
            parsed = json.loads(api)
            if "errors" in parsed:  # the API cannot answer at this size: report why
                return [
                    result(
                        "goal_tree",
                        target,
                        "api",
                        error=await _reason(target),
                        floor=stats(floor_s),
                    )
                ]
        same(parsed["data"], orjson.loads(answer), "goalTree")
    finally:
        await raw.close()
    del parsed
    gc.collect()
    a, f = stats(api_s), stats(floor_s)
    return [
        result(
            "goal_tree",
            target,
            "api",
            **a,
            floor=f,
            bytes=len(answer),
            ratio=round(a["median_ms"] / f["median_ms"], 2),
            check="equal",
        )
    ]


async def _reason(target: Target) -> str:
    """The error the API masked, from the same query on an app with masking off."""
    EXECUTOR_CACHE.clear()
    settings = settings_for(target).model_copy(update={"debug": True})
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {admin_token()}"}
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers, timeout=600
        ) as client:
            response = await client.post("/graphql", json={"query": TREE_QUERY})
    errors = response.json().get("errors") or [{"message": "no error the second time"}]
    return str(errors[0].get("message"))[:300]


# -- b and e: the team query over HTTP, and peak memory ------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def server(kind: str, target: Target) -> AsyncIterator[tuple[str, int]]:
    """A uvicorn process (``bench.serve``) on a free port; yields its URL and pid."""
    port = free_port()
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serve", kind, "--url", target.app_url, "--port", str(port)],
        cwd=root,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(url + "/health") as response:
                        if response.status == 200:
                            break
                if process.poll() is not None:
                    raise RuntimeError(f"the {kind} server exited with {process.returncode}")
                await asyncio.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def team_requests(shape: Shape, count: int) -> list[dict[str, Any]]:
    """The departments the clients ask for, as GraphQL variables (first ``count``)."""
    return [
        {"root": gid("Objective", o), "unit": gid("OrgUnit", u), "cycle": gid("Cycle", CYCLE_ID)}
        for u, o in shape.departments[:count]
    ]


async def load(
    session: aiohttp.ClientSession,
    url: str,
    bodies: list[bytes],
    headers: dict[str, str],
    clients: int,
    duration: float,
    answers: dict[int, bytes],
) -> dict[str, float]:
    """``clients`` concurrent clients for ``duration`` seconds, each sending the next body
    as soon as its last answer came; req/s and latency percentiles. The first answer to
    each body goes into ``answers`` (by the body's index) for the equality check."""
    latencies: list[float] = []
    counter = iter(range(10**9))
    stop = time.perf_counter() + duration
    errors = 0

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            index = next(counter) % len(bodies)
            started = time.perf_counter()
            async with session.post(url, data=bodies[index], headers=headers) as response:
                answer = await response.read()
                if response.status != 200:
                    errors += 1
            answers.setdefault(index, answer)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "requests": len(latencies),
        "errors": errors,
    }


async def team(target: Target, options: Options, memory: bool = False) -> list[dict[str, Any]]:
    """Workload b (and e with ``memory``): goalgraph's server vs the floor server under
    the same 16 clients; every distinct request's answers compared first."""
    shape = generate(target.size)
    variables = team_requests(shape, options.memory_clients if memory else options.clients)
    app_bodies = [orjson.dumps({"query": TEAM_QUERY, "variables": v}) for v in variables]
    floor_bodies = [
        orjson.dumps({"unit": u, "objective": o}) for u, o in shape.departments[: len(variables)]
    ]
    headers = {"Content-Type": "application/json"}
    auth = {**headers, "Authorization": f"Bearer {admin_token()}"}
    figures: dict[str, dict[str, Any]] = {}
    answers: dict[str, list[Any]] = {}
    trees: dict[str, Any] = {}
    timeout = aiohttp.ClientTimeout(total=900)
    connector_limit = options.clients
    for kind, path, bodies, hdrs in (
        ("app", "/graphql", app_bodies, auth),
        ("floor", "/team", floor_bodies, headers),
    ):
        async with (
            server(kind, target) as (url, pid),
            aiohttp.ClientSession(
                timeout=timeout, connector=aiohttp.TCPConnector(limit=connector_limit)
            ) as session,
        ):

            async def ask(
                body: bytes, url: str = url, path: str = path, hdrs: dict[str, str] = hdrs
            ) -> Any:
                async with session.post(url + path, data=body, headers=hdrs) as response:
                    return orjson.loads(await response.read())

            # memory: every distinct request once, all at once (the load checks its own)
            if memory:
                answers[kind] = list(await asyncio.gather(*(ask(b) for b in bodies)))
            if memory:  # e: the whole tree once, as a frontend opening the chain would
                tree_url, tree_body = (
                    (url + "/graphql", orjson.dumps({"query": TREE_QUERY}))
                    if kind == "app"
                    else (url + "/tree", b"{}")
                )
                started = time.perf_counter()
                async with session.post(tree_url, data=tree_body, headers=hdrs) as response:
                    trees[kind] = orjson.loads(await response.read())
                trees[kind + "_ms"] = round((time.perf_counter() - started) * 1000, 1)
            if memory:
                figures[kind] = {"errors": 0}
            else:
                first: dict[int, bytes] = {}
                figures[kind] = await load(
                    session, url + path, bodies, hdrs, options.clients, options.duration, first
                )
                check(len(first) == len(bodies), f"{kind}: not every department was asked")
                answers[kind] = [orjson.loads(first[i]) for i in range(len(bodies))]
            figures[kind]["peak_rss_mb"] = peak_rss_mb(pid)
    for i, (api, bare) in enumerate(zip(answers["app"], answers["floor"], strict=True)):
        check("errors" not in api, f"team query errors: {str(api.get('errors'))[:300]}")
        same(api["data"], bare["data"], f"team query {i}")
    app, bare = figures["app"], figures["floor"]
    check(app["errors"] == 0 and bare["errors"] == 0, "team load: failed requests")
    if not memory:
        return [
            result(
                "team",
                target,
                "http",
                **app,
                floor=bare,
                rps_ratio=round(app["rps"] / bare["rps"], 3),
                p99_ratio=round(app["p99_ms"] / bare["p99_ms"], 2),
                check="equal",
            )
        ]
    rows = []
    if memory:
        tree_ok = "errors" not in trees["app"]
        if tree_ok:
            same(trees["app"]["data"], trees["floor"]["data"], "goalTree over HTTP")
        rows.append(
            result(
                "memory",
                target,
                "server",
                peak_rss_mb=app["peak_rss_mb"],
                floor={"peak_rss_mb": bare["peak_rss_mb"]},
                ratio=round(app["peak_rss_mb"] / bare["peak_rss_mb"], 2),
                tree_ms=trees["app_ms"],
                floor_tree_ms=trees["floor_ms"],
                check="equal" if tree_ok else "the whole tree: an error (masked by the server)",
            )
        )
    return rows


# -- c: ingest ------------------------------------------------------------------------------


async def stored(raw: floor.Raw) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Every stored score and every measurement of the ingest window."""
    scores = await raw.fetch(
        "SELECT kind, node_id, value, score FROM score WHERE tenant_id = ?", TENANT_ID
    )
    values = await raw.fetch(
        "SELECT kpi_id, period_start, value FROM measurement "
        "WHERE period_start >= ? AND source <> 'seed'",
        INGEST_START.isoformat() if isinstance(raw, floor.SqliteRaw) else INGEST_START,
    )
    return (
        {(r[0], r[1]): (r[2], r[3]) for r in scores},
        {(r[0], str(r[1])): r[2] for r in values},
    )


async def check_ingested(target: Target, sent: list[tuple[int, date, float]], what: str) -> None:
    """The stored values are the rows sent, and every stored score is what a rebuild
    from scratch stores (Tortoise must be open on ``target``)."""
    raw = await floor.open_raw(target)
    try:
        before, values = await stored(raw)
        expected = {(k, d.isoformat()): v for k, d, v in sent}
        check(
            values == expected,
            f"{what}: stored values differ from the rows sent "
            f"({len(values)} stored, {len(expected)} sent)",
        )
        with rls.bound_to(TENANT_ID):
            tenant = await Tenant.get(id=TENANT_ID)
            await rebuild(tenant_scope(tenant), await Cycle.get(id=CYCLE_ID), None)
        after, _ = await stored(raw)
    finally:
        await raw.close()
    stale = [key for key in after if not _close(before.get(key), after[key])]
    check(
        not stale and before.keys() == after.keys(),
        f"{what}: {len(stale)} stored scores not current, e.g. "
        f"{[(k, before.get(k), after[k]) for k in stale[:3]]}",
    )


def _close(a: tuple[Any, Any] | None, b: tuple[Any, Any]) -> bool:
    """Equal, or equal but for float rounding: PostgreSQL's SUM adds a KPI's values in
    whatever order the plan reads them, so two rebuilds there can differ in the last
    bit of a KPI's value (and of the scores above it)."""
    if a is None:
        return False
    return all(
        x == y or (x is not None and y is not None and math.isclose(x, y, rel_tol=1e-12))
        for x, y in zip(a, b, strict=True)
    )


async def ingest_graphql(
    target: Target, rows: list[tuple[int, date, float]], batch: int, budget: float
) -> dict[str, Any]:
    """``recordMeasurements`` in batches of ``batch`` until the rows or the budget end."""
    copy = await scratch(target, f"gql{batch}")
    try:
        sent: list[tuple[int, date, float]] = []
        async with app_client(copy) as client:
            started = time.perf_counter()
            for i in range(0, len(rows), batch):
                chunk = rows[i : i + batch]
                entries = [
                    {"kpiId": gid("Kpi", k), "period": d.isoformat(), "value": v, "source": "pos"}
                    for k, d, v in chunk
                ]
                data = await graphql(client, RECORD, {"entries": entries})
                problems = data["recordMeasurements"]["errors"]
                check(not problems, f"recordMeasurements: {problems[:3]}")
                sent.extend(chunk)
                if time.perf_counter() - started > budget:
                    break
            seconds = time.perf_counter() - started
            await check_ingested(copy, sent, f"recordMeasurements ×{batch}")
    finally:
        await discard(copy)
    return {
        "rows": len(sent),
        "seconds": round(seconds, 2),
        "rows_per_s": round(len(sent) / seconds, 1),
    }


def pos_app(shape: Shape, deadline: list[float]) -> tuple[web.Application, list[dict[str, Any]]]:
    """A point-of-sale export (the shape of tests/fake_pos.py's) serving the ingest rows:
    one row per store and day with sales and visitors. Past ``deadline[0]`` it answers
    with no rows, which ends the sync where the budget ran out."""
    by_metric = {(k.owner_unit_id, k.metric_code): k for k in shape.kpis}
    codes = shape.store_codes()
    from .shape import YEAR_END, value_of

    days = [INGEST_START + timedelta(days=n) for n in range((YEAR_END - INGEST_START).days + 1)]
    by_day = {
        day: [
            {
                "store_code": code,
                "date": day.isoformat(),
                "sales": value_of(by_metric[(unit, "daily_sales")], day),
                "visitors": value_of(by_metric[(unit, "foot_traffic")], day),
            }
            for unit, code in codes.items()
        ]
        for day in days
    }
    served: list[dict[str, Any]] = []

    async def sales(request: web.Request) -> web.Response:
        since = date.fromisoformat(request.query["since"])
        until = date.fromisoformat(request.query["until"])
        page, size = int(request.query["page"]), int(request.query["page_size"])
        if time.perf_counter() > deadline[0]:
            return web.json_response({"items": []})
        rows = [r for d in days if since <= d <= until for r in by_day[d]]
        items = rows[(page - 1) * size : page * size]
        served.extend(items)
        return web.Response(body=orjson.dumps({"items": items}), content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/sales", sales)
    return app, served


async def ingest_sync(target: Target, shape: Shape, budget: float) -> dict[str, Any]:
    """An HTTP JSON adapter sync from the local POS export, through the real runner."""
    from goalgraph.adapters.bindings import BindingInput, create_binding
    from goalgraph.adapters.registry import GENERIC
    from goalgraph.core.secrets import SecretBox
    from goalgraph.plugins.manager import PackManager

    copy = await scratch(target, "sync")
    deadline = [float("inf")]
    pos, served = pos_app(shape, deadline)
    runner = web.AppRunner(pos)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        async with app_client(copy):
            settings = settings_for(copy)
            config = {
                "url": f"http://127.0.0.1:{runner.addresses[0][1]}/api/sales",
                "page_size": 500,
                "window_days": 366,
                "start": INGEST_START.isoformat(),
                "subject_field": "store_code",
                "period_field": "date",
                "values": {"sales": "daily_sales", "visitors": "foot_traffic"},
            }
            with rls.bound_to(TENANT_ID):
                scope = tenant_scope(await Tenant.get(id=TENANT_ID))
                binding = await create_binding(
                    scope,
                    GENERIC,
                    SecretBox(SECRET),
                    BindingInput(name="POS", adapter="http_json", config=config),
                )
                async with aiohttp.ClientSession() as session:
                    syncer = make_syncer(settings, PackManager.discover(), session)
                    started = time.perf_counter()
                    deadline[0] = started + budget
                    run = await syncer.run(scope, binding, "bench")
                    seconds = time.perf_counter() - started
            by_metric = {(k.owner_unit_id, k.metric_code): k.id for k in shape.kpis}
            code_unit = {c: u for u, c in shape.store_codes().items()}
            sent = [
                (
                    by_metric[(code_unit[r["store_code"]], metric)],
                    date.fromisoformat(r["date"]),
                    r[column],
                )
                for r in served
                for column, metric in (("sales", POS_METRICS[0]), ("visitors", POS_METRICS[1]))
            ]
            check(
                run.rows_written == len(sent),
                f"sync wrote {run.rows_written} of {len(sent)} ({run.status}: {run.error})",
            )
            await check_ingested(copy, sent, "adapter sync")
    finally:
        await runner.cleanup()
        await discard(copy)
    return {
        "rows": len(sent),
        "seconds": round(seconds, 2),
        "rows_per_s": round(len(sent) / seconds, 1),
    }


async def ingest_floor(target: Target, rows: list[tuple[int, date, float]]) -> dict[str, Any]:
    """The floor: one ``executemany`` of the same rows into the measurement table."""
    copy = await scratch(target, "floor")
    try:
        from .seed import CREATED

        if copy.path is not None:
            import sqlite3

            conn = sqlite3.connect(copy.path)
            stamp = str(CREATED)
            started = time.perf_counter()
            with conn:
                conn.executemany(
                    "INSERT INTO measurement (created_at, updated_at, period_start, value, "
                    "source, recorded_at, kpi_id, tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (stamp, stamp, d.isoformat(), v, "pos", stamp, k, TENANT_ID)
                        for k, d, v in rows
                    ],
                )
            seconds = time.perf_counter() - started
            (count,) = conn.execute(
                "SELECT count(*) FROM measurement WHERE source = 'pos'",
            ).fetchone()
            conn.close()
        else:
            import asyncpg

            from .seed import asyncpg_dsn

            pg = await asyncpg.connect(asyncpg_dsn(copy.app_url))
            await pg.execute(f"SELECT set_config('goalgraph.tenant_id', '{TENANT_ID}', false)")
            started = time.perf_counter()
            async with pg.transaction():
                await pg.executemany(
                    "INSERT INTO measurement (created_at, updated_at, period_start, value, "
                    "source, recorded_at, kpi_id, tenant_id) "
                    "VALUES ($1, $1, $2, $3, 'pos', $1, $4, $5)",
                    [(CREATED, d, v, k, TENANT_ID) for k, d, v in rows],
                )
            seconds = time.perf_counter() - started
            count = await pg.fetchval("SELECT count(*) FROM measurement WHERE source = 'pos'")
            await pg.close()
        check(count == len(rows), f"floor ingest stored {count} of {len(rows)}")
    finally:
        await discard(copy)
    return {
        "rows": len(rows),
        "seconds": round(seconds, 3),
        "rows_per_s": round(len(rows) / seconds, 1),
    }


async def ingest(target: Target, options: Options) -> list[dict[str, Any]]:
    """Workload c: GraphQL batches and an adapter sync vs ``executemany``."""
    shape = generate(target.size)
    rows = shape.ingest_rows()[: options.ingest_rows]
    bare = await ingest_floor(target, rows)
    out = []
    for batch in options.batches:
        got = await ingest_graphql(target, rows, batch, options.ingest_budget)
        out.append(
            result(
                "ingest",
                target,
                f"graphql×{batch}",
                **got,
                floor=bare,
                ratio=round(got["rows_per_s"] / bare["rows_per_s"], 4),
                check="current",
            )
        )
    got = await ingest_sync(target, shape, options.ingest_budget)
    out.append(
        result(
            "ingest",
            target,
            "sync",
            **got,
            floor=bare,
            ratio=round(got["rows_per_s"] / bare["rows_per_s"], 4),
            check="current",
        )
    )
    return out


# -- d: stage switch ---------------------------------------------------------------------


async def stage_switch(target: Target, options: Options) -> list[dict[str, Any]]:
    """Switch the stage back and forth; time the mutation, and the mutation plus the
    company scorecard read that shows the new weighting (checked against the floor)."""
    raw = await floor.open_raw(target)
    switch_s, reflected_s, floor_switch_s, floor_reflected_s = [], [], [], []
    stages = ["mature", "growth"]
    try:
        async with app_client(target) as client:
            for n in range(options.switches):
                stage = stages[n % 2]
                # the previous round's scorecards (at 100k, millions of objects) are
                # garbage now: collect it here, not inside the next switch's timing
                gc.collect()
                started = time.perf_counter()
                data = await graphql(client, SWITCH, {"stage": stage})
                switched = time.perf_counter()
                card = await graphql(client, COMPANY_CARD, {"cycle": gid("Cycle", CYCLE_ID)})
                done = time.perf_counter()
                check(data["setLifecycleStage"]["tenant"]["stage"] == stage, "stage not switched")
                check(card["scorecard"]["stage"] == stage, "scorecard shows the old stage")
                same(card, orjson.loads(await floor.company_card(raw)), "company scorecard")
                switch_s.append(switched - started)
                reflected_s.append(done - started)
            if options.switches % 2:
                await graphql(client, SWITCH, {"stage": "growth"})
        for n in range(options.switches):
            stage = stages[n % 2]
            gc.collect()
            started = time.perf_counter()
            await floor_switch(raw, stage)
            switched = time.perf_counter()
            answer = orjson.loads(await floor.company_card(raw))
            done = time.perf_counter()
            check(answer["scorecard"]["stage"] == stage, "floor: stage not switched")
            floor_switch_s.append(switched - started)
            floor_reflected_s.append(done - started)
        await floor_switch(raw, "growth")
    finally:
        await raw.close()
    s, r = stats(switch_s), stats(reflected_s)
    fs, fr = stats(floor_switch_s), stats(floor_reflected_s)
    return [
        result(
            "stage_switch",
            target,
            "switch",
            **s,
            floor=fs,
            ratio=round(s["median_ms"] / fs["median_ms"], 2),
            check="equal",
        ),
        result(
            "stage_switch",
            target,
            "until_scorecard",
            **r,
            floor=fr,
            ratio=round(r["median_ms"] / fr["median_ms"], 2),
            check="equal",
        ),
    ]


async def floor_switch(raw: floor.Raw, stage: str) -> None:
    """The floor of a switch: one UPDATE of the tenant row."""
    if isinstance(raw, floor.SqliteRaw):
        with raw.conn:
            raw.conn.execute(
                "UPDATE tenant SET lifecycle_stage = ? WHERE id = ?", (stage, TENANT_ID)
            )
    else:
        assert isinstance(raw, floor.PostgresRaw)
        await raw.pool.execute(
            "UPDATE tenant SET lifecycle_stage = $1 WHERE id = $2", stage, TENANT_ID
        )
