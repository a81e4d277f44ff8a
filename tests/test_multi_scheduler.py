"""Three `goalgraph worker` processes sharing one database and a schedule of 50 due syncs.

Each binding reads its own path of a local fake source (``Feed``), which logs every
request with the binding's key, so "ran exactly once" is counted at the source, not
only from our own ``sync_run`` rows. Then the worker holding a slow sync is killed
(SIGKILL) mid-run; once its lease runs out another worker finishes the job from the
stored cursor, and the stored values equal the source's rows exactly.

PostgreSQL only. On SQLite the claim holds as well (one conditional update under the
file's write lock: each of the 50 jobs was requested once there too), but several
processes cannot share the file for the syncs themselves: a transaction starts
deferred and reads before it writes, and in WAL mode a reader whose snapshot another
process's commit made stale cannot wait for the write lock, so it fails at once with
"database is locked" (most of the 50 runs did). SQLite is the one-process install.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from tortoise.backends.base.executor import EXECUTOR_CACHE

from goalgraph.adapters.bindings import BindingInput, create_binding
from goalgraph.adapters.registry import GENERIC
from goalgraph.core.enums import SyncStatus
from goalgraph.core.models import DataBinding, Kpi, Measurement, SyncJob, SyncRun
from goalgraph.core.secrets import SecretBox
from goalgraph.core.settings import Settings, secret_box_key

from .conftest import POSTGRES_ENV, truncate_postgres
from .factories import TEST_SECRET, Company, make_company
from .test_sync import stored, stores_with_kpis

pytestmark = pytest.mark.skipif(
    not os.environ.get(POSTGRES_ENV), reason=f"several workers share PostgreSQL ({POSTGRES_ENV})"
)

JOBS = 50
#: The slow job: 10 days of one store, two rows a page (pages 1–5 full, page 6 empty);
#: its holder hangs on page 3.
SLOW_DAYS, SLOW_PAGE_SIZE, HANG_PAGE = 10, 2, 3
LEASE_SECONDS = 2.0
POLL_SECONDS = 0.2


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str:
    """The session's PostgreSQL database, emptied, as the app's role (no SQLite run)."""
    EXECUTOR_CACHE.clear()
    asyncio.run(truncate_postgres(request.getfixturevalue("postgres_owner_url")))
    url: str = request.getfixturevalue("postgres_database")
    return url


@dataclass
class Feed:
    """A sales export on 127.0.0.1 that answers every binding on a path of its own,
    ``/feed/<key>/<store>``, and logs each request: (key, page, monotonic time)."""

    first_day: date
    days: dict[str, int] = field(default_factory=dict)
    log: list[tuple[str, int, float]] = field(default_factory=list)
    #: The slow key hangs on HANG_PAGE until ``release`` is set.
    slow_key: str = ""
    hung: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    base: str = ""

    def value(self, key: str, metric: str, offset: int) -> float:
        return (1000.0 if metric == "sales" else 100.0) + offset + len(key)

    def rows(self, key: str, store: str) -> list[dict[str, Any]]:
        return [
            {
                "store_code": store,
                "date": (self.first_day + timedelta(days=i)).isoformat(),
                "sales": self.value(key, "sales", i),
                "visitors": self.value(key, "visitors", i),
            }
            for i in range(self.days[key])
        ]

    def expected(self, key: str, store: str) -> dict[tuple[str, str, date], float]:
        """What the key's syncs must store, by (store, KPI metric, day)."""
        found = {}
        for i in range(self.days[key]):
            day = self.first_day + timedelta(days=i)
            found[(store, "daily_sales", day)] = self.value(key, "sales", i)
            found[(store, "foot_traffic", day)] = self.value(key, "visitors", i)
        return found

    async def handle(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        page, size = int(request.query["page"]), int(request.query["page_size"])
        self.log.append((key, page, time.monotonic()))
        if key == self.slow_key and page == HANG_PAGE and not self.release.is_set():
            self.hung.set()
            await self.release.wait()
        store = request.match_info["store"]
        rows = self.rows(key, store)[(page - 1) * size : page * size]
        return web.json_response({"items": rows})

    def requests(self, key: str) -> list[int]:
        return [page for k, page, _ in self.log if k == key]


@asynccontextmanager
async def serving(feed: Feed) -> AsyncIterator[Feed]:
    app = web.Application()
    app.router.add_get("/feed/{key}/{store}", feed.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    feed.base = f"http://127.0.0.1:{runner.addresses[0][1]}/feed"
    try:
        yield feed
    finally:
        feed.release.set()
        await runner.cleanup()


async def bind(
    company: Company, settings: Settings, feed: Feed, key: str, store: str, **config: Any
) -> DataBinding:
    """A binding of ``key`` on its own path, due now, every hour."""
    return await create_binding(
        company.scope,
        GENERIC,
        SecretBox(secret_box_key(settings)),
        BindingInput(
            name=key,
            adapter="http_json",
            every_minutes=60,
            config={
                "url": f"{feed.base}/{key}/{store}",
                "paging": "page",
                "page_size": 500,
                "items_field": "items",
                "subject_field": "store_code",
                "period_field": "date",
                "values": {"sales": "daily_sales", "visitors": "foot_traffic"},
                "start": feed.first_day.isoformat(),
                "window_days": 31,
                "overlap_days": 0,
                "timeout": 30.0,
                "attempts": 1,
                **config,
            },
        ),
    )


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    log: Path

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


async def start_workers(db_url: str, count: int, logs: Path) -> list[Worker]:
    env = {
        **os.environ,
        "GOALGRAPH_DATABASE_URL": db_url,
        "GOALGRAPH_SECRET": TEST_SECRET,
        "GOALGRAPH_SYNC_POLL_SECONDS": str(POLL_SECONDS),
        "GOALGRAPH_SYNC_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    workers = []
    for i in range(count):
        log = logs / f"worker-{i}.log"
        with log.open("wb") as out:  # a file, not a pipe: nobody reads it while it runs
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "goalgraph.core.cli", "worker", env=env, stderr=out
            )
        workers.append(Worker(process, log))
    return workers


async def stop(workers: list[Worker]) -> None:
    """Kill what still runs (always before reading a stderr)."""
    for w in workers:
        if w.process.returncode is None:
            w.process.kill()
    for w in workers:
        await w.process.wait()


async def wait_for(condition: Any, seconds: float, what: str, workers: list[Worker]) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            await stop(workers)
            logs = "\n".join(w.stderr()[-1500:] for w in workers)
            raise AssertionError(f"{what} did not happen within {seconds} s; workers:\n{logs}")
        await asyncio.sleep(0.1)


async def finished_runs() -> int:
    return await SyncRun.filter(trigger="schedule", finished_at__isnull=False).count()


async def test_three_workers_run_each_due_job_once_and_finish_a_killed_ones(
    client: object, settings: Settings, db_url: str, tmp_path: Path
) -> None:
    acme, beta = await make_company("acme"), await make_company("beta")
    for company in (acme, beta):
        await stores_with_kpis(company, 2)  # s00 for the schedule, s01 for the slow job
    feed = Feed(date.today() - timedelta(days=SLOW_DAYS - 1))
    keys = [f"job{i:02d}" for i in range(JOBS)]
    async with serving(feed):
        for i, key in enumerate(keys):
            feed.days[key] = 3
            await bind(acme if i % 2 else beta, settings, feed, key, "s00")
        workers = await start_workers(db_url, 3, tmp_path)
        try:
            # -- every due job exactly once ------------------------------------------
            async def all_ran() -> bool:
                return await finished_runs() >= JOBS

            await wait_for(all_ran, 40, f"{JOBS} scheduled runs", workers)
            await asyncio.sleep(8 * POLL_SECONDS)  # every worker polls again: nothing due
            per_key = Counter(k for k, _, _ in feed.log)
            runs = Counter(
                r.binding_id for r in await SyncRun.filter(trigger="schedule").only("binding_id")
            )
            done = await SyncRun.filter(trigger="schedule")
            statuses = Counter(r.status for r in done)
            once = sum(1 for k in keys if per_key[k] == 1)
            print(
                f"\nexactly once: {once} of {JOBS} jobs requested once at the source "
                f"({sum(per_key.values())} requests), {len(runs)} bindings with "
                f"{sum(runs.values())} runs"
            )
            assert once == JOBS, f"{once} of {JOBS} jobs ran exactly once: {per_key}"
            assert sum(per_key.values()) == JOBS, f"{sum(per_key.values())} requests"
            assert sorted(runs.values()) == [1] * JOBS, f"runs per binding: {runs}"
            assert statuses == {SyncStatus.SUCCEEDED: JOBS}, {r.error for r in done}
            assert all(w.process.returncode is None for w in workers)

            # -- the holder of a slow job is killed; another worker finishes it --------
            feed.slow_key = "slow"
            feed.days["slow"] = SLOW_DAYS
            slow = await bind(acme, settings, feed, "slow", "s01", page_size=SLOW_PAGE_SIZE)
            async with asyncio.timeout(20):
                await feed.hung.wait()
            holder = (await SyncJob.get(binding_id=slow.id)).lease_owner or ""
            pid = int(holder.rpartition(":")[2])
            victim = next(w for w in workers if w.process.pid == pid)
            victim.process.send_signal(signal.SIGKILL)
            await victim.process.wait()
            killed_at = time.monotonic()
            feed.release.set()  # the source answers the page again

            async def slow_done() -> bool:
                return await SyncRun.filter(
                    binding_id=slow.id, status=SyncStatus.SUCCEEDED
                ).exists()

            await wait_for(slow_done, 20, "the killed worker's job finishing", workers)
            done_at = time.monotonic()
            hung_at = next(t for k, p, t in feed.log if k == "slow" and p == HANG_PAGE)
            resumed_at = next(t for k, _, t in feed.log if k == "slow" and t > killed_at)
            print(
                f"takeover: the next request {resumed_at - killed_at:.2f} s after the kill "
                f"(lease {LEASE_SECONDS:g} s, poll {POLL_SECONDS:g} s), "
                f"job finished {done_at - killed_at:.2f} s after it"
            )
            # the holder read pages 1–3 (stored 1–2); the next worker resumed at page 3
            assert feed.requests("slow") == [1, 2, 3, 3, 4, 5, 6], feed.log
            # not before the lease, renewed just before the hung request, ran out
            assert resumed_at - hung_at >= LEASE_SECONDS - 0.25, resumed_at - hung_at

            expected = feed.expected("slow", "s01")
            found = {k: v for k, v in (await stored(acme)).items() if k[0] == "s01"}
            kpis = [k.id for k in await Kpi.filter(tenant_id=acme.tenant.id, title__endswith="s01")]
            count = await Measurement.filter(kpi_id__in=kpis).count()
            assert (count, found) == (len(expected), expected), "lost or doubled values"

            interrupted, finished = await SyncRun.filter(binding_id=slow.id).order_by("id")
            per_page = 2 * SLOW_PAGE_SIZE  # two readings a row
            assert interrupted.status is SyncStatus.FAILED
            assert interrupted.error.startswith("interrupted"), interrupted.error
            assert interrupted.rows_written == 2 * per_page  # pages 1 and 2
            assert finished.rows_read == finished.rows_written == 3 * per_page  # pages 3–5
            assert interrupted.rows_written + finished.rows_written == len(expected)

            # -- the others stop on SIGTERM, cleanly ------------------------------------
            alive = [w for w in workers if w is not victim]
            for w in alive:
                w.process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):
                codes = [await w.process.wait() for w in alive]
            assert codes == [0, 0], [w.stderr()[-1500:] for w in alive]
        finally:
            await stop(workers)
    for w in workers:
        assert "goalgraph worker: syncs every 0.2 s" in w.stderr(), w.stderr()[-1500:]
